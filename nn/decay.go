package nn

// L2 weight decay as part of the objective a Bound answers for:
//
//	L_λ(θ) = L(θ) + (λ/2)‖θ‖²
//	∇L_λ   = ∇L + λθ
//	H_λ    = H + λI,   G_λ = G + λI,   F_λ = F
//
// The penalty is a convex quadratic whose Hessian is λI, and it is its own Gauss–Newton part
// (a linear "network" θ ↦ θ under the loss (λ/2)‖·‖², with H_ℓ = λI), so G takes the λI and F
// does not change. Every eigenvalue of H (and of G) moves up by exactly λ and the eigenvectors
// stay the same. Every parameter is decayed, the biases too, as PyTorch's weight_decay does.
//
// Reference: A. Krogh and J. A. Hertz, A simple weight decay can improve generalization,
// NIPS 1991 (published 1992).

import (
	"fmt"
	"math"
)

// SetWeightDecay makes the Bound answer for L + (λ/2)‖θ‖² from now on, at this point and at
// every point it is rebound to: Loss, Grad, HVP, GGNVP, HGFVP and Op include the penalty;
// DataLoss, Accuracy and FVP do not depend on it. λ = 0 (the default) is the data loss alone,
// bit for bit, and setting λ on a Bound that had none gives the same bits as a Rebind with it.
// λ must be finite and ≥ 0 (a programming error otherwise: ranges are the caller's to check).
func (b *Bound) SetWeightDecay(lambda float64) {
	if !(lambda >= 0) || math.IsInf(lambda, 1) {
		panic(fmt.Sprintf("nn: weight decay %g, want a finite λ ≥ 0", lambda))
	}
	if lambda == b.decay {
		return
	}
	dl := lambda - b.decay
	b.decay = lambda
	b.decayAt(dl)
}

// WeightDecay returns λ of the penalty (λ/2)‖θ‖² (0: none).
func (b *Bound) WeightDecay() float64 { return b.decay }

// DataLoss returns L(θ), the mean loss over the batch, without the weight-decay penalty.
func (b *Bound) DataLoss() float64 { return b.loss }

// decayAt adds dλ·θ to the gradient (after a fresh pass, dλ = λ: ∇L + λθ) and sets the
// penalty (λ/2)‖θ‖² at the Bound's point.
func (b *Bound) decayAt(dl float64) {
	if dl != 0 {
		for i, x := range b.theta {
			b.grad[i] += dl * x
		}
	}
	b.penalty = 0
	if b.decay != 0 {
		var s float64
		for _, x := range b.theta {
			s += x * x
		}
		b.penalty = b.decay / 2 * s
	}
}

// shift adds λv to dst (nil: nothing), the λI of the penalty in a curvature product.
func (b *Bound) shift(dst, v []float64) {
	if dst == nil {
		return
	}
	for i, x := range v {
		dst[i] += b.decay * x
	}
}
