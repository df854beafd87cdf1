package experiment

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

// stopAfter is a context that ends at the n-th call of its Err: a signal arriving at a chosen
// point of a computation, counted in calls instead of time.
type stopAfter struct {
	context.Context
	n, calls atomic.Int64
}

func (c *stopAfter) Err() error {
	if c.calls.Add(1) >= c.n.Load() {
		return context.Canceled
	}
	return nil
}

// A signal in the middle of an arm's refresh at the switch (the Song protocol's take
// minutes) stops it within one Hessian-vector product: the context is asked before every
// product, and the arm returns on the first "ended" without training a step. Before the
// trainer was given the context, the refresh ran to its end and a step was trained.
func TestArmStopsWithinAProduct(t *testing.T) {
	dir, g := quickSwitchGroup(t, 20)
	cp, res, err := loadOrRunWarmup(context.Background(), dir, g, newProgress(nil, "test"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := &stopAfter{Context: context.Background()}
	// The 10th question: inside the refresh at the switch, which takes dozens of products
	// (k = 10 from a cold start). Without the context in the trainer, the arm asks twice a
	// step, so the 10th question comes after four steps were trained.
	ctx.n.Store(10)
	prog := newProgress(nil, "test")
	_, err = runArm(ctx, dir, g, &g.Arms[0], cp, res.Point, prog)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("runArm stopped with %v, want context.Canceled", err)
	}
	if prog.costDone != 0 {
		t.Errorf("a step was trained after the signal (cost %g): the refresh ran to its end", prog.costDone)
	}
	// The question that ended it, then the arm's own checks on its way out: no product more.
	if c := ctx.calls.Load(); c > 12 {
		t.Errorf("the context was asked %d times after it ended at the 10th", c)
	}
}
