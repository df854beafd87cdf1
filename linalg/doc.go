// Package linalg holds the matrix-free linear algebra of sharpflat: the
// top of the spectrum of a symmetric operator known only through its
// products, projections onto the subspace it spans, and stochastic
// estimates of its Frobenius mass.
//
// An Operator is a symmetric linear map A on ℝⁿ with Dim and MulVecTo; for
// sharpflat it is the loss Hessian H, the Gauss–Newton matrix G or the
// functional Hessian F = H − G, bound to the network's parameters θ ∈ ℝᴾ.
// linalg never sees a network; vectors are plain []float64 and a basis is
// a [][]float64 of k orthonormal vectors. No function forms an n×n matrix;
// the cost of every solver is counted in operator products, reported with
// each result (and Counter counts them for any caller).
//
// # Eigenpairs
//
// Lanczos computes the k largest algebraic eigenpairs
//
//	A vᵢ = λᵢ vᵢ,  λ₁ ≥ λ₂ ≥ … ≥ λ_k,
//
// by thick-restart Lanczos, from a seeded random start, with its basis kept
// orthonormal to 10⁻¹³ (partial reorthogonalisation for one start vector,
// omega.go; classical Gram–Schmidt twice for blocks). Every returned pair (θᵢ, yᵢ) has a residual
//
//	‖A yᵢ − θᵢ yᵢ‖ ≤ Tol · σ,  σ ≈ ‖A‖₂,
//
// checked with explicit products and returned with the pair. Refine does
// the same starting from the basis of a nearby operator, as when training
// moves θ a little between two refreshes, and saves the products that
// filter out the rest of the spectrum. An Eigensolver runs both in memory
// it keeps from one call to the next, for a refresh every training step,
// and copies the pairs into the caller's result. EigOptions.Cancel stops a
// solver between two products (ErrCanceled). Dense wraps a gonum
// mat.Symmetric as an Operator, the ground truth for tests.
//
// # Projections
//
// For an orthonormal V = [v₁ … v_k] (P×k), with P_dom = V Vᵀ and
// P_bulk = I − V Vᵀ,
//
//	ProjectDom:  V (Vᵀ x)
//	ProjectBulk: x − V (Vᵀ x)
//	Blend:       w_dom · P_dom x + w_bulk · P_bulk x
//	Alignment:   ‖Vᵀ x‖ / ‖x‖
//	Overlap:     ‖V_oldᵀ V_new‖²_F / k
//
// each in O(kP) work.
//
// # Frobenius mass
//
// FrobeniusSq estimates ‖A‖²_F = E‖A z‖² with Rademacher z (Hutchinson),
// with a standard error, and Energy the fraction
//
//	E_A = ‖Vᵀ A V‖²_F / ‖A‖²_F
//
// with an exact numerator and a delta-method standard error. The …Func
// variants evaluate several operators on the same random vectors.
//
// # Spectral density
//
// SLQ (stochastic Lanczos quadrature) estimates the whole spectrum, not only
// its top: from each of n_v Rademacher probes z, m Lanczos steps with full
// reorthogonalisation give a tridiagonal T = Σ θⱼ yⱼ yⱼᵀ, and the Gauss rule
//
//	zᵀ f(A) z / n ≈ Σⱼ τⱼ² f(θⱼ),  τⱼ = (yⱼ)₁,
//
// so that the density of the eigenvalues is estimated by
// (1/n_v) Σᵢ Σⱼ τᵢⱼ² δ(λ − θᵢⱼ). Quadrature.Density smooths it with a
// Gaussian, Moment estimates tr(Aᵖ)/n with a standard error, and W1 measures
// the 1-Wasserstein distance to a known spectrum (the tests' reference).
//
// References:
//
//	C. Lanczos, An iteration method for the solution of the eigenvalue
//	problem of linear differential and integral operators, J. Res. Nat.
//	Bur. Standards 45 (1950) 255–282.
//	B. N. Parlett, The Symmetric Eigenvalue Problem, SIAM 1998.
//	K. Wu and H. Simon, Thick-restart Lanczos method for large symmetric
//	eigenvalue problems, SIAM J. Matrix Anal. Appl. 22 (2000) 602–616.
//	G. W. Stewart, A Krylov–Schur algorithm for large eigenproblems, SIAM
//	J. Matrix Anal. Appl. 23 (2001) 601–614.
//	M. F. Hutchinson, A stochastic estimator of the trace of the influence
//	matrix for Laplacian smoothing splines, Commun. Stat. Simul. Comput.
//	18 (1989) 1059–1076.
//	G. Gur-Ari, D. A. Roberts and E. Dyer, Gradient descent happens in a
//	tiny subspace, arXiv:1812.04754 (2018).
//	S. Ubaru, J. Chen and Y. Saad, Fast estimation of tr(f(A)) via
//	stochastic Lanczos quadrature, SIAM J. Matrix Anal. Appl. 38 (2017)
//	1075–1099.
//	B. Ghorbani, S. Krishnan and Y. Xiao, An investigation into neural net
//	optimization via Hessian eigenvalue density, ICML 2019.
//	Z. Yao, A. Gholami, K. Keutzer and M. Mahoney, PyHessian: neural
//	networks through the lens of the Hessian, IEEE BigData 2020.
package linalg
