package train

import (
	"testing"
	"time"

	"sharpflat/nn"
)

// benchDensity is Density with the defaults (10 probes × 80 steps, the figure) on
// the Hessian set of a preset at its initial θ. It reports the products per density, the
// time per product, the time of one HVP on the same Bound measured after the loop, and the
// share of the time outside the products (the Lanczos basis work and the small
// eigenproblems): 1 − products × HVP time / time per density.
func benchDensity(b *testing.B, preset string) {
	c, err := Preset(preset)
	if err != nil {
		b.Fatal(err)
	}
	tr, err := New(c)
	if err != nil {
		b.Fatal(err)
	}
	_, _, hess := tr.Data()
	bd, err := tr.Model().Bind(tr.Theta(), hess)
	if err != nil {
		b.Fatal(err)
	}
	products := 0
	for b.Loop() {
		r, err := Density(bd, nn.Hessian, DensityOptions{Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		products += r.Products
	}
	perDensity := b.Elapsed().Seconds() / float64(b.N)
	perProduct := perDensity / (float64(products) / float64(b.N))
	v, dst := tr.Theta(), make([]float64, bd.Dim())
	const hvps = 50
	t0 := time.Now()
	for range hvps {
		bd.HVP(dst, v)
	}
	hvp := time.Since(t0).Seconds() / hvps
	b.ReportMetric(float64(products)/float64(b.N), "products/op")
	b.ReportMetric(perProduct*1e9, "ns/product")
	b.ReportMetric(hvp*1e9, "ns/HVP")
	b.ReportMetric(1-float64(products)/float64(b.N)*hvp/perDensity, "basis-share")
}

// BenchmarkDensityDemo: the demo preset (P = 778, Hessian set 1000 examples). Issue 21's
// target is ≤ 1 s a density on two idle cores.
func BenchmarkDensityDemo(b *testing.B) { benchDensity(b, "demo") }

// BenchmarkDensityMNIST: the mnist preset (14×14 MNIST, 196-32-32-10, P = 7 690, Hessian set
// 1024 images, embedded in the binary). Issue 21's target is ≤ 10 s on two idle cores.
func BenchmarkDensityMNIST(b *testing.B) { benchDensity(b, "mnist") }
