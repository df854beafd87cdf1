package linalg

// Symbols used in this file:
//
//	n  order of the operators (Dim)
//	k  number of basis vectors, len(V)
//	m  number of random samples
//	J  number of operators evaluated together

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
)

// Estimate is a Monte Carlo mean with its standard error.
type Estimate struct {
	// Mean is the sample mean.
	Mean float64

	// StdErr is the standard error of Mean, the sample standard
	// deviation over √Samples.
	StdErr float64

	// Samples is the number of samples.
	Samples int
}

// MulFunc computes the products of one input with a family of J symmetric
// operators of the same order n: dst[j] = A_j z for j < J. The vectors of
// dst have length n; dst and z do not overlap. It lets several operators
// share their random vectors and their work, for example H z, G z and
// F z = H z − G z from one pass.
type MulFunc func(dst [][]float64, z []float64)

// rademacher draws vectors with independent entries ±1, each with
// probability ½, from a PCG generator seeded with seed. The sequence of
// vectors depends only on the seed and n.
type rademacher struct {
	rnd  *rand.Rand
	bits uint64
	left int
}

func newRademacher(seed uint64) *rademacher {
	return &rademacher{rnd: rand.New(rand.NewPCG(seed, 0xda3e39cb94b95bdb))}
}

func (r *rademacher) fill(z []float64) {
	for i := range z {
		if r.left == 0 {
			r.bits, r.left = r.rnd.Uint64(), 64
		}
		z[i] = float64(int(r.bits&1)*2 - 1)
		r.bits >>= 1
		r.left--
	}
}

// FrobeniusSq estimates the squared Frobenius norm of the symmetric
// operator A by Hutchinson's estimator with Rademacher vectors,
//
//	‖A‖²_F = tr(A²) = E ‖A z‖²,  zᵢ = ±1,
//
// from m = samples products. The variance of one sample is
// 2(‖A²‖²_F − Σᵢ (A²)ᵢᵢ²), zero for a diagonal A. The z sequence depends
// only on seed and Dim, so calls with the same seed on different operators
// use the same vectors (correlated errors, as for a difference); see
// FrobeniusSqFunc to share the products too. samples must be at least 2.
//
// Reference:
//
//	M. F. Hutchinson, A stochastic estimator of the trace of the influence
//	matrix for Laplacian smoothing splines, Commun. Stat. Simul. Comput.
//	18 (1989) 1059–1076.
func FrobeniusSq(op Operator, samples int, seed uint64) Estimate {
	return FrobeniusSqFunc(op.Dim(), 1, samples, seed, func(dst [][]float64, z []float64) {
		op.MulVecTo(dst[0], z)
	})[0]
}

// FrobeniusSqFunc estimates ‖A_j‖²_F for the J = nops operators evaluated
// by mul, all on the same Rademacher vectors z (the sequence FrobeniusSq
// uses for the same seed and dim), from samples calls of mul.
func FrobeniusSqFunc(dim, nops, samples int, seed uint64, mul MulFunc) []Estimate {
	if samples < 2 {
		panic(fmt.Sprintf("linalg: FrobeniusSq: samples = %d, want ≥ 2", samples))
	}
	if nops < 1 || dim < 0 {
		panic(fmt.Sprintf("linalg: FrobeniusSqFunc: dim = %d, nops = %d", dim, nops))
	}
	rd := newRademacher(seed)
	z := make([]float64, dim)
	dst := vectors(nops, dim)
	acc := make([]Welford, nops)
	for s := 0; s < samples; s++ {
		rd.fill(z)
		mul(dst, z)
		for j, d := range dst {
			acc[j].Add(floats.Dot(d, d))
		}
	}
	est := make([]Estimate, nops)
	for j := range est {
		est[j] = acc[j].Estimate()
	}
	return est
}

// EnergyResult is the share of an operator's squared Frobenius mass that
// lies in a subspace span(V).
type EnergyResult struct {
	// Fraction is
	//
	//	E_A = ‖Vᵀ A V‖²_F / ‖A‖²_F,
	//
	// in [0, 1] up to the noise of the denominator.
	Fraction float64

	// StdErr is the standard error of Fraction by the delta method,
	// E_A · StdErr(‖A‖²_F) / ‖A‖²_F; the numerator is exact.
	StdErr float64

	// Dom is ‖Vᵀ A V‖²_F, exact.
	Dom float64

	// Total estimates ‖A‖²_F.
	Total Estimate

	// Diag holds vᵢᵀ A vᵢ, the curvature along each basis vector, exact.
	Diag []float64
}

