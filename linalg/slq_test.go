package linalg

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"testing"
)

// TestSLQDiagonalExact: on diag(1, 2, 3) repeated 4 times (n = 12) the Krylov space of any
// Rademacher probe is spanned by three eigenvalue classes, and every entry of q₁ = z/√12 has
// q_k² = 1/12, so each probe must break down after 3 steps with nodes {1, 2, 3} and weights
// {1/3, 1/3, 1/3} (hand calculation: four equal masses 1/12 on each value).
func TestSLQDiagonalExact(t *testing.T) {
	var d diagOp
	for range 4 {
		d = append(d, 1, 2, 3)
	}
	q, err := SLQ(d, SLQOptions{Probes: 5, Steps: 10, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Nodes) != 5 || q.Products != 15 {
		t.Fatalf("got %d probes and %d products, want 5 probes of 3 products each (breakdown after 3 steps)", len(q.Nodes), q.Products)
	}
	for i := range q.Nodes {
		for j, want := range []float64{1, 2, 3} {
			if math.Abs(q.Nodes[i][j]-want) > 1e-13 || math.Abs(q.Weights[i][j]-1.0/3) > 1e-13 {
				t.Errorf("probe %d node %d: (%v, %v), want (%v, 1/3)", i, j, q.Nodes[i][j], q.Weights[i][j], want)
			}
		}
	}
	// tr(A)/n = 2, tr(A²)/n = 14/3, exact for every probe (standard error 0).
	if m := q.Moment(1); math.Abs(m.Mean-2) > 1e-13 || m.StdErr > 1e-13 {
		t.Errorf("Moment(1) = %+v, want 2 ± 0", m)
	}
	if m := q.Moment(2); math.Abs(m.Mean-14.0/3) > 1e-12 {
		t.Errorf("Moment(2) = %+v, want 14/3", m)
	}
	if lo, hi := q.Range(); lo != q.Nodes[0][0] || math.Abs(lo-1) > 1e-13 || math.Abs(hi-3) > 1e-13 {
		t.Errorf("Range = %v, %v, want 1, 3", lo, hi)
	}
}

// TestSLQStepsCappedAtDim: 50 steps asked on diag(1 … 12) run 12 (the whole space: every
// q_k² = 1/12 > 0, so no earlier breakdown), and the quadrature is the spectrum itself, each
// eigenvalue with weight 1/12. Probes or Steps below 1 panic.
func TestSLQStepsCappedAtDim(t *testing.T) {
	d := make(diagOp, 12)
	for i := range d {
		d[i] = float64(i + 1)
	}
	q, err := SLQ(d, SLQOptions{Probes: 2, Steps: 50, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	if q.Products != 24 {
		t.Errorf("%d products, want 2 × 12", q.Products)
	}
	for i := range q.Nodes {
		for j, x := range q.Nodes[i] {
			if math.Abs(x-float64(j+1)) > 1e-12 || math.Abs(q.Weights[i][j]-1.0/12) > 1e-12 {
				t.Errorf("probe %d node %d: (%v, %v), want (%d, 1/12)", i, j, x, q.Weights[i][j], j+1)
			}
		}
	}
	for _, opt := range []SLQOptions{{Probes: 0, Steps: 5}, {Probes: 1, Steps: 0}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("SLQ(%+v) did not panic", opt)
				}
			}()
			SLQ(d, opt)
		}()
	}
}

