package linalg_test

import (
	"errors"
	"fmt"
	"log"
	"math"

	"gonum.org/v1/gonum/mat"

	"sharpflat/linalg"
)

func ExampleLanczos() {
	// A diagonal operator diag(1, 2, …, 100), known only through products.
	n := 100
	op := linalg.Func{N: n, Mul: func(dst, x []float64) {
		for i := range x {
			dst[i] = float64(i+1) * x[i]
		}
	}}
	r, err := linalg.Lanczos(op, linalg.EigOptions{K: 3, Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	for i, v := range r.Values {
		fmt.Printf("λ%d = %.6f, ‖Ay−θy‖ ≤ 1e-10·σ: %t\n", i+1, v, r.Residuals[i] <= 1e-10*r.Scale)
	}
	// Output:
	// λ1 = 100.000000, ‖Ay−θy‖ ≤ 1e-10·σ: true
	// λ2 = 99.000000, ‖Ay−θy‖ ≤ 1e-10·σ: true
	// λ3 = 98.000000, ‖Ay−θy‖ ≤ 1e-10·σ: true
}

func ExampleNewDense() {
	// The largest algebraic eigenvalues of a small dense matrix with
	// eigenvalues 3, 1 and −4.
	a := mat.NewSymDense(3, []float64{
		2, 1, 0,
		1, 2, 0,
		0, 0, -4,
	})
	r, err := linalg.Lanczos(linalg.NewDense(a), linalg.EigOptions{K: 2})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%.6f\n", r.Values)
	// Output:
	// [3.000000 1.000000]
}

func ExampleRefine() {
	// An operator that changes a little between two refreshes:
	// A(t) = diag(d) + t·u uᵀ.
	n := 2000
	d := make([]float64, n)
	u := make([]float64, n)
	for i := range d {
		d[i] = 1 / float64(i+1)
		u[i] = math.Sin(float64(i)) / math.Sqrt(float64(n)/2)
	}
	at := func(t float64) linalg.Operator {
		return linalg.Func{N: n, Mul: func(dst, x []float64) {
			var ux float64
			for i := range x {
				ux += u[i] * x[i]
			}
			for i := range x {
				dst[i] = d[i]*x[i] + t*ux*u[i]
			}
		}}
	}
	opt := linalg.EigOptions{K: 5, Tol: 1e-8, Seed: 1}
	before, err := linalg.Lanczos(at(0), opt)
	if err != nil {
		log.Fatal(err)
	}
	cold, err := linalg.Lanczos(at(1e-3), opt)
	if err != nil {
		log.Fatal(err)
	}
	warm, err := linalg.Refine(at(1e-3), before.Vectors, opt)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("before: %.7f\n", before.Values)
	fmt.Printf("cold:   %.7f\n", cold.Values)
	fmt.Printf("warm:   %.7f\n", warm.Values)
	fmt.Println("warm start saves products:", warm.Products < cold.Products)
	fmt.Printf("overlap with the previous basis: %.4f\n", linalg.Overlap(before.Vectors, warm.Vectors))
	// Output:
	// before: [1.0000000 0.5000000 0.3333333 0.2500000 0.2000000]
	// cold:   [1.0000000 0.5000007 0.3333342 0.2500000 0.2000006]
	// warm:   [1.0000000 0.5000007 0.3333342 0.2500000 0.2000006]
	// warm start saves products: true
	// overlap with the previous basis: 1.0000
}

func ExampleEigensolver() {
	// A per-step refresh: the operator drifts a little at every step,
	// A(t) = diag(d) + t·u uᵀ, and the top three pairs are refreshed from
	// the previous ones, in memory the solver keeps. Two results are
	// swapped so that the basis in use is never overwritten. (To first
	// order λᵢ(t) = dᵢ + t·uᵢ²: 1 + 2e-6 per step for λ₁.)
	n := 1000
	d := make([]float64, n)
	u := make([]float64, n)
	for i := range d {
		d[i] = 1 / float64(i+1)
		u[i] = math.Cos(float64(i)) / math.Sqrt(float64(n)/2)
	}
	at := func(t float64) linalg.Operator {
		return linalg.Func{N: n, Mul: func(dst, x []float64) {
			var ux float64
			for i := range x {
				ux += u[i] * x[i]
			}
			for i := range x {
				dst[i] = d[i]*x[i] + t*ux*u[i]
			}
		}}
	}
	var s linalg.Eigensolver
	var cur, next linalg.EigResult
	opt := linalg.EigOptions{K: 3, Tol: 1e-8, Seed: 1}
	if err := s.Lanczos(&cur, at(0), opt); err != nil {
		log.Fatal(err)
	}
	for step := 1; step <= 3; step++ {
		if err := s.Refine(&next, at(1e-3*float64(step)), cur.Vectors, opt); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("step %d: %.7f, overlap %.4f\n", step, next.Values, linalg.Overlap(cur.Vectors, next.Vectors))
		cur, next = next, cur
	}
	// Output:
	// step 1: [1.0000020 0.5000006 0.3333337], overlap 1.0000
	// step 2: [1.0000040 0.5000012 0.3333340], overlap 1.0000
	// step 3: [1.0000060 0.5000018 0.3333344], overlap 1.0000
}

func ExampleEigOptions_cancel() {
	// Cancel is asked before every product: here it stops a solve after
	// five products (in the lab: when a command arrives).
	op := &linalg.Counter{Op: linalg.Func{N: 100, Mul: func(dst, x []float64) {
		for i := range x {
			dst[i] = float64(i) * x[i]
		}
	}}}
	r, err := linalg.Lanczos(op, linalg.EigOptions{K: 3, Seed: 1, Cancel: func() bool { return op.Products >= 5 }})
	fmt.Println(errors.Is(err, linalg.ErrCanceled), r.Products, op.Products)
	// Output:
	// true 5 5
}

func ExampleProjectBulk() {
	// The Dominant subspace span{e₁, e₂} of ℝ⁴.
	V := [][]float64{{1, 0, 0, 0}, {0, 1, 0, 0}}
	g := []float64{1, 2, 3, 4}
	dom := make([]float64, 4)
	bulk := make([]float64, 4)
	linalg.ProjectDom(dom, V, g)
	linalg.ProjectBulk(bulk, V, g)
	fmt.Println("P_dom g  =", dom)
	fmt.Println("P_bulk g =", bulk)
	fmt.Printf("χ = %.6f\n", linalg.Alignment(V, g))
	// Output:
	// P_dom g  = [1 2 0 0]
	// P_bulk g = [0 0 3 4]
	// χ = 0.408248
}

func ExampleBlend() {
	// The slider α ∈ [0, 1] walks Dom-SGD → SGD → Bulk-SGD:
	// w_dom = min(1, 2(1−α)), w_bulk = min(1, 2α).
	V := [][]float64{{1, 0, 0, 0}, {0, 1, 0, 0}}
	g := []float64{1, 2, 3, 4}
	d := make([]float64, 4)
	for _, alpha := range []float64{0, 0.5, 0.75, 1} {
		wDom, wBulk := min(1, 2*(1-alpha)), min(1, 2*alpha)
		linalg.Blend(d, V, g, wDom, wBulk)
		fmt.Printf("α = %.2f: d = %v\n", alpha, d)
	}
	// Output:
	// α = 0.00: d = [1 2 0 0]
	// α = 0.50: d = [1 2 3 4]
	// α = 0.75: d = [0.5 1 3 4]
	// α = 1.00: d = [0 0 3 4]
}

func ExampleOverlap() {
	// One of two directions turns by 45°: overlap (1 + cos²45°)/2.
	s := 1 / math.Sqrt2
	old := [][]float64{{1, 0, 0}, {0, 1, 0}}
	cur := [][]float64{{1, 0, 0}, {0, s, s}}
	fmt.Printf("%.4f\n", linalg.Overlap(old, cur))
	// Output:
	// 0.7500
}

func ExampleFrobeniusSq() {
	// For a diagonal operator every Rademacher probe gives ‖A z‖² = Σ dᵢ²
	// exactly, so the estimate has no error.
	op := linalg.Func{N: 3, Mul: func(dst, x []float64) {
		dst[0], dst[1], dst[2] = x[0], 2*x[1], 3*x[2]
	}}
	e := linalg.FrobeniusSq(op, 10, 1)
	fmt.Printf("‖A‖²_F = %.4f ± %.4f\n", e.Mean, e.StdErr)
	// Output:
	// ‖A‖²_F = 14.0000 ± 0.0000
}

func ExampleEnergy() {
	// diag(10, 1, …, 1) in ℝ¹⁰ with V = {e₁}: E = 10²/(10² + 9·1²).
	n := 10
	op := linalg.Func{N: n, Mul: func(dst, x []float64) {
		copy(dst, x)
		dst[0] = 10 * x[0]
	}}
	V := [][]float64{make([]float64, n)}
	V[0][0] = 1
	e := linalg.Energy(op, V, 20, 1)
	fmt.Printf("E_A = %.6f ± %.6f, v₁ᵀAv₁ = %.1f\n", e.Fraction, e.StdErr, e.Diag[0])
	// Output:
	// E_A = 0.917431 ± 0.000000, v₁ᵀAv₁ = 10.0
}

func ExampleCounter() {
	c := &linalg.Counter{Op: linalg.Func{N: 50, Mul: func(dst, x []float64) {
		for i := range x {
			dst[i] = float64(i%7) * x[i]
		}
	}}}
	r, _ := linalg.Lanczos(c, linalg.EigOptions{K: 1, Seed: 3})
	fmt.Printf("λ₁ = %.6f, products counted: %t\n", r.Values[0], c.Products == r.Products)
	// Output:
	// λ₁ = 6.000000, products counted: true
}
