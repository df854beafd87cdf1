package linalg

import (
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// drift returns a sequence of operators A₀, A₁, … of order n, each a
// perturbation of norm rel·λ₁ of the one before, with a Hessian-like
// spectrum (ten outliers over a bulk, a few negative values): the
// operators a per-step refresh sees.
func drift(n, steps int, rel float64, seed uint64) []*mat.SymDense {
	rnd := rand.New(rand.NewPCG(seed, 1))
	lam := hessianSpectrum(n, 10, 10, 10, 0.9, 3, 0.2, rnd)
	a := []*mat.SymDense{withSpectrum(lam, rnd)}
	for len(a) < steps {
		a = append(a, perturbed(a[len(a)-1], rel, lam[0], rnd))
	}
	return a
}

func sameResult(t *testing.T, what string, got, want EigResult) {
	t.Helper()
	if got.Products != want.Products || got.Restarts != want.Restarts || got.Converged != want.Converged ||
		got.Scale != want.Scale || !slices.Equal(got.Values, want.Values) || !slices.Equal(got.Residuals, want.Residuals) ||
		len(got.Vectors) != len(want.Vectors) {
		t.Fatalf("%s: got %v (%d products), want %v (%d products)", what, got.Values, got.Products, want.Values, want.Products)
	}
	for i := range got.Vectors {
		if !slices.Equal(got.Vectors[i], want.Vectors[i]) {
			t.Fatalf("%s: vector %d differs", what, i)
		}
	}
}

func TestEigensolverMatchesRefine(t *testing.T) {
	// One Eigensolver refreshing along a drifting operator gives, bit for
	// bit, what Lanczos and Refine give with fresh memory; the last result
	// is checked against a dense eigendecomposition.
	ops := drift(200, 4, 1e-3, 70)
	for _, opt := range []EigOptions{
		{K: 10, Tol: 1e-8, Seed: 70},
		{K: 11, Tol: 1e-6, Seed: 71, EstimateResiduals: true},
		{K: 6, Tol: 1e-8, Seed: 72, BlockSize: 3},
	} {
		var s Eigensolver
		var cur, next EigResult
		if err := s.Lanczos(&cur, NewDense(ops[0]), opt); err != nil {
			t.Fatal(err)
		}
		want, err := Lanczos(NewDense(ops[0]), opt)
		if err != nil {
			t.Fatal(err)
		}
		sameResult(t, "Lanczos", cur, want)
		for _, a := range ops[1:] {
			want, err := Refine(NewDense(a), cur.Vectors, opt)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Refine(&next, NewDense(a), cur.Vectors, opt); err != nil {
				t.Fatal(err)
			}
			sameResult(t, "Refine", next, want)
			cur, next = next, cur
		}
		a := ops[len(ops)-1]
		checkPairs(t, cur, nil, a, eigenvaluesDesc(t, a)[:opt.K], 1e-9, opt.Tol) // reference: dense eigendecomposition
	}
}

// steadyRefresh returns one refresh of an Eigensolver at steady state: warmed up on three
// drifting operators, then alternating between two of them, swapping two results, as the
// lab's per-step refresh does.
func steadyRefresh(t *testing.T) func() {
	ops := drift(200, 3, 1e-3, 73)
	opt := EigOptions{K: 10, Tol: 1e-6, Seed: 73, EstimateResiduals: true}
	var s Eigensolver
	var cur, next EigResult
	for _, a := range ops { // warm up: allocate both results' vectors
		if err := s.Refine(&next, NewDense(a), cur.Vectors, opt); err != nil {
			t.Fatal(err)
		}
		cur, next = next, cur
	}
	b, c := NewDense(ops[1]), NewDense(ops[2])
	return func() {
		if err := s.Refine(&next, b, cur.Vectors, opt); err != nil {
			t.Fatal(err)
		}
		cur, next = next, cur
		b, c = c, b
	}
}

func TestEigensolverAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip(raceAllocs)
	}
	// At steady state a refresh allocates nothing: not the basis, not the Ritz step's
	// scratch, not the pairs.
	if allocs := testing.AllocsPerRun(10, steadyRefresh(t)); allocs != 0 {
		t.Errorf("%v allocations per steady-state refresh, want 0", allocs)
	}
}

