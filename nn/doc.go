// Package nn holds the networks of sharpflat: multilayer perceptrons with exact gradients,
// exact Hessian-vector products, Gauss–Newton- and functional-vector products, and the data
// sets and weight files they train on.
//
// # Parameters
//
// A network's parameters are one flat vector θ ∈ ℝᴾ in PyTorch nn.Linear layout (per layer:
// weight [out, in] row-major, then bias [out]); gradients and curvature products share it, so
// package linalg sees plain vectors.
//
// # Curvature
//
// For the mean loss L(θ) = (1/N) Σₓ ℓ(f(x; θ), y) over a batch,
//
//	g = ∇L                                    by backpropagation
//	H v = ∇²L v                               by Pearlmutter's R-operator (forward-mode over
//	                                          the backward pass), exact
//	G v = (1/N) Σₓ Jₓᵀ H_ℓ Jₓ v                the generalised Gauss–Newton product: R-forward
//	                                          gives J v, then H_ℓ, then backprop gives Jᵀ(·)
//	F v = H v − G v                           the functional part, Σ_c ∂ℓ/∂f_c ∇²f_c
//
// with H_ℓ = diag(p) − ppᵀ for softmax cross-entropy and I for MSE (½‖f − y‖² summed over
// outputs, mean over examples). MLP.Bind evaluates the network at (θ, batch) once and caches
// the passes, so each product costs only the R-passes: about as much as one gradient.
// The batch is split into fixed chunks of examples processed on GOMAXPROCS goroutines and
// summed in chunk order, so results are the same bits on any number of cores.
//
// References:
//
//	B. A. Pearlmutter, Fast exact multiplication by the Hessian, Neural Computation 6 (1994).
//	N. N. Schraudolph, Fast curvature matrix-vector products for second-order gradient
//	descent, Neural Computation 14 (2002).
//	V. Papyan, The full spectrum of deepnet Hessians at scale, ICML 2020 (the G/F split).
//
// Package nn imports gonum, the standard library and sharpflat's internal/gemm and
// internal/vecmath kernels; it must not import linalg or any package of lab.
package nn
