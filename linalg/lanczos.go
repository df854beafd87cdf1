package linalg

import (
	"errors"
)

// DefaultTol is the relative residual tolerance used when EigOptions.Tol is zero.
const DefaultTol = 1e-10

var (
	// ErrNotConverged is returned (wrapped) when a solver stops on its
	// product budget, or on a rounding floor, before meeting its tolerance.
	// The result then holds the best approximations found.
	ErrNotConverged = errors.New("linalg: not converged")

	// ErrNotFinite is returned (wrapped) when the operator produced a NaN
	// or an infinity.
	ErrNotFinite = errors.New("linalg: operator produced a non-finite value")

	// ErrCanceled is returned (wrapped) when EigOptions.Cancel stopped a
	// solver.
	ErrCanceled = errors.New("linalg: canceled")
)

// EigOptions configures Lanczos and Refine.
type EigOptions struct {
	// K is the number of wanted eigenpairs, the K largest algebraic
	// eigenvalues. It must be at least 1; if K ≥ Dim all Dim pairs are
	// computed.
	K int

	// Tol is the relative residual tolerance: every returned pair (θᵢ, yᵢ)
	// satisfies
	//
	//	‖A yᵢ − θᵢ yᵢ‖ ≤ Tol · σ,
	//
	// where σ is EigResult.Scale, the largest |θ| of all Ritz values
	// seen: a lower bound on ‖A‖₂ that equals |θ₁| whenever λ₁ ≥ |λₙ|, as
	// for loss Hessians past the first steps. Zero means DefaultTol.
	Tol float64

	// MaxProducts caps the number of operator products, including the
	// K products spent checking the true residuals. Zero means
	// max(1000, 20·MaxBasis). It must be zero or at least K+BlockSize.
	MaxProducts int

	// MaxBasis is the number of basis vectors kept before a thick restart;
	// memory is MaxBasis+BlockSize+1 vectors of length Dim. Zero means
	// max(2K+20, K+4·BlockSize). It must be zero, at least K+2, or at
	// least Dim.
	MaxBasis int

	// BlockSize is the number of start vectors, p. A Krylov space grown
	// from p vectors holds up to p independent eigenvectors of one
	// repeated eigenvalue; from a single vector (p = 1, also the meaning
	// of zero) it holds one, and further copies of an exactly repeated
	// eigenvalue are found only if rounding errors seed them, which is
	// reliable for copies of a well separated λ₁ and unreliable near λ_K.
	// Set BlockSize to the largest multiplicity expected among the top K
	// (for example the number of outputs C of a linear model under MSE,
	// whose Hessian is I_C ⊗ Σ). Each p costs more products once the
	// eigenvalues are distinct.
	BlockSize int

	// Seed seeds the PCG generator of the random start vectors.
	Seed uint64

	// EstimateResiduals skips the K explicit products that check the
	// true residuals: convergence is judged, and Residuals filled, with
	// the Lanczos estimates ‖C sᵢ‖ instead. These equal the true residuals
	// up to rounding, of order ε‖A‖ times a small multiple of √MaxBasis,
	// and up to the basis's loss of orthogonality times ‖A‖ (at most
	// min(1e-13, Tol/100), omega.go), so the saving is safe for Tol well
	// above 1e-13; the default is to check.
	EstimateResiduals bool

	// Cancel, if not nil, is called before every operator product. If it
	// returns true the solver makes no more products and returns at once
	// with an error wrapping ErrCanceled; the result then holds only the
	// number of products spent (an Eigensolver leaves the pairs in dst
	// as they were). Cancel runs on the solver's goroutine, as often as
	// there are products: it should be cheap, such as a non-blocking
	// receive from a channel or ctx.Err() != nil.
	Cancel func() bool
}

// EigResult holds the eigenpairs found by Lanczos or Refine.
type EigResult struct {
	// Values holds the Ritz values θ₁ ≥ θ₂ ≥ … ≥ θ_k, k = min(K, Dim)
	// (fewer only if the product budget ran out before k basis vectors
	// were built).
	Values []float64

	// Vectors holds the Ritz vectors yᵢ, orthonormal, each of length Dim;
	// Vectors[i] belongs to Values[i].
	Vectors [][]float64

	// Residuals holds the residual norms ‖A yᵢ − θᵢ yᵢ‖, absolute (not
	// divided by Scale): true residuals from one explicit product per
	// pair, or the Lanczos estimates if EstimateResiduals was set.
	Residuals []float64

	// Scale is σ, the largest |θ| over all Ritz values seen, the quantity
	// the tolerance is relative to.
	Scale float64

	// Products is the number of operator products spent.
	Products int

	// Restarts is the number of thick restarts.
	Restarts int

	// Converged reports whether every pair met the tolerance.
	Converged bool
}

