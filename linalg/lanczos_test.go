package linalg

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/floats/scalar"
	"gonum.org/v1/gonum/mat"
)

func TestLanczosGOE(t *testing.T) {
	// A random symmetric matrix: the top of the semicircle is crowded
	// (spacing ~ n^(−2/3)), so this needs restarts.
	rnd := rand.New(rand.NewPCG(1, 1))
	a := goe(300, rnd)
	want := eigenvaluesDesc(t, a)[:10] // from a dense eigendecomposition
	r, err := Lanczos(NewDense(a), EigOptions{K: 10, Seed: 1})
	checkPairs(t, r, err, a, want, 1e-9, 1e-8)
	if r.Restarts == 0 {
		t.Errorf("expected restarts with MaxBasis 40 on a crowded spectrum")
	}
	if math.Abs(r.Scale-math.Max(want[0], -eigenvaluesDesc(t, a)[299])) > 1e-6 {
		t.Errorf("Scale = %v, want ‖A‖₂", r.Scale)
	}
}

func TestLanczosHessianSpectrum(t *testing.T) {
	// Ten outliers 40·0.7^i over a bulk in [0, 0.5] and ten eigenvalues in
	// [−0.2, 0]; the reference is the constructed spectrum.
	rnd := rand.New(rand.NewPCG(2, 1))
	lam := hessianSpectrum(500, 10, 10, 40, 0.7, 0.5, 0.2, rnd)
	a := withSpectrum(lam, rnd)
	r, err := Lanczos(NewDense(a), EigOptions{K: 10, Seed: 2})
	checkPairs(t, r, err, a, lam[:10], 1e-9, 1e-8)
	if !scalar.EqualWithinAbsOrRel(r.Scale, lam[0], 1e-9, 1e-9) {
		t.Errorf("Scale = %v, want λ₁ = %v", r.Scale, lam[0])
	}
}

func TestLanczosRepeatedAndClustered(t *testing.T) {
	// λ₁ = λ₂ = λ₃ = 5 exactly, then a cluster of three within 2e-6 and
	// three more within 1e-3; the reference is the constructed spectrum.
	rnd := rand.New(rand.NewPCG(3, 1))
	n := 400
	lam := make([]float64, n)
	copy(lam, []float64{5, 5, 5, 3 + 1e-6, 3, 3 - 1e-6, 2.001, 2, 1.999})
	for i := 9; i < n; i++ {
		lam[i] = 1.5 * float64(n-i) / float64(n)
	}
	a := withSpectrum(lam, rnd)
	r, err := Lanczos(NewDense(a), EigOptions{K: 9, Seed: 3})
	checkPairs(t, r, err, a, lam[:9], 1e-9, 1e-8)
}

func TestLanczosBlockMultiplicity(t *testing.T) {
	// diag with every value i%50/50 six times and 3 three times: the top
	// five are 3, 3, 3, 0.98, 0.98. A single start vector finds one copy
	// of 0.98 (its Krylov space holds one vector of each eigenspace; the
	// copies of 3 are seeded by rounding); two start vectors find two.
	n := 300
	d := make(diagOp, n)
	for i := range d {
		d[i] = float64(i%50) / 50
	}
	d[7], d[100], d[200] = 3, 3, 3
	want := slices.Clone([]float64(d))
	slices.Sort(want)
	slices.Reverse(want) // the spectrum of a diagonal operator
	r, err := Lanczos(d, EigOptions{K: 5, Seed: 4, BlockSize: 2})
	checkPairs(t, r, err, nil, want[:5], 1e-12, 1e-10)
}

func TestLanczosNegativeDominant(t *testing.T) {
	// The largest algebraic eigenvalues are small and positive; the
	// largest in magnitude is −100. Reference: the constructed spectrum.
	rnd := rand.New(rand.NewPCG(5, 1))
	n := 200
	lam := make([]float64, n)
	for i := range lam {
		lam[i] = 1 - 101*math.Pow(float64(i)/float64(n-1), 0.5)
	}
	a := withSpectrum(lam, rnd)
	r, err := Lanczos(NewDense(a), EigOptions{K: 4, Seed: 5})
	checkPairs(t, r, err, a, lam[:4], 1e-10*100, 1e-8)
	// σ is the largest |θ| seen, a lower bound on ‖A‖₂ = 100 that the
	// bottom Ritz values approach without being asked to converge.
	if r.Scale > 100 || r.Scale < 99 {
		t.Errorf("Scale = %v, want just below ‖A‖₂ = 100", r.Scale)
	}
}