// TestEigensolverAllocsParallel is TestEigensolverAllocs with the sweeps on two cores:
// testing.AllocsPerRun runs at GOMAXPROCS 1, where the sweeps never leave the caller's
// goroutine, so it cannot see what sharing them costs. Allocations are counted by
// runtime.MemStats around twenty refreshes. The runtime itself allocates now and then when
// goroutines park and wake (0–6 in ten refreshes, at 2d115cb too), so the bound is one a
// refresh: an allocation per sweep, as team.Run makes, would be over a hundred.
func TestEigensolverAllocsParallel(t *testing.T) {
	if raceEnabled {
		t.Skip(raceAllocs)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	defer blockedOn(64)()
	refresh := steadyRefresh(t)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const refreshes = 20
	for range refreshes {
		refresh()
	}
	runtime.ReadMemStats(&after)
	if n := after.Mallocs - before.Mallocs; n >= refreshes {
		t.Errorf("%d allocations in %d steady-state refreshes on 2 cores, want fewer than one a refresh", n, refreshes)
	}
}

func TestEigensolverOwnership(t *testing.T) {
	ops := drift(200, 3, 1e-3, 74)
	opt := EigOptions{K: 5, Tol: 1e-8, Seed: 74}
	var s Eigensolver
	var first EigResult
	if err := s.Lanczos(&first, NewDense(ops[0]), opt); err != nil {
		t.Fatal(err)
	}
	saved := make([][]float64, len(first.Vectors))
	for i, v := range first.Vectors {
		saved[i] = slices.Clone(v)
	}
	// A second result from the same solver does not touch the first.
	var second EigResult
	if err := s.Refine(&second, NewDense(ops[1]), first.Vectors, opt); err != nil {
		t.Fatal(err)
	}
	for i := range saved {
		if !slices.Equal(saved[i], first.Vectors[i]) {
			t.Fatalf("the next refresh changed the previous result's vector %d", i)
		}
	}
	// An in-place refresh (prev is dst.Vectors) gives the same pairs as
	// one into fresh memory, and writes into the caller's vectors.
	want, err := Refine(NewDense(ops[2]), second.Vectors, opt)
	if err != nil {
		t.Fatal(err)
	}
	v0 := &second.Vectors[0][0]
	if err := s.Refine(&second, NewDense(ops[2]), second.Vectors, opt); err != nil {
		t.Fatal(err)
	}
	sameResult(t, "in place", second, want)
	if &second.Vectors[0][0] != v0 {
		t.Error("in place: dst.Vectors[0] was reallocated")
	}
	// K grows: dst grows; the dimension changes: the solver reallocates.
	opt.K = 8
	if err := s.Refine(&second, NewDense(ops[2]), second.Vectors, opt); err != nil || len(second.Vectors) != 8 {
		t.Fatalf("K = 8: %d vectors, err %v", len(second.Vectors), err)
	}
	small := goe(60, rand.New(rand.NewPCG(74, 2)))
	if err := s.Refine(&second, NewDense(small), second.Vectors, opt); err != nil {
		t.Fatal(err)
	}
	checkPairs(t, second, nil, small, eigenvaluesDesc(t, small)[:8], 1e-9, 1e-8) // reference: dense eigendecomposition
	// An operator of dimension zero: no pairs.
	if err := s.Lanczos(&second, diagOp{}, opt); err != nil || len(second.Values) != 0 || !second.Converged {
		t.Errorf("Dim 0: %v, err %v", second, err)
	}
}

func TestCancel(t *testing.T) {
	// Cancel fires once the operator has made n products: the solver
	// returns ErrCanceled having made exactly n, at any point of the run
	// (before the first product, while the basis grows, during the check
	// of the true residuals), and an Eigensolver leaves dst's pairs alone.
	a := goe(150, rand.New(rand.NewPCG(75, 1)))
	full, err := Lanczos(NewDense(a), EigOptions{K: 4, Seed: 75})
	if err != nil {
		t.Fatal(err)
	}
	b := perturbed(a, 1e-3, 2, rand.New(rand.NewPCG(75, 2)))
	warm, err := Refine(NewDense(b), full.Vectors, EigOptions{K: 4, Seed: 75})
	if err != nil {
		t.Fatal(err)
	}
	for _, run := range []struct {
		name  string
		all   int // products of the run without Cancel; the last K check the residuals
		solve func(op Operator, opt EigOptions) (EigResult, error)
	}{
		{"Lanczos", full.Products, func(op Operator, opt EigOptions) (EigResult, error) { return Lanczos(op, opt) }},
		{"Refine", warm.Products, func(op Operator, opt EigOptions) (EigResult, error) { return Refine(op, full.Vectors, opt) }},
	} {
		for _, n := range []int{0, 1, 7, run.all - 2, run.all - 1} {
			op := a
			if run.name == "Refine" {
				op = b
			}
			c := &Counter{Op: NewDense(op)}
			r, err := run.solve(c, EigOptions{K: 4, Seed: 75, Cancel: func() bool { return c.Products >= n }})
			if !errors.Is(err, ErrCanceled) || c.Products != n || r.Products != n || r.Converged {
				t.Errorf("%s canceled after %d of %d products: %d products (result %d), converged %v, err %v",
					run.name, n, run.all, c.Products, r.Products, r.Converged, err)
			}
		}
	}
	// Never firing changes nothing.
	r, err := Lanczos(NewDense(a), EigOptions{K: 4, Seed: 75, Cancel: func() bool { return false }})
	sameResult(t, "Cancel never fires", r, full)

	var s Eigensolver
	dst := EigResult{Values: []float64{1, 2}, Vectors: [][]float64{{3}, {4}}, Residuals: []float64{5, 6}, Scale: 7}
	c := &Counter{Op: NewDense(a)}
	err = s.Refine(&dst, c, full.Vectors, EigOptions{K: 4, Seed: 75, Cancel: func() bool { return c.Products >= 3 }})
	if !errors.Is(err, ErrCanceled) || dst.Products != 3 || dst.Converged ||
		!slices.Equal(dst.Values, []float64{1, 2}) || dst.Vectors[1][0] != 4 || !slices.Equal(dst.Residuals, []float64{5, 6}) || dst.Scale != 7 {
		t.Errorf("Eigensolver canceled: dst = %+v, err %v", dst, err)
	}
}

func TestRitzSchedule(t *testing.T) {
	// The Ritz step on a schedule against one after every expansion: the
	// pairs meet the same tolerance (reference: dense eigendecomposition),
	// at most maxCheckGap−1 products later, with far fewer Ritz steps.
	rnd := rand.New(rand.NewPCG(76, 1))
	gap := hessianSpectrum(250, 10, 10, 40, 0.7, 0.5, 0.2, rnd)
	crowded := hessianSpectrum(250, 10, 10, 10, 0.95, 5, 0.2, rnd)
	ops := drift(250, 2, 1e-2, 77)
	for _, c := range []struct {
		name string
		a    *mat.SymDense
		prev *mat.SymDense
		opt  EigOptions
		half bool // at most half the Ritz steps
	}{
		{name: "separated", a: withSpectrum(gap, rnd), opt: EigOptions{K: 10, Tol: 1e-10}, half: true},
		{name: "crowded", a: withSpectrum(crowded, rnd), opt: EigOptions{K: 10, Tol: 1e-8}, half: true},
		{name: "GOE, restarts", a: goe(250, rnd), opt: EigOptions{K: 10, Tol: 1e-8}, half: true},
		// Slow, steady convergence after the plateau (a factor 1.1 a
		// product over ρ < e^2.5): a Ritz step after nearly every product.
		{name: "warm, estimated", a: ops[1], prev: ops[0], opt: EigOptions{K: 11, Tol: 1e-6, EstimateResiduals: true}},
		{name: "block", a: withSpectrum(gap, rnd), opt: EigOptions{K: 6, Tol: 1e-8, BlockSize: 3}, half: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := eigenvaluesDesc(t, c.a)[:c.opt.K]
			var prev [][]float64
			if c.prev != nil {
				p, err := Lanczos(NewDense(c.prev), c.opt)
				if err != nil {
					t.Fatal(err)
				}
				prev = p.Vectors
			}
			var every, sched Eigensolver
			every.ks.everyStep = true
			var re, rs EigResult
			err := every.Refine(&re, NewDense(c.a), prev, c.opt)
			checkPairs(t, re, err, c.a, want, 1e-9, c.opt.Tol)
			err = sched.Refine(&rs, NewDense(c.a), prev, c.opt)
			checkPairs(t, rs, err, c.a, want, 1e-9, c.opt.Tol)
			t.Logf("every expansion: %d products, %d Ritz steps; scheduled: %d products, %d Ritz steps",
				re.Products, every.ks.ritzSteps, rs.Products, sched.ks.ritzSteps)
			if rs.Products < re.Products || rs.Products > re.Products+maxCheckGap-1 {
				t.Errorf("scheduled: %d products, every expansion %d", rs.Products, re.Products)
			}
			if sched.ks.ritzSteps >= every.ks.ritzSteps || c.half && 2*sched.ks.ritzSteps > every.ks.ritzSteps {
				t.Errorf("scheduled: %d Ritz steps, every expansion %d: want fewer (at most half: %v)", sched.ks.ritzSteps, every.ks.ritzSteps, c.half)
			}
		})
	}
}

