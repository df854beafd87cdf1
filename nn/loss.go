package nn

import (
	"fmt"
	"math"
	"strings"
)

// Loss is the per-example loss ℓ(f, y) on the network output f.
type Loss int

// The losses.
const (
	// CrossEntropy is softmax cross-entropy on integer labels:
	//	ℓ = log Σ_c e^{f_c} − f_y,  ∂ℓ/∂f = p − e_y,  H_ℓ = diag(p) − ppᵀ,  p = softmax(f)
	CrossEntropy Loss = iota
	// MSE is half the squared error summed over outputs (the edge-of-stability convention),
	// with one-hot targets for class labels:
	//	ℓ = ½‖f − y‖²,  ∂ℓ/∂f = f − y,  H_ℓ = I
	MSE
)

var lossNames = [...]string{"ce", "mse"}

func (l Loss) String() string {
	if l >= 0 && int(l) < len(lossNames) {
		return lossNames[l]
	}
	return fmt.Sprintf("Loss(%d)", int(l))
}

// ParseLoss returns the loss with the given name: "ce" (or "crossentropy", "cross-entropy")
// or "mse".
func ParseLoss(s string) (Loss, error) {
	switch strings.ToLower(s) {
	case "ce", "crossentropy", "cross-entropy", "xent":
		return CrossEntropy, nil
	case "mse":
		return MSE, nil
	}
	return 0, fmt.Errorf("unknown loss %q (allowed: ce, mse)", s)
}

// rowLoss evaluates the loss of one example with output f (length C) and stores
// ∂ℓ/∂f · scale in g and the auxiliary quantity needed by curvHess in aux (softmax p for
// cross-entropy; unused for MSE). The target is label (classification) or y (regression).
func (l Loss) rowLoss(g, aux, f []float64, label int, y []float64, scale float64) float64 {
	switch l {
	case CrossEntropy:
		//	p = softmax(f) computed as e^{f−max}/Σ; ℓ = log Σ e^{f−max} − (f_y − max)
		mx := math.Inf(-1)
		for _, v := range f {
			mx = max(mx, v)
		}
		var sum float64
		for c, v := range f {
			e := math.Exp(v - mx)
			aux[c] = e
			sum += e
		}
		inv := 1 / sum
		for c := range aux {
			aux[c] *= inv
			g[c] = aux[c] * scale
		}
		g[label] -= scale
		return math.Log(sum) - (f[label] - mx)
	case MSE:
		var s float64
		for c, v := range f {
			t := 0.0
			if y != nil {
				t = y[c]
			} else if c == label {
				t = 1
			}
			r := v - t
			g[c] = r * scale
			s += r * r
		}
		return 0.5 * s
	}
	panic(fmt.Sprintf("nn: unknown loss %d", int(l)))
}

// curvHess stores scale · H_ℓ u in dst for each example, rows of C entries, given the aux
// of rowLoss; dst, aux and u hold the same number of rows.
func (l Loss) curvHess(dst, aux, u []float64, C int, scale float64) {
	switch l {
	case CrossEntropy:
		//	H_ℓ u = p ⊙ u − p (pᵀu)
		for r := 0; r+C <= len(aux); r += C {
			p, ur, dr := aux[r:r+C], u[r:r+C], dst[r:r+C]
			var pu float64
			for c, pc := range p {
				pu += pc * ur[c]
			}
			for c, pc := range p {
				dr[c] = scale * pc * (ur[c] - pu)
			}
		}
	case MSE:
		for c, v := range u[:len(aux)] {
			dst[c] = scale * v
		}
	default:
		panic(fmt.Sprintf("nn: unknown loss %d", int(l)))
	}
}