func TestLanczosKAtLeastDim(t *testing.T) {
	rnd := rand.New(rand.NewPCG(6, 1))
	a := goe(7, rnd)
	want := eigenvaluesDesc(t, a) // from a dense eigendecomposition
	for _, k := range []int{7, 8, 50} {
		r, err := Lanczos(NewDense(a), EigOptions{K: k, Seed: 6})
		checkPairs(t, r, err, a, want, 1e-12, 1e-10)
	}
	// MaxBasis larger than Dim is cut to Dim.
	r, err := Lanczos(NewDense(a), EigOptions{K: 3, MaxBasis: 100, Seed: 6})
	checkPairs(t, r, err, a, want[:3], 1e-12, 1e-10)
	// One dimension.
	r, err = Lanczos(diagOp{-2}, EigOptions{K: 3})
	checkPairs(t, r, err, nil, []float64{-2}, 0, 0)
	// Zero dimensions.
	r, err = Lanczos(diagOp{}, EigOptions{K: 3})
	if err != nil || !r.Converged || len(r.Values) != 0 {
		t.Errorf("Dim 0: got %+v, %v", r, err)
	}
}

func TestLanczosDiagonal(t *testing.T) {
	// diag(1, 1/2, 1/3, …): the spectrum is known exactly.
	n := 2000
	d := make(diagOp, n)
	for i := range d {
		d[i] = 1 / float64(i+1)
	}
	r, err := Lanczos(d, EigOptions{K: 6, Seed: 7, Tol: 1e-12})
	checkPairs(t, r, err, nil, d[:6], 1e-12, 1e-12)
	for i, v := range r.Vectors {
		// vᵢ = ±eᵢ
		if math.Abs(math.Abs(v[i])-1) > 1e-10 {
			t.Errorf("vector %d: |v[%d]| = %v, want 1", i, i, math.Abs(v[i]))
		}
	}
}

func TestLanczosInvariantSubspaces(t *testing.T) {
	// Three distinct eigenvalues: every Krylov space is invariant after
	// three steps, and the copies come from random restarts.
	n := 60
	d := make(diagOp, n)
	for i := range d {
		switch {
		case i%20 == 0:
			d[i] = 3 // 3 copies
		case i%4 == 1:
			d[i] = 2 // 15 copies
		default:
			d[i] = 1
		}
	}
	r, err := Lanczos(d, EigOptions{K: 6, Seed: 8})
	checkPairs(t, r, err, nil, []float64{3, 3, 3, 2, 2, 2}, 1e-13, 1e-10)

	// The zero operator: one product and done.
	r, err = Lanczos(diagOp(make([]float64, 20)), EigOptions{K: 3, Seed: 8})
	checkPairs(t, r, err, nil, []float64{0, 0, 0}, 0, 0)
}

func TestLanczosEstimateResiduals(t *testing.T) {
	rnd := rand.New(rand.NewPCG(9, 1))
	a := goe(300, rnd)
	want := eigenvaluesDesc(t, a)[:10] // from a dense eigendecomposition
	checked, err := Lanczos(NewDense(a), EigOptions{K: 10, Seed: 9})
	checkPairs(t, checked, err, a, want, 1e-9, 1e-8)
	r, err := Lanczos(NewDense(a), EigOptions{K: 10, Seed: 9, EstimateResiduals: true})
	if err != nil || !r.Converged {
		t.Fatalf("EstimateResiduals: %v", err)
	}
	if r.Products != checked.Products-10 {
		t.Errorf("EstimateResiduals: %d products, want %d − K", r.Products, checked.Products)
	}
	for i, y := range r.Vectors {
		// The estimate agrees with the true residual to rounding.
		res := denseResidual(a, r.Values[i], y)
		if math.Abs(res-r.Residuals[i]) > 1e-13*r.Scale {
			t.Errorf("pair %d: estimate %.3g, true residual %.3g", i, r.Residuals[i], res)
		}
	}
}

func TestLanczosNotConverged(t *testing.T) {
	rnd := rand.New(rand.NewPCG(10, 1))
	a := goe(300, rnd)
	r, err := Lanczos(NewDense(a), EigOptions{K: 10, Seed: 10, MaxProducts: 40})
	if !errors.Is(err, ErrNotConverged) || r.Converged {
		t.Fatalf("got Converged %v, err %v; want ErrNotConverged", r.Converged, err)
	}
	if r.Products > 40 || len(r.Values) != 10 || len(r.Residuals) != 10 {
		t.Errorf("got %d products, %d values, %d residuals", r.Products, len(r.Values), len(r.Residuals))
	}
	for i, y := range r.Vectors {
		// Unconverged residuals are still true residuals.
		if res := denseResidual(a, r.Values[i], y); math.Abs(res-r.Residuals[i]) > 1e-12 {
			t.Errorf("pair %d: reported residual %.3g, recomputed %.3g", i, r.Residuals[i], res)
		}
	}
	// A tolerance below rounding: stops on the budget, not in a loop.
	r, err = Lanczos(NewDense(a), EigOptions{K: 2, Seed: 10, Tol: 1e-18, MaxProducts: 200})
	if !errors.Is(err, ErrNotConverged) || r.Products > 200 {
		t.Errorf("Tol 1e-18: %d products, err %v", r.Products, err)
	}
}

