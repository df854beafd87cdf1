package linalg

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
)

// DefaultPowerTol is the relative residual tolerance used when
// PowerOptions.Tol is zero.
const DefaultPowerTol = 1e-6

// PowerOptions configures Power.
type PowerOptions struct {
	// Tol is the relative residual tolerance: the returned pair satisfies
	//
	//	‖A x − θ x‖ ≤ Tol · σ,
	//
	// σ = PowerResult.Scale ≈ ‖A‖₂. Zero means DefaultPowerTol. Because
	// the eigenvalue error is of order ‖A x − θ x‖²/gap, θ is much more
	// accurate than x.
	Tol float64

	// MaxProducts caps the number of operator products. Zero means 1000.
	MaxProducts int

	// Start is an optional start vector of length Dim (for example the
	// previous v₁); it is not modified. If nil, the start is random.
	Start []float64

	// Seed seeds the PCG generator of the random start vector.
	Seed uint64
}

// PowerResult holds the eigenpair found by Power.
type PowerResult struct {
	// Value is θ = xᵀ A x, the estimate of λ₁.
	Value float64

	// Vector is x, a unit vector of length Dim.
	Vector []float64

	// Residual is ‖A x − θ x‖, absolute.
	Residual float64

	// Scale is σ, the largest ‖A x‖ seen over unit x, a lower bound on
	// ‖A‖₂ and the quantity the tolerance is relative to.
	Scale float64

	// Shift is the μ of the second phase (see Power), or 0.
	Shift float64

	// Products is the number of operator products spent.
	Products int

	// Converged reports whether the tolerance was met.
	Converged bool
}

// Power estimates the largest algebraic eigenvalue λ₁ of the symmetric
// operator A and its eigenvector by power iteration,
//
//	x ← (A − μ I) x / ‖(A − μ I) x‖,  θ = xᵀ A x,
//
// one product a step; the residual ‖A x − θ x‖ comes from the same
// product. Power iteration converges to the eigenvalue of largest
// magnitude, at the rate |λ₂/λ₁| per step, so Power works in two phases:
//
//   - μ = 0 for up to half of the budget. If this converges to θ ≥ 0,
//     θ is the dominant eigenvalue and, being positive, λ₁.
//   - If it converged to θ < 0 (then θ = λₙ, the most negative), Power
//     restarts from a random vector with μ = θ, so A − μ I is positive
//     semidefinite and its dominant eigenvalue is λ₁ − μ. If it did not
//     converge (for example λₙ = −λ₁, where plain iteration oscillates),
//     it restarts with μ = −σ, the norm estimate.
//
// Power is meant for cheap, frequent sharpness tracking, warm started from
// the previous vector; use Lanczos when λ₁ and λ₂ are close or for more
// than one pair. It returns a wrapped ErrNotConverged, with the best pair
// found, if the tolerance is not met within the budget.
func Power(op Operator, opt PowerOptions) (PowerResult, error) {
	n := op.Dim()
	if opt.Tol < 0 || math.IsNaN(opt.Tol) {
		panic(fmt.Sprintf("linalg: Power: Tol = %v, want Tol ≥ 0", opt.Tol))
	}
	if opt.MaxProducts < 0 || (opt.MaxProducts > 0 && opt.MaxProducts < 2) {
		panic(fmt.Sprintf("linalg: Power: MaxProducts = %d, want 0 or ≥ 2", opt.MaxProducts))
	}
	if opt.Start != nil && len(opt.Start) != n {
		panic(fmt.Sprintf("linalg: Power: len(Start) = %d, want Dim = %d", len(opt.Start), n))
	}
	if n == 0 {
		return PowerResult{Converged: true}, nil
	}
	tol := opt.Tol
	if tol == 0 {
		tol = DefaultPowerTol
	}
	budget := opt.MaxProducts
	if budget == 0 {
		budget = 1000
	}
	rnd := rand.New(rand.NewPCG(opt.Seed, 0x9e3779b97f4a7c15))
	x := make([]float64, n)
	if opt.Start != nil {
		copy(x, opt.Start)
	}
	if norm := floats.Norm(x, 2); norm > 0 && !math.IsInf(norm, 0) {
		floats.Scale(1/norm, x)
	} else {
		randomUnit(x, rnd)
	}
	it := powerIteration{op: op, x: x, y: make([]float64, n), tol: tol}

	ok, err := it.run(0, budget/2)
	if err != nil {
		return it.result(0), err
	}
	if ok && it.theta >= 0 {
		return it.result(0), nil
	}
	shift := -it.scale
	if ok {
		shift = it.theta
	}
	// Restart from random: x is (near) an eigenvector of λₙ, which A − μI
	// annihilates, or sits between ±‖A‖.
	randomUnit(it.x, rnd)
	ok, err = it.run(shift, budget-it.products)
	r := it.result(shift)
	if err != nil {
		return r, err
	}
	if !ok {
		if it.best.res < r.Residual {
			r.Value, r.Residual = it.best.theta, it.best.res
			copy(r.Vector, it.best.x)
		}
		return r, fmt.Errorf("%w: Power: %d products, relative residual %.3g (tolerance %.3g)",
			ErrNotConverged, r.Products, r.Residual/r.Scale, tol)
	}
	return r, nil
}

