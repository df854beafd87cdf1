package nn

// Inference: the forward pass alone, for pictures of what the network has learned.
//
// Legend:
//	n   rows of x          w₀  input width        w_L  output width
//	aᵢ  activations        zᵢ  pre-activations     f = z_L
//
//	zᵢ₊₁ = aᵢ Wᵢᵀ + bᵢ,   aᵢ₊₁ = σ(zᵢ₊₁) for i + 1 < L,   a₀ = x
//
// Unlike the training passes it keeps neither σ′ nor σ″, and it reuses two buffers of
// predictRows rows from layer to layer.

import (
	"fmt"

	"gonum.org/v1/gonum/blas"

	"sharpflat/internal/vecmath"
)

// predictRows is the number of rows pushed through the network at a time.
const predictRows = 256

// Forward stores in dst (n, w_L) the network's output f at θ for each of the n rows of
// x (n, w₀). It allocates two buffers of predictRows × the widest layer.
func (m *MLP) Forward(dst, theta, x []float64) {
	out := m.Widths[len(m.Widths)-1]
	n := m.rows(theta, x)
	if len(dst) != n*out {
		panic(fmt.Sprintf("nn: Forward: len(dst)=%d, want n·w_L=%d", len(dst), n*out))
	}
	m.infer(theta, x, n, func(lo, hi int, f []float64) {
		copy(dst[lo*out:hi*out], f)
	})
}

// Predict stores in dst[r] the class the network predicts at θ for row r of x (n, w₀):
// the index of the largest output, the first one on ties, as Evaluate counts accuracy.
// It allocates two buffers of predictRows × the widest layer.
func (m *MLP) Predict(dst []int, theta, x []float64) {
	out := m.Widths[len(m.Widths)-1]
	n := m.rows(theta, x)
	if len(dst) != n {
		panic(fmt.Sprintf("nn: Predict: len(dst)=%d, want n=%d rows", len(dst), n))
	}
	m.infer(theta, x, n, func(lo, hi int, f []float64) {
		for r := lo; r < hi; r++ {
			dst[r] = argmax(f[(r-lo)*out : (r-lo+1)*out])
		}
	})
}

// rows checks θ and x and returns the number of rows of x.
func (m *MLP) rows(theta, x []float64) int {
	if len(theta) != m.NumParams() {
		panic(fmt.Sprintf("nn: len(theta)=%d, want P=%d", len(theta), m.NumParams()))
	}
	in := m.Widths[0]
	if len(x)%in != 0 {
		panic(fmt.Sprintf("nn: len(x)=%d is not a multiple of the input width %d", len(x), in))
	}
	return len(x) / in
}

// infer runs the forward pass over rows [lo, hi) of x at a time and hands each block's
// output f (hi−lo, w_L) to emit; f is only valid during the call.
func (m *MLP) infer(theta, x []float64, n int, emit func(lo, hi int, f []float64)) {
	if n == 0 {
		return
	}
	L, in := m.NumLayers(), m.Widths[0]
	wide := 0
	for _, w := range m.Widths[1:] {
		wide = max(wide, w)
	}
	rows := min(n, predictRows)
	buf := make([]float64, 2*rows*wide)
	ping, pong := buf[:rows*wide], buf[rows*wide:]
	for lo := 0; lo < n; lo += rows {
		hi := min(lo+rows, n)
		b := hi - lo
		a := x[lo*in : hi*in] // a₀ = x
		for i := 0; i < L; i++ {
			wi, wo := m.Widths[i], m.Widths[i+1]
			w, bias := m.Layer(theta, i)
			z := ping[:b*wo]
			// zᵢ₊₁ = aᵢ Wᵢᵀ + bᵢ: the bias in every row first, then the product added to it.
			for r := 0; r < b; r++ {
				copy(z[r*wo:(r+1)*wo], bias)
			}
			gemm(blas.NoTrans, blas.Trans, b, wo, wi, 1, a, wi, w, wi, 1, z, wo)
			if i+1 < L {
				m.Act.apply(z, z)
			}
			a = z
			ping, pong = pong, ping
		}
		emit(lo, hi, a)
	}
}

// apply sets dst[j] = σ(z[j]); dst and z may be the same slice.
func (a Activation) apply(dst, z []float64) {
	switch a {
	case Tanh:
		vecmath.Tanh(dst, z)
	case ReLU:
		for j, v := range z {
			if v > 0 {
				dst[j] = v
			} else {
				dst[j] = 0
			}
		}
	case Identity:
		copy(dst, z)
	default:
		for j, v := range z {
			dst[j], _, _ = a.eval(v)
		}
	}
}
