package linalg

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkLanczos compares cold Lanczos and Refine for the top 10 of a
// dense n = 1000 operator with a Hessian-like spectrum after a change of
// relative size 1e-3. products/op is the figure to compare; ns/op is
// dominated by the dense products.
func BenchmarkLanczos(b *testing.B) {
	rnd := rand.New(rand.NewPCG(60, 1))
	lam := hessianSpectrum(1000, 10, 20, 40, 0.7, 0.5, 0.2, rnd)
	a := withSpectrum(lam, rnd)
	after := NewDense(perturbed(a, 1e-3, lam[0], rnd))
	for _, tol := range []float64{1e-8, 1e-10} {
		opt := EigOptions{K: 10, Tol: tol, Seed: 1}
		prev, err := Lanczos(NewDense(a), opt)
		if err != nil {
			b.Fatal(err)
		}
		name := map[float64]string{1e-8: "tol=1e-8", 1e-10: "tol=1e-10"}[tol]
		b.Run("cold/"+name, func(b *testing.B) {
			var products int
			for b.Loop() {
				r, err := Lanczos(after, opt)
				if err != nil {
					b.Fatal(err)
				}
				products += r.Products
			}
			b.ReportMetric(float64(products)/float64(b.N), "products/op")
		})
		b.Run("warm/"+name, func(b *testing.B) {
			var products int
			for b.Loop() {
				r, err := Refine(after, prev.Vectors, opt)
				if err != nil {
					b.Fatal(err)
				}
				products += r.Products
			}
			b.ReportMetric(float64(products)/float64(b.N), "products/op")
		})
	}
}

// BenchmarkLanczosOverhead measures the solver's own work (Gram–Schmidt,
// restarts, the projected eigenproblems) per product, with a diagonal
// operator of size P = 200 000 whose products are nearly free. Compare
// ns/product with the cost of one Hessian-vector product.
func BenchmarkLanczosOverhead(b *testing.B) {
	n := 200_000
	d := make(diagOp, n)
	rnd := rand.New(rand.NewPCG(61, 1))
	for i := range d {
		d[i] = rnd.Float64()
	}
	for i := 0; i < 10; i++ {
		d[i] = 2 + float64(i)
	}
	var products int
	for b.Loop() {
		r, err := Lanczos(d, EigOptions{K: 10, Tol: 1e-8, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		products += r.Products
	}
	b.ReportMetric(float64(products)/float64(b.N), "products/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(products), "ns/product")
}

// BenchmarkProjectBulk projects a P = 200 000 vector off a k = 10 basis,
// the per-step cost of Bulk-SGD.
func BenchmarkProjectBulk(b *testing.B) {
	n, k := 200_000, 10
	rnd := rand.New(rand.NewPCG(62, 1))
	V := randomBasis(k, n, rnd)
	x := randomVector(n, rnd)
	dst := make([]float64, n)
	b.SetBytes(int64(8 * n * (k + 2)))
	for b.Loop() {
		ProjectBulk(dst, V, x)
	}
}