// Energy computes the curvature-energy fraction of the symmetric operator
// A in the subspace spanned by the orthonormal basis V (k vectors of
// length Dim),
//
//	E_A = ‖Vᵀ A V‖²_F / ‖A‖²_F,
//
// with the numerator exact from the k products A vᵢ and the denominator
// estimated from samples more products. The denominator is split along
// P_dom = V Vᵀ and P_bulk = I − V Vᵀ,
//
//	‖A‖²_F = tr(A² P_dom) + tr(P_bulk A² P_bulk)
//	       = Σᵢ ‖A vᵢ‖² + E ‖A P_bulk z‖²,  zᵢ = ±1,
//
// so the first part is exact (it reuses the k products) and only the Bulk
// part is estimated by Hutchinson's method, which removes the variance of
// the dominant eigenvalues from the estimate. The raw z are those of
// FrobeniusSq for the same seed. samples must be at least 2.
func Energy(op Operator, V [][]float64, samples int, seed uint64) EnergyResult {
	return EnergyFunc(op.Dim(), 1, V, samples, seed, func(dst [][]float64, z []float64) {
		op.MulVecTo(dst[0], z)
	})[0]
}

// EnergyFunc is Energy for the J = nops operators evaluated by mul, all on
// the same basis vectors and the same random vectors, for k + samples calls
// of mul. Energy fractions of related operators (H, G and F = H − G) are
// then computed from one pass and their errors are correlated.
func EnergyFunc(dim, nops int, V [][]float64, samples int, seed uint64, mul MulFunc) []EnergyResult {
	res, _ := CancelableEnergyFunc(dim, nops, V, samples, seed, mul, nil)
	return res
}

// CancelableEnergyFunc is EnergyFunc that calls cancel (if not nil) before every call of
// mul. When cancel returns true it returns at once, with no result and an error wrapping
// ErrCanceled that counts the products made: a large samples count is stopped within one
// product, not after drawing and projecting every remaining random vector.
func CancelableEnergyFunc(dim, nops int, V [][]float64, samples int, seed uint64, mul MulFunc, cancel func() bool) ([]EnergyResult, error) {
	if samples < 2 {
		panic(fmt.Sprintf("linalg: Energy: samples = %d, want ≥ 2", samples))
	}
	if nops < 1 || dim < 0 {
		panic(fmt.Sprintf("linalg: EnergyFunc: dim = %d, nops = %d", dim, nops))
	}
	for i, v := range V {
		if len(v) != dim {
			panic(fmt.Sprintf("linalg: Energy: len(V[%d]) = %d, want Dim = %d", i, len(v), dim))
		}
	}
	k := len(V)
	dst := vectors(nops, dim)
	res := make([]EnergyResult, nops)
	exact := make([]float64, nops) // Σᵢ ‖A vᵢ‖²
	for j := range res {
		res[j].Diag = make([]float64, k)
	}
	products := 0
	canceled := func() error {
		if cancel != nil && cancel() {
			return fmt.Errorf("%w after %d of %d products", ErrCanceled, products, k+samples)
		}
		products++
		return nil
	}
	// Vᵀ A V, one column a product: Mₗᵢ = vₗᵀ (A vᵢ).
	for i, v := range V {
		if err := canceled(); err != nil {
			return nil, err
		}
		mul(dst, v)
		for j, d := range dst {
			for l, u := range V {
				m := floats.Dot(u, d)
				res[j].Dom += m * m
				if l == i {
					res[j].Diag[i] = m
				}
			}
			exact[j] += floats.Dot(d, d)
		}
	}
	rd := newRademacher(seed)
	z := make([]float64, dim)
	acc := make([]Welford, nops)
	for s := 0; s < samples; s++ {
		if err := canceled(); err != nil {
			return nil, err
		}
		rd.fill(z)
		ProjectBulk(z, V, z)
		mul(dst, z)
		for j, d := range dst {
			acc[j].Add(floats.Dot(d, d))
		}
	}
	for j := range res {
		r := &res[j]
		bulk := acc[j].Estimate()
		r.Total = Estimate{Mean: exact[j] + bulk.Mean, StdErr: bulk.StdErr, Samples: samples}
		if r.Total.Mean > 0 {
			r.Fraction = r.Dom / r.Total.Mean
			r.StdErr = r.Fraction * r.Total.StdErr / r.Total.Mean
		}
	}
	return res, nil
}

// Welford accumulates a mean and a variance in one pass (Welford 1962), for an Estimate of
// samples that come one at a time.
type Welford struct {
	n       int
	mean, s float64 // s = Σ (x − mean)²
}

// Add adds one sample.
func (w *Welford) Add(x float64) {
	w.n++
	d := x - w.mean
	w.mean += d / float64(w.n)
	w.s += d * (x - w.mean)
}

// Estimate is the mean and its standard error, the sample standard deviation over √n (0 for
// one sample; Mean 0 and Samples 0 for none).
func (w *Welford) Estimate() Estimate {
	e := Estimate{Mean: w.mean, Samples: w.n}
	if w.n > 1 {
		e.StdErr = math.Sqrt(w.s / float64(w.n-1) / float64(w.n))
	}
	return e
}

// vectors returns k zero vectors of length n.
func vectors(k, n int) [][]float64 {
	v := make([][]float64, k)
	for i := range v {
		v[i] = make([]float64, n)
	}
	return v
}
