package linalg

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// TestPartialReorth runs p = 1 solves to convergence and checks after every expansion, from
// the vectors themselves, what partial reorthogonalisation promises: the basis and the
// pending direction stay orthonormal to 10·τ (τ = reorthTol), the relation
// A Q = Q T + P Cᵀ holds to 10·τ·‖A‖ (the full-pass coefficients left out of T), and the
// eigenpairs agree with a dense eigendecomposition as with full reorthogonalisation. It also
// counts the full passes, so that it fails if ω were never trusted (a pass every expansion)
// or never tracked (no pass: the orthogonality would fall towards 10⁻⁸ and worse, as in
// plain Lanczos). ‖A‖, the orthogonality and the relation come from dense products, not from
// the solver's estimates.
func TestPartialReorth(t *testing.T) {
	rnd := rand.New(rand.NewPCG(31, 1))
	for _, tc := range []struct {
		name     string
		a        *mat.SymDense
		tol      float64
		maxShare float64 // the most expansions that may take the full pass
	}{
		// Outliers 40·0.7^i over a bulk in [0, 0.5], as a trained net's Hessian: the top
		// pairs converge in a few products, and orthogonality is lost along them fastest.
		{"hessian-like", withSpectrum(hessianSpectrum(1500, 10, 10, 40, 0.7, 0.5, 0.2, rnd), rnd), 1e-10, 0.9},
		// A semicircle: slow convergence, many restarts.
		{"goe", goe(800, rnd), 1e-10, 0.5},
		// A tight tolerance lowers τ with it.
		{"tight", withSpectrum(hessianSpectrum(400, 10, 10, 40, 0.7, 0.5, 0.2, rnd), rnd), 1e-12, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := tc.a.SymmetricDim()
			op := NewDense(tc.a)
			want := eigenvaluesDesc(t, tc.a)
			var normA float64
			for _, v := range want {
				normA = max(normA, math.Abs(v))
			}
			ks := newKrylovSchur(op, EigOptions{K: 10, Tol: tc.tol, Seed: 31}, "test")
			if !ks.partialReorth() {
				t.Fatal("p = 1 does not track ω")
			}
			tau := reorthTol(tc.tol)
			aq := make([]float64, n)
			var worstOrth, worstRel float64
			ks.afterExpand = func() {
				j, np := ks.j, ks.np
				worstOrth = max(worstOrth, orthonormalityError(ks.q[:j+np]))
				for i := 0; i < j; i++ {
					op.MulVecTo(aq, ks.q[i])
					for l := 0; l < j; l++ {
						floats.AddScaled(aq, -ks.t[l*ks.m+i], ks.q[l])
					}
					for r := 0; r < np; r++ {
						floats.AddScaled(aq, -ks.c[r][i], ks.q[j+r])
					}
					worstRel = max(worstRel, floats.Norm(aq, 2)/normA)
				}
			}
			ks.randomStart(1)
			err := ks.run()
			if err != nil {
				t.Fatal(err)
			}
			var worstVal float64
			for i := range ks.k {
				worstVal = max(worstVal, math.Abs(ks.theta[i]-want[i])/normA)
			}
			t.Logf("τ %.1g: orthonormality %.2g, relation %.2g·‖A‖, eigenvalues %.2g·‖A‖, full passes %d of %d expansions, %d restarts",
				tau, worstOrth, worstRel, worstVal, ks.fullPasses, ks.expansions, ks.restarts)
			if worstOrth > 10*tau {
				t.Errorf("orthonormality error %.3g > 10·τ = %.3g", worstOrth, 10*tau)
			}
			if worstRel > 10*tau {
				t.Errorf("relation error %.3g·‖A‖ > 10·τ", worstRel)
			}
			if worstVal > 1e-12 {
				t.Errorf("eigenvalues: worst error %.3g·‖A‖ > 1e-12", worstVal)
			}
			if ks.fullPasses == 0 || float64(ks.fullPasses) > tc.maxShare*float64(ks.expansions) {
				t.Errorf("full passes in %d of %d expansions, want some and at most %.0f%%", ks.fullPasses, ks.expansions, 100*tc.maxShare)
			}
		})
	}
}