func TestScheduleGap(t *testing.T) {
	// The gap to the next Ritz step is ⌊ln ρ / r⌋ clamped to
	// [1, maxCheckGap], ρ = worst estimate / threshold, r the fastest
	// decrease of ln(estimate) per expansion seen, at least convergenceRate.
	for _, c := range []struct {
		est, threshold float64
		lastWorst      float64 // at 4 expansions before; 0: none
		want           int
	}{
		{est: 1, threshold: 0, want: maxCheckGap},                           // no scale yet
		{est: math.Exp(100), threshold: 1, want: maxCheckGap},               // far off
		{est: math.Exp(2.5 * 3.5), threshold: 1, want: 3},                   // r = 2.5
		{est: math.Exp(2.5 * 2.5), threshold: 0.5, want: 2},                 // ρ = e^6.25·2
		{est: math.Exp(2.4), threshold: 1, want: 1},                         // ρ < e^r
		{est: 0.5, threshold: 1, want: 1},                                   // below: check now
		{est: 0, threshold: 0, want: 1},                                     // the zero operator
		{est: math.Exp(10), threshold: 1, lastWorst: math.Exp(30), want: 2}, // r = 20/4 = 5 > 2.5
		{est: math.Exp(10), threshold: 1, lastWorst: math.Exp(11), want: 4}, // r = 1/4 < 2.5
	} {
		ks := &krylovSchur{k: 1, j: 1, est: []float64{c.est}, rate: convergenceRate, expansions: 20, lastExp: 16, lastWorst: c.lastWorst}
		ks.schedule(c.threshold)
		if got := ks.nextCheck - 20; got != c.want {
			t.Errorf("estimate %g, threshold %g, previous %g: gap %d, want %d (rate %g)", c.est, c.threshold, c.lastWorst, got, c.want, ks.rate)
		}
	}
}
