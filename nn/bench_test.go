package nn

import (
	"fmt"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// Benchmarks of the hot paths on the demo net (20-16-16-10 tanh, the calibration MLP of
// docs/SCIENCE.md, 1000 examples), an MNIST-sized net (784-128-128-10, batch 1024) and the net of
// Song et al.'s MNIST protocol (784-200-200-10) on its Hessian set (5000 examples) and its
// minibatch (50). Each reports GFLOP/s from the GEMM flop count of the pass; BenchmarkGEMM
// runs the package's plain DGEMM (internal/gemm, or OpenBLAS with -tags openblas) over the
// same shapes in the same run as the yardstick.

type benchNet struct {
	name   string
	widths []int
	n      int
}

var benchNets = []benchNet{
	{"demo-20-16-16-10", []int{20, 16, 16, 10}, 1000},
	{"mnist-784-128-128-10", []int{784, 128, 128, 10}, 1024},
	{"song-784-200-200-10", []int{784, 200, 200, 10}, 5000},
	{"song-784-200-200-10-batch50", []int{784, 200, 200, 10}, 50},
}

// gemmFlops is the flop count of one pass of the network's layer GEMMs over n rows:
// 2·n·Σ in·out.
func gemmFlops(widths []int, n int) float64 {
	f := 0.0
	for i := 0; i+1 < len(widths); i++ {
		f += 2 * float64(n) * float64(widths[i]*widths[i+1])
	}
	return f
}

// firstLayerShare is the first layer's share of gemmFlops: it has no input gradient and
// R{a₀} = 0, so it needs fewer GEMMs.
func firstLayerShare(widths []int, n int) float64 {
	return 2 * float64(n) * float64(widths[0]*widths[1])
}

func benchSetup(b *testing.B, bn benchNet) (*Bound, []float64) {
	m, err := NewMLP(bn.widths, Tanh, CrossEntropy)
	if err != nil {
		b.Fatal(err)
	}
	th := make([]float64, m.NumParams())
	m.Init(th, InitPyTorch, 1)
	data := randomData(bn.n, bn.widths[0], bn.widths[len(bn.widths)-1], false, 2)
	bd, err := m.Bind(th, &data)
	if err != nil {
		b.Fatal(err)
	}
	return bd, randVec(len(th), 3)
}

func reportGFLOPs(b *testing.B, flops float64) {
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkGradient(b *testing.B) {
	for _, bn := range benchNets {
		b.Run(bn.name, func(b *testing.B) {
			bd, _ := benchSetup(b, bn)
			th := append([]float64(nil), bd.theta...)
			data := bd.data
			b.ResetTimer()
			for b.Loop() {
				if err := bd.Rebind(th, data); err != nil {
					b.Fatal(err)
				}
			}
			// forward + ∂W + input gradients of layers > 0
			g := gemmFlops(bn.widths, bn.n)
			reportGFLOPs(b, 3*g-firstLayerShare(bn.widths, bn.n))
		})
	}
}

func BenchmarkHVP(b *testing.B) {
	for _, bn := range benchNets {
		b.Run(bn.name, func(b *testing.B) {
			bd, v := benchSetup(b, bn)
			dst := make([]float64, len(v))
			b.ResetTimer()
			for b.Loop() {
				bd.HVP(dst, v)
			}
			// R-forward 2 GEMMs a layer, R-backward 4 (first layer: 1 and 1)
			g := gemmFlops(bn.widths, bn.n)
			reportGFLOPs(b, 6*g-4*firstLayerShare(bn.widths, bn.n))
		})
	}
}

func BenchmarkGGNVP(b *testing.B) {
	for _, bn := range benchNets {
		b.Run(bn.name, func(b *testing.B) {
			bd, v := benchSetup(b, bn)
			dst := make([]float64, len(v))
			b.ResetTimer()
			for b.Loop() {
				bd.GGNVP(dst, v)
			}
			// R-forward 2 GEMMs a layer, backward 2 (first layer: 1 and 1)
			g := gemmFlops(bn.widths, bn.n)
			reportGFLOPs(b, 4*g-2*firstLayerShare(bn.widths, bn.n))
		})
	}
}

// BenchmarkGEMM runs the forward pass's GEMMs (n×in times in×out for each layer) with the
// package's DGEMM, unsplit and on one goroutine, as the yardstick for GFLOP/s.
func BenchmarkGEMM(b *testing.B) {
	for _, bn := range benchNets {
		b.Run(bn.name, func(b *testing.B) {
			type op struct{ a, w, c []float64 }
			var ops []op
			for i := 0; i+1 < len(bn.widths); i++ {
				in, out := bn.widths[i], bn.widths[i+1]
				ops = append(ops, op{randVec(bn.n*in, 1), randVec(out*in, 2), make([]float64, bn.n*out)})
			}
			b.ResetTimer()
			for b.Loop() {
				for i, o := range ops {
					in, out := bn.widths[i], bn.widths[i+1]
					gemm(blas.NoTrans, blas.Trans, bn.n, out, in, 1, o.a, in, o.w, in, 0, o.c, out)
				}
			}
			reportGFLOPs(b, gemmFlops(bn.widths, bn.n))
		})
	}
}

func ExampleMLP_Bind() {
	m, _ := NewMLP([]int{2, 3, 2}, Tanh, CrossEntropy)
	theta := make([]float64, m.NumParams())
	m.Init(theta, InitPyTorch, 1)
	data := Dataset{Name: "tiny", N: 2, D: 2, X: []float64{1, 0, 0, 1}, Classes: 2, Labels: []int{0, 1}}
	b, _ := m.Bind(theta, &data)
	hv := make([]float64, m.NumParams())
	v := make([]float64, m.NumParams())
	v[0] = 1
	b.HVP(hv, v) // first column of the Hessian
	fmt.Printf("P=%d  loss=%.4f  H[0][0]=%.4f\n", m.NumParams(), b.Loss(), hv[0])
	// Output: P=17  loss=0.7940  H[0][0]=-0.0012
}
