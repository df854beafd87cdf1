package linalg

import "errors"

// An Eigensolver runs Lanczos and Refine again and again, as a per-step
// eigenspace refresh does, in memory it keeps between calls: the Krylov
// basis (MaxBasis+BlockSize+1 vectors of length Dim, the bulk of it), the
// projected matrix and the scratch of the Ritz step. The first call
// allocates them; later calls with the same Dim, MaxBasis and BlockSize (K
// fixes the default MaxBasis) allocate nothing, and other calls reallocate
// what changed.
//
// The pairs are copied into a caller's EigResult, never left in the
// solver's basis, so a caller can keep the previous basis while the next
// refresh runs and then swap. For a per-step refresh of the top k
// eigenvectors and λ_{k+1}:
//
//	var s linalg.Eigensolver
//	var cur, next linalg.EigResult // cur.Vectors is the basis in use
//	opt := linalg.EigOptions{K: k + 1, Tol: 1e-6, Seed: seed, EstimateResiduals: true,
//		Cancel: func() bool { return ctx.Err() != nil }}
//	// every step:
//	err := s.Refine(&next, op, cur.Vectors, opt)
//	if err == nil || errors.Is(err, linalg.ErrNotConverged) {
//		cur, next = next, cur // cur.Vectors[:k] is V, cur.Values[k] is λ_{k+1}
//	} // on ErrCanceled both keep what they held
//
// After two calls the swap recycles every vector and nothing is allocated.
// The zero value is ready to use. An Eigensolver is not safe for
// concurrent use and must not be copied after its first use.
type Eigensolver struct {
	ks krylovSchur
}

// Lanczos is Lanczos run in the solver's memory, with the result stored
// in dst (see Eigensolver.Refine for how dst is filled).
func (s *Eigensolver) Lanczos(dst *EigResult, op Operator, opt EigOptions) error {
	return s.solve(dst, op, nil, opt, "Eigensolver.Lanczos")
}

// Refine is Refine run in the solver's memory, with the result stored in
// dst.
//
// When Refine returns nil or an error wrapping ErrNotConverged, dst holds
// the pairs as Refine would return them (the best found, none if the
// projected eigenproblem failed): Values, Residuals and Vectors are
// resliced to the number of pairs, and their backing arrays, as well as
// every vector of dst.Vectors of capacity at least Dim (up to the capacity
// of dst.Vectors), are reused; what is too short is allocated. The
// vectors never share memory with the solver. On any other error
// (ErrCanceled, ErrNotFinite) only Products, Restarts and Converged
// (false) are set and dst's pairs stay as they were.
//
// prev is read before the first operator product and never written, so it
// may be dst.Vectors itself: an in-place refresh, which keeps the previous
// basis if the call is canceled or fails.
func (s *Eigensolver) Refine(dst *EigResult, op Operator, prev [][]float64, opt EigOptions) error {
	return s.solve(dst, op, prev, opt, "Eigensolver.Refine")
}

// solve runs a solve warm started from prev (cold if prev is empty) and
// stores the result in dst. The vectors are always copied out of the basis,
// which is one block of memory (the one-shot Lanczos and Refine would
// otherwise keep all of it alive for their k vectors).
func (s *Eigensolver) solve(dst *EigResult, op Operator, prev [][]float64, opt EigOptions, who string) error {
	ks := &s.ks
	if !ks.setup(op, opt, who) {
		*dst = EigResult{Values: dst.Values[:0], Vectors: dst.Vectors[:0], Residuals: dst.Residuals[:0], Converged: true}
		return nil
	}
	ks.warmStart(prev)
	ks.randomStart(ks.p)
	err := ks.run()
	// The solver's references to the caller's operator and Cancel are
	// dropped, so that a kept Eigensolver does not keep them alive.
	ks.op, ks.cancel = nil, nil
	dst.Products, dst.Restarts, dst.Converged = ks.products, ks.restarts, false
	if err != nil && !errors.Is(err, ErrNotConverged) {
		return err
	}
	kk := len(ks.res)
	dst.Values = append(dst.Values[:0], ks.theta[:kk]...)
	dst.Residuals = append(dst.Residuals[:0], ks.res...)
	if cap(dst.Vectors) < kk {
		dst.Vectors = append(dst.Vectors[:cap(dst.Vectors)], make([][]float64, kk-cap(dst.Vectors))...)
	}
	dst.Vectors = dst.Vectors[:kk]
	for i := range dst.Vectors {
		switch {
		case cap(dst.Vectors[i]) >= ks.n:
			dst.Vectors[i] = dst.Vectors[i][:ks.n]
			copy(dst.Vectors[i], ks.q[i])
		default:
			dst.Vectors[i] = append([]float64(nil), ks.q[i]...)
		}
	}
	dst.Scale = ks.scale
	dst.Converged = err == nil
	return err
}
