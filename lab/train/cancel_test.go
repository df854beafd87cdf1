package train

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"sharpflat/linalg"
)

// A curvature computation with a billion Hutchinson probes (what `--hutch-samples
// 1000000000` asked of `hessian` and of a run's refresh) answers its Cancel hook within one
// product: the computation runs in a goroutine, Cancel fires once the Hutchinson products
// have begun (counted by the hook, called before every product), and Curvature returns
// ErrCanceled with no product after it. It used to keep drawing and projecting every
// remaining probe with the products skipped, for hours; the hang guard (the only clock
// here) catches that.
func TestCurvatureCancelStopsTheEnergies(t *testing.T) {
	tr, err := New(small())
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.bindAt(&tr.hessBound, &tr.hess); err != nil {
		t.Fatal(err)
	}
	opt := CurvatureOptions{K: 4, Tol: 1e-8, Seed: 3, HutchSamples: 2}
	calls := 0
	opt.Cancel = func() bool { calls++; return false }
	r, err := Curvature(tr.hessBound, opt)
	if err != nil {
		t.Fatal(err)
	}
	if calls != r.Products {
		t.Fatalf("Cancel called %d times for %d products: not once before each", calls, r.Products)
	}
	// The run with a billion probes: the same products up to the second probe, then more.
	stopAt := r.Products + 5
	calls, after := 0, 0
	opt.HutchSamples = 1_000_000_000
	opt.Cancel = func() bool {
		if calls >= stopAt {
			after++
			return true
		}
		calls++
		return false
	}
	done := make(chan error, 1)
	go func() { _, err := Curvature(tr.hessBound, opt); done <- err }()
	select {
	case err = <-done:
	case <-time.After(5 * time.Minute): // hang guard
		t.Fatal("Curvature did not return after Cancel fired")
	}
	if !errors.Is(err, linalg.ErrCanceled) {
		t.Fatalf("canceled Curvature: %v, want ErrCanceled", err)
	}
	if calls != stopAt || after != 1 {
		t.Errorf("%d products before Cancel fired (want %d) and %d calls of Cancel after it (want 1)", calls, stopAt, after)
	}
	t.Logf("%v", err)
}

// hutch_samples is bounded by MaxHutchSamples (the check tag and the constant agree): a
// billion probes used to be accepted.
func TestHutchSamplesBounded(t *testing.T) {
	c := small()
	c.HutchSamples = MaxHutchSamples
	if err := c.Validate(); err != nil {
		t.Errorf("hutch_samples %d refused: %v", MaxHutchSamples, err)
	}
	for _, n := range []int{MaxHutchSamples + 1, 1_000_000_000} {
		c.HutchSamples = n
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("hutch_samples: %d, want 2…%d", n, MaxHutchSamples)) {
			t.Errorf("hutch_samples %d: %v", n, err)
		}
	}
}