// TestSLQMomentsDistinct: on diag(1 … 50) with 30 steps each probe integrates polynomials of
// degree < 60 exactly, so Σ τ² θ and Σ τ² θ² equal q₁ᵀAq₁ and q₁ᵀA²q₁ = Σ_k q_k² d_k², which
// for Rademacher probes is exactly (1/n) Σ d_k = 25.5 and (1/n) Σ d_k² = 858.5 (every q_k² is
// 1/n): no noise at all for a diagonal matrix.
func TestSLQMomentsDistinct(t *testing.T) {
	d := make(diagOp, 50)
	for i := range d {
		d[i] = float64(i + 1)
	}
	q, err := SLQ(d, SLQOptions{Probes: 3, Steps: 30, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if m := q.Moment(1); math.Abs(m.Mean-25.5) > 1e-11 {
		t.Errorf("Moment(1) = %v, want 25.5", m.Mean)
	}
	if m := q.Moment(2); math.Abs(m.Mean-858.5) > 1e-9 {
		t.Errorf("Moment(2) = %v, want 858.5", m.Mean)
	}
	// The extreme Ritz values of 30 steps on an evenly spaced spectrum of 50 converge to 1
	// and 50 well within 1e-6 (Kaniel–Paige; checked here, not assumed exact).
	if lo, hi := q.Range(); math.Abs(lo-1) > 1e-6 || math.Abs(hi-50) > 1e-6 {
		t.Errorf("Range = %v, %v, want 1, 50", lo, hi)
	}
	for i, w := range q.Weights {
		s := 0.0
		for _, x := range w {
			if x < 0 {
				t.Errorf("probe %d: negative weight %v", i, x)
			}
			s += x
		}
		if math.Abs(s-1) > 1e-14 {
			t.Errorf("probe %d: weights sum to %v", i, s)
		}
		if !sort.Float64sAreSorted(q.Nodes[i]) {
			t.Errorf("probe %d: nodes not ascending", i)
		}
	}
}

// TestSLQDensityIntegral: the smoothed density integrates to 1 by the trapezoid rule on the
// grid, and its mean ∫ λ φ(λ) dλ ≈ the first moment (a Gaussian kernel keeps the mean when
// the grid covers it well: 3σ margins on both sides).
func TestSLQDensityIntegral(t *testing.T) {
	d := make(diagOp, 40)
	for i := range d {
		d[i] = float64(i%7) - 2 // −2 … 4, with multiplicities
	}
	q, err := SLQ(d, SLQOptions{Probes: 4, Steps: 20, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	const sigma = 0.2
	grid := make([]float64, 801)
	for i := range grid {
		grid[i] = -3 + 8*float64(i)/800
	}
	phi := q.Density(grid, sigma)
	mean := make([]float64, len(grid))
	for i := range grid {
		mean[i] = grid[i] * phi[i]
	}
	if a := trapezoid(grid, phi); math.Abs(a-1) > 1e-12 {
		t.Errorf("∫φ = %v, want 1", a)
	}
	if m, want := trapezoid(grid, mean), q.Moment(1).Mean; math.Abs(m-want) > 1e-4 {
		t.Errorf("∫λφ = %v, want the first moment %v", m, want)
	}
}

// TestSLQCancel: Cancel is asked before every product, and SLQ stops within one product of
// the moment it says true.
func TestSLQCancel(t *testing.T) {
	d := make(diagOp, 100)
	for i := range d {
		d[i] = float64(i)
	}
	c := &Counter{Op: d}
	asked := 0
	_, err := SLQ(c, SLQOptions{Probes: 3, Steps: 20, Seed: 1, Cancel: func() bool {
		asked++
		return asked > 25
	}})
	if !errors.Is(err, ErrCanceled) {
		t.Fatalf("err = %v, want ErrCanceled", err)
	}
	if c.Products != 25 {
		t.Errorf("%d products, want 25 (cancelled before the 26th)", c.Products)
	}
}

// nanOp returns NaN after its first product.
type nanOp struct{ calls int }

func (o *nanOp) Dim() int { return 10 }
func (o *nanOp) MulVecTo(dst, x []float64) {
	o.calls++
	copy(dst, x)
	if o.calls > 1 {
		dst[3] = math.NaN()
	}
}

func TestSLQNotFinite(t *testing.T) {
	_, err := SLQ(&nanOp{}, SLQOptions{Probes: 2, Steps: 5, Seed: 1})
	if !errors.Is(err, ErrNotFinite) {
		t.Fatalf("err = %v, want ErrNotFinite", err)
	}
}

// TestSLQDeterministic: the same bits for the same seed whatever GOMAXPROCS, and other bits
// for another seed, at an order of four Gram–Schmidt parts (the last one short).
func TestSLQDeterministic(t *testing.T) {
	rnd := rand.New(rand.NewPCG(4, 5))
	// A random diagonal plus a coupling of neighbours: a diagonal operator would not do, as
	// a Rademacher probe's measure on it is the same for every seed.
	d := make([]float64, 3*slqPartRows+100)
	for i := range d {
		d[i] = rnd.NormFloat64()
	}
	a := Func{N: len(d), Mul: func(dst, x []float64) {
		for i := range x {
			dst[i] = d[i] * x[i]
			if i > 0 {
				dst[i] += 0.3 * x[i-1]
			}
			if i+1 < len(x) {
				dst[i] += 0.3 * x[i+1]
			}
		}
	}}
	run := func(procs int, seed uint64) Quadrature {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		q, err := SLQ(a, SLQOptions{Probes: 3, Steps: 25, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	q1, q2, q3 := run(1, 7), run(2, 7), run(2, 8)
	for i := range q1.Nodes {
		if !slices.Equal(q1.Nodes[i], q2.Nodes[i]) || !slices.Equal(q1.Weights[i], q2.Weights[i]) {
			t.Errorf("probe %d differs between GOMAXPROCS 1 and 2", i)
		}
	}
	if slices.Equal(q1.Nodes[0], q3.Nodes[0]) {
		t.Error("seeds 7 and 8 gave the same nodes")
	}
}

// TestSLQWasserstein: on a matrix with a known spectrum (a bulk near zero, a few outliers,
// some negative eigenvalues, the shape of a loss Hessian) the quadrature's discrete measure
// is within 0.006 × range of the exact one in 1-Wasserstein distance, while a spike at zero
// is not; the extremes match to 1e-8. 10 probes × 40 steps keep it under a second with the
// race detector; lab/train checks 20 × 80 on real nets.
func TestSLQWasserstein(t *testing.T) {
	rnd := rand.New(rand.NewPCG(11, 12))
	const n = 300
	lam := make([]float64, n)
	for i := range lam {
		lam[i] = 0.02 * rnd.NormFloat64() * math.Abs(rnd.NormFloat64())
	}
	copy(lam, []float64{9, 6.5, 4, 3, 2.2, -0.6, -0.3})
	a := NewDense(withSpectrum(lam, rnd))
	q, err := SLQ(a, SLQOptions{Probes: 10, Steps: 40, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	exact := slices.Clone(lam)
	slices.Sort(exact)
	span := exact[n-1] - exact[0]
	w := q.W1(exact)
	spike := Quadrature{Dim: n, Nodes: [][]float64{{0}}, Weights: [][]float64{{1}}}.W1(exact)
	t.Logf("W1(SLQ) = %.3g × range, W1(spike at 0) = %.3g × range", w/span, spike/span)
	if w > 0.006*span {
		t.Errorf("W1 = %v > 0.006 × range %v", w, span)
	}
	if spike <= 0.006*span {
		t.Errorf("a spike at 0 passes the bound: W1 = %v", spike)
	}
	if lo, hi := q.Range(); math.Abs(hi-exact[n-1]) > 1e-8*math.Max(1, math.Abs(exact[n-1])) ||
		math.Abs(lo-exact[0]) > 1e-8*math.Max(1, math.Abs(exact[0])) {
		t.Errorf("Range = [%v, %v], want [%v, %v]", lo, hi, exact[0], exact[n-1])
	}
}

// TestW1Hand: hand calculations of the 1-Wasserstein distance.
func TestW1Hand(t *testing.T) {
	for _, c := range []struct {
		nodes, weights, eigs []float64
		want                 float64
	}{
		// all mass at 0 against {−1, 1}: each half moves 1.
		{[]float64{0}, []float64{1}, []float64{-1, 1}, 1},
		// the same distribution: 0.
		{[]float64{-1, 2}, []float64{0.5, 0.5}, []float64{2, -1}, 0},
		// {0: ¾, 4: ¼} against {0, 0, 4, 4}: a quarter of the mass moves 4 → 1.
		{[]float64{0, 4}, []float64{0.75, 0.25}, []float64{0, 0, 4, 4}, 1},
		// {1} against {0, 1, 2, 6}: (1 + 0 + 1 + 5)/4.
		{[]float64{1}, []float64{1}, []float64{0, 1, 2, 6}, 7.0 / 4},
	} {
		q := Quadrature{Dim: len(c.eigs), Nodes: [][]float64{c.nodes}, Weights: [][]float64{c.weights}}
		if got := q.W1(c.eigs); math.Abs(got-c.want) > 1e-14 {
			t.Errorf("W1(%v, %v against %v) = %v, want %v", c.nodes, c.weights, c.eigs, got, c.want)
		}
	}
	// Two probes share the mass: {0} and {2} against {1}: each half moves 1.
	q := Quadrature{Dim: 1, Nodes: [][]float64{{0}, {2}}, Weights: [][]float64{{1}, {1}}}
	if got := q.W1([]float64{1}); math.Abs(got-1) > 1e-14 {
		t.Errorf("two probes: W1 = %v, want 1", got)
	}
}

func ExampleSLQ() {
	// A spectrum like a loss Hessian's: 95 eigenvalues in a bulk at 0.01 … 0.05 and five
	// outliers 1 … 5, known only through products.
	n := 100
	lam := make([]float64, n)
	for i := range lam {
		lam[i] = 0.01 + 0.04*float64(i)/94
	}
	copy(lam[95:], []float64{1, 2, 3, 4, 5})
	op := Func{N: n, Mul: func(dst, x []float64) {
		for i := range x {
			dst[i] = lam[i] * x[i]
		}
	}}
	q, err := SLQ(op, SLQOptions{Probes: 10, Steps: 30, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	lo, hi := q.Range()
	fmt.Printf("nodes in [%.4f, %.4f] from %d products\n", lo, hi, q.Products)
	// tr(A)/n = (95 × 0.03 + 15)/100 = 0.1785 exactly: every q_k² = 1/n for a diagonal A.
	fmt.Printf("tr(A)/n ≈ %.4f\n", q.Moment(1).Mean)
	// The mass above 0.5 is the outliers' share, 5/100.
	above := 0.0
	for i, nodes := range q.Nodes {
		for j, x := range nodes {
			if x > 0.5 {
				above += q.Weights[i][j] / float64(len(q.Nodes))
			}
		}
	}
	fmt.Printf("mass above 0.5: %.3f\n", above)
	// Output:
	// nodes in [0.0100, 5.0000] from 300 products
	// tr(A)/n ≈ 0.1785
	// mass above 0.5: 0.050
}
