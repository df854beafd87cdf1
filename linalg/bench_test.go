package linalg

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/floats"
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

// spiked is A = diag(d) + U C Uᵀ, U n×r orthonormal, C r×r symmetric: a
// Hessian-like operator (r outliers over a bulk) of any size n whose
// products cost O(rn).
type spiked struct {
	d  []float64
	u  [][]float64 // r vectors of length n
	c  []float64   // r×r row-major
	ux []float64   // scratch, length r
}

func (a *spiked) Dim() int { return len(a.d) }
func (a *spiked) MulVecTo(dst, x []float64) {
	r := len(a.u)
	for i, ui := range a.u {
		a.ux[i] = floats.Dot(ui, x)
	}
	for i := range dst {
		dst[i] = a.d[i] * x[i]
	}
	for i, ui := range a.u {
		var s float64
		for j := range r {
			s += a.c[i*r+j] * a.ux[j]
		}
		floats.AddScaled(dst, s, ui)
	}
}

// newSpiked returns two spiked operators of order n, the second one
// drifted from the first by rel in its bulk and its outliers, as two
// successive training steps.
func newSpiked(n int, rel float64, rnd *rand.Rand) (a0, a1 *spiked) {
	const r = 10
	d := make([]float64, n)
	for i := range d {
		u := rnd.Float64()
		d[i] = 0.5*u*u - 0.05
	}
	u := randomBasis(r, n, rnd)
	c := make([]float64, r*r)
	for i := range r {
		c[i*r+i] = 1 + 0.1*float64(r-i)
	}
	a0 = &spiked{d: d, u: u, c: c, ux: make([]float64, r)}
	d1, c1 := slices.Clone(d), slices.Clone(c)
	for i := range d1 {
		d1[i] += rel * rnd.NormFloat64()
	}
	for i := range r {
		for j := i; j < r; j++ {
			e := rel * rnd.NormFloat64()
			c1[i*r+j] += e
			c1[j*r+i] = c1[i*r+j]
		}
	}
	a1 = &spiked{d: d1, u: u, c: c1, ux: make([]float64, r)}
	return a0, a1
}

// BenchmarkRefreshMemory measures the memory of a steady-state refresh
// (K = 10, Tol 1e-6, estimated residuals, warm started from the previous
// result, alternating between two nearby operators that allocate nothing)
// with -benchmem: Refine allocates its Krylov basis on every call, an
// Eigensolver once, and with two results swapped nothing at all.
func BenchmarkRefreshMemory(b *testing.B) {
	for _, n := range []int{778, 199_210} { // P of the demo and of the MNIST protocol net
		a0, a1 := newSpiked(n, 1e-3, rand.New(rand.NewPCG(63, 1)))
		opt := EigOptions{K: 10, Tol: 1e-6, Seed: 1, EstimateResiduals: true}
		start, err := Lanczos(a0, opt)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("P=%d/Refine", n), func(b *testing.B) {
			b.ReportAllocs()
			prev, ops, products := start, [2]Operator{a1, a0}, 0
			for i := 0; b.Loop(); i++ {
				r, err := Refine(ops[i%2], prev.Vectors, opt)
				if err != nil {
					b.Fatal(err)
				}
				prev, products = r, products+r.Products
			}
			b.ReportMetric(float64(products)/float64(b.N), "products/op")
		})
		b.Run(fmt.Sprintf("P=%d/Eigensolver", n), func(b *testing.B) {
			b.ReportAllocs()
			var s Eigensolver
			var cur, next EigResult
			for _, v := range start.Vectors {
				cur.Vectors = append(cur.Vectors, slices.Clone(v))
			}
			ops, products := [2]Operator{a1, a0}, 0
			refresh := func(i int) {
				if err := s.Refine(&next, ops[i%2], cur.Vectors, opt); err != nil {
					b.Fatal(err)
				}
				cur, next = next, cur
			}
			refresh(0) // the solver's memory and next's vectors
			refresh(1)
			for i := 0; b.Loop(); i++ {
				refresh(i)
				products += cur.Products
			}
			b.ReportMetric(float64(products)/float64(b.N), "products/op")
		})
	}
}
