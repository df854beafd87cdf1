package linalg

import (
	"math"

	"gonum.org/v1/gonum/floats"
)

// Refine computes the k largest algebraic eigenpairs of A like Lanczos, but
// starts from prev, an orthonormal basis of the wanted subspace of a nearby
// operator (typically the Vectors of the previous refresh, while training
// moves the parameters a little between refreshes).
//
// The Krylov space is started from the sum of the previous vectors (for
// BlockSize p > 1, from p sums over the vectors i ≡ r mod p),
//
//	q₀ = Σᵢ prevᵢ / ‖Σᵢ prevᵢ‖,
//
// whose components outside the wanted subspace are only as large as the
// change of the operator, so the filtering work Lanczos spends on a random
// start is mostly skipped. Tolerance, result and stopping rule are those of
// Lanczos.
//
// The K largest pairs are found even if the change reorders them, because
// a change that moves eigenvalues also turns eigenvectors, which gives a
// newcomer a component in q₀ of the order of the change, and Lanczos
// amplifies it. A change that moved eigenvalues while leaving span(prev)
// invariant to within Tol would hide an eigenvalue overtaking λ_K (no
// residual can reveal a missing eigenvector); an occasional cold Lanczos
// is a cheap guard.
//
// The saving is in the filtering only. Any Krylov method needs K products
// to span K vectors, and Refine spends K more to check the true residuals
// (unless opt.EstimateResiduals), so even an exact prev costs 2K products;
// a cold Lanczos costs 2K plus the filtering products.
//
// If prev is empty, or a vector of prev does not have length Dim (the
// operator changed shape), or the vectors sum to zero, Refine is a cold
// Lanczos run. If prev holds fewer than K vectors (K grew), a random unit
// vector is added to each start vector, so the missing directions are
// found as from a cold start. Extra vectors (K shrank) are used too. prev
// is not modified.
//
// Refine allocates its basis for each call; an Eigensolver keeps it
// between calls.
func Refine(op Operator, prev [][]float64, opt EigOptions) (EigResult, error) {
	var s Eigensolver
	var r EigResult
	err := s.solve(&r, op, prev, opt, "Refine")
	return r, err
}

// warmStart adds up to p pending directions built from prev.
func (ks *krylovSchur) warmStart(prev [][]float64) {
	if len(prev) == 0 {
		return
	}
	for _, v := range prev {
		if len(v) != ks.n {
			return
		}
	}
	if ks.work == nil {
		ks.work = make([]float64, ks.n)
	}
	x := ks.work
	for r := 0; r < min(ks.p, len(prev)); r++ {
		clear(x)
		for i := r; i < len(prev); i += ks.p {
			floats.Add(x, prev[i])
		}
		if norm := floats.Norm(x, 2); !(norm > 0) || math.IsInf(norm, 0) {
			continue
		}
		if len(prev) < ks.k {
			floats.Scale(1/floats.Norm(x, 2), x)
			// A random vector of norm about 1.
			sd := 1 / math.Sqrt(float64(ks.n))
			for i := range x {
				x[i] += sd * ks.rnd.NormFloat64()
			}
		}
		ks.addPending(x)
	}
}