func TestLanczosNotFinite(t *testing.T) {
	op := Func{N: 10, Mul: func(dst, x []float64) {
		for i := range dst {
			dst[i] = math.NaN()
		}
	}}
	_, err := Lanczos(op, EigOptions{K: 2})
	if !errors.Is(err, ErrNotFinite) {
		t.Errorf("got %v, want ErrNotFinite", err)
	}
}

func TestLanczosDeterministic(t *testing.T) {
	rnd := rand.New(rand.NewPCG(11, 1))
	a := goe(100, rnd)
	r1, _ := Lanczos(NewDense(a), EigOptions{K: 5, Seed: 42})
	r2, _ := Lanczos(NewDense(a), EigOptions{K: 5, Seed: 42})
	if r1.Products != r2.Products || !slices.Equal(r1.Values, r2.Values) {
		t.Errorf("same seed, different results: %v (%d) vs %v (%d)", r1.Values, r1.Products, r2.Values, r2.Products)
	}
	for i := range r1.Vectors {
		if !slices.Equal(r1.Vectors[i], r2.Vectors[i]) {
			t.Errorf("same seed, vector %d differs", i)
		}
	}
}

func TestLanczosCounter(t *testing.T) {
	rnd := rand.New(rand.NewPCG(12, 1))
	c := &Counter{Op: NewDense(goe(100, rnd))}
	r, err := Lanczos(c, EigOptions{K: 3, Seed: 1})
	if err != nil || c.Products != r.Products {
		t.Errorf("Counter saw %d products, result says %d (err %v)", c.Products, r.Products, err)
	}
}

func TestLanczosPanics(t *testing.T) {
	op := diagOp(make([]float64, 50))
	for _, opt := range []EigOptions{
		{K: 0},
		{K: 3, Tol: -1},
		{K: 3, Tol: math.NaN()},
		{K: 5, MaxBasis: 6},
		{K: 5, MaxProducts: 3},
		{K: 3, BlockSize: -1},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%+v: no panic", opt)
				}
			}()
			Lanczos(op, opt)
		}()
	}
}

func TestDenseCopiesGeneralSymmetric(t *testing.T) {
	// A mat.Symmetric that is not a RawSymmetricer is copied.
	rnd := rand.New(rand.NewPCG(13, 1))
	a := goe(20, rnd)
	var e mat.EigenSym
	e.Factorize(a, true)
	op := NewDense(&e) // EigenSym is a mat.Symmetric without raw storage
	x := make([]float64, 20)
	for i := range x {
		x[i] = rnd.NormFloat64()
	}
	got, want := make([]float64, 20), make([]float64, 20)
	op.MulVecTo(got, x)
	NewDense(a).MulVecTo(want, x)
	if !floats.EqualApprox(got, want, 1e-12) {
		t.Errorf("Dense(EigenSym) product differs from Dense(SymDense)")
	}
}

func TestKrylovSchurRelation(t *testing.T) {
	// Drive the iteration by hand through expansions and thick restarts
	// and check the invariants it rests on, from dense products:
	//	A Q_j = Q_j T_j + P Cᵀ,  [Q_j P] orthonormal.
	rnd := rand.New(rand.NewPCG(14, 1))
	n := 150
	a := goe(n, rnd)
	for _, p := range []int{1, 3} {
		ks := newKrylovSchur(NewDense(a), EigOptions{K: 4, MaxBasis: 12, BlockSize: p, Seed: 14}, "test")
		ks.randomStart(p)
		for step := 0; step < 40; step++ {
			if ks.j == ks.m {
				if err := ks.ritz(); err != nil {
					t.Fatal(err)
				}
				ks.rotate(ks.keep())
			}
			if err := ks.expand(); err != nil {
				t.Fatal(err)
			}
			if step%7 != 6 {
				continue
			}
			j, np := ks.j, ks.np
			if e := orthonormalityError(ks.q[:j+np]); e > 1e-13 {
				t.Errorf("p=%d step %d: [Q P] orthonormality error %.3g", p, step, e)
			}
			var worst float64
			aq := make([]float64, n)
			for i := 0; i < j; i++ {
				// A qᵢ − Σₗ T_li qₗ − Σᵣ C_ri pᵣ
				NewDense(a).MulVecTo(aq, ks.q[i])
				for l := 0; l < j; l++ {
					floats.AddScaled(aq, -ks.t[l*ks.m+i], ks.q[l])
				}
				for r := 0; r < np; r++ {
					floats.AddScaled(aq, -ks.c[r][i], ks.q[j+r])
				}
				worst = max(worst, floats.Norm(aq, 2))
			}
			if worst > 1e-13 {
				t.Errorf("p=%d step %d (j=%d): ‖A Q − Q T − P Cᵀ‖ column max %.3g", p, step, j, worst)
			}
		}
	}
}