// Lanczos computes the k largest algebraic eigenpairs of the symmetric
// operator A by thick-restart Lanczos (the Krylov–Schur form of Stewart,
// equivalent to the thick restart of Wu and Simon), with the basis kept
// orthonormal by partial reorthogonalisation for BlockSize 1 (omega.go: a
// full Gram–Schmidt pass when the tracked loss of orthogonality would exceed
// min(1e-13, Tol/100)) and by classical Gram–Schmidt twice for blocks.
//
// From p random orthonormal start vectors (p = opt.BlockSize, seeded by
// opt.Seed) it builds an orthonormal basis Q_j of the Krylov space, one
// product at a time, together with the projected matrix T_j = Q_jᵀ A Q_j
// and the coupling C of the p pending directions P,
//
//	A Q_j = Q_j T_j + P Cᵀ,  C = Pᵀ A Q_j  (p×j).
//
// For p = 1 this is the Lanczos relation A Q_j = Q_j T_j + β q_j e_jᵀ, T_j
// tridiagonal; for p > 1 it is band Lanczos. Every new direction A x is
// orthogonalized twice against the basis and the pending directions: for
// p > 1 by classical Gram–Schmidt twice (a third pass if the second one
// cancels); for p = 1 the first pass is the recurrence (A x − α x minus the
// known couplings), the second a full classical Gram–Schmidt pass, and a
// third follows if DGKS's criterion asks for it. The Ritz pairs
// (θᵢ, Q_j sᵢ) come from T_j sᵢ = θᵢ sᵢ (a dense symmetric
// eigendecomposition, LAPACK's Dsyev; while T_j is tridiagonal, the Ritz
// steps that only need the estimates use QL on the last row of S), and
//
//	‖A Q_j sᵢ − θᵢ Q_j sᵢ‖ = ‖C sᵢ‖
//
// up to rounding, which serves as the cheap convergence estimate. The
// Ritz step runs once the basis holds k vectors and then on a schedule
// drawn from how fast the estimates fall, not after every product (see
// convergenceRate in krylov_schur.go). Once
// every wanted estimate is below the tolerance the residual of each wanted
// pair is checked with an explicit product; only true residuals are
// accepted and returned (unless opt.EstimateResiduals). When the basis
// reaches opt.MaxBasis vectors it is rotated in place onto the l largest
// Ritz vectors, which keeps the relation exact (T becomes diagonal, C
// becomes C S_l), and the iteration continues from P.
//
// If a new direction vanishes (an invariant subspace) the iteration
// continues from a random direction orthogonal to the basis, so eigenvalues
// outside the start vectors' Krylov space are still found.
//
// Lanczos panics if opt.K < 1 or an option is out of range. It returns
// a wrapped ErrNotConverged, with the best pairs found, if the tolerance is
// not met within opt.MaxProducts products.
//
// References:
//
//	K. Wu and H. Simon, Thick-restart Lanczos method for large symmetric
//	eigenvalue problems, SIAM J. Matrix Anal. Appl. 22 (2000) 602–616.
//	G. W. Stewart, A Krylov–Schur algorithm for large eigenproblems,
//	SIAM J. Matrix Anal. Appl. 23 (2001) 601–614.
//	Z. Bai et al. (eds.), Templates for the Solution of Algebraic
//	Eigenvalue Problems, SIAM 2000, §4.6 (band Lanczos).
//
// The Gram–Schmidt and the restarts' rotation run as matrix products on the
// basis (internal/gemm), for Dim ≥ 16384 on up to GOMAXPROCS goroutines,
// with the same bits whatever their number (basis.go).
//
// Lanczos allocates its basis for each call; an Eigensolver keeps it
// between calls.
func Lanczos(op Operator, opt EigOptions) (EigResult, error) {
	var s Eigensolver
	var r EigResult
	err := s.solve(&r, op, nil, opt, "Lanczos")
	return r, err
}