type powerIteration struct {
	op         Operator
	x, y       []float64
	tol        float64
	theta, res float64
	scale      float64
	products   int
	best       struct {
		theta, res float64
		x          []float64
	}
}

// run iterates x ← (A − μI)x/‖·‖ for at most budget products and reports
// whether the residual met the tolerance. On return x is the unit vector
// whose Rayleigh quotient and residual are theta and res.
func (it *powerIteration) run(mu float64, budget int) (bool, error) {
	for p := 0; p < budget; p++ {
		// y = A x, θ = xᵀ y, r = ‖y − θ x‖
		it.op.MulVecTo(it.y, it.x)
		it.products++
		it.theta = floats.Dot(it.x, it.y)
		ny := floats.Norm(it.y, 2)
		if math.IsNaN(ny) || math.IsInf(ny, 0) || math.IsNaN(it.theta) {
			return false, fmt.Errorf("%w (Power, after %d products)", ErrNotFinite, it.products)
		}
		it.scale = max(it.scale, ny)
		// ‖y − θx‖² = ‖y‖² − θ², x a unit vector; computed directly to
		// avoid cancellation.
		var r2 float64
		for i, yi := range it.y {
			d := yi - it.theta*it.x[i]
			r2 += d * d
		}
		it.res = math.Sqrt(r2)
		if it.best.x == nil || it.res < it.best.res {
			if it.best.x == nil {
				it.best.x = make([]float64, len(it.x))
			}
			it.best.theta, it.best.res = it.theta, it.res
			copy(it.best.x, it.x)
		}
		if it.res <= it.tol*it.scale {
			return true, nil
		}
		if p+1 == budget {
			break
		}
		// x ← (y − μ x)/‖y − μ x‖
		floats.AddScaled(it.y, -mu, it.x)
		nz := floats.Norm(it.y, 2)
		if nz == 0 {
			// x is an eigenvector of A with eigenvalue μ; the residual
			// test above has caught it unless the tolerance is 0.
			return it.res <= it.tol*it.scale, nil
		}
		floats.ScaleTo(it.x, 1/nz, it.y)
	}
	return false, nil
}

func (it *powerIteration) result(shift float64) PowerResult {
	return PowerResult{
		Value:     it.theta,
		Vector:    it.x,
		Residual:  it.res,
		Scale:     it.scale,
		Shift:     shift,
		Products:  it.products,
		Converged: it.res <= it.tol*it.scale,
	}
}

// randomUnit fills x with a random unit vector.
func randomUnit(x []float64, rnd *rand.Rand) {
	for i := range x {
		x[i] = rnd.NormFloat64()
	}
	floats.Scale(1/floats.Norm(x, 2), x)
}
