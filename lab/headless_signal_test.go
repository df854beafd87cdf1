package lab

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// endsAt is a context that ends at the n-th call of its Err once armed: a signal arriving at
// a chosen point of a computation, counted in questions instead of time.
type endsAt struct {
	context.Context
	calls, n atomic.Int64 // n = 0: not armed
}

func (c *endsAt) Err() error {
	k := c.calls.Add(1)
	if n := c.n.Load(); n > 0 && k >= n {
		return context.Canceled
	}
	return nil
}

// A signal that arrives in the middle of a refresh stops a headless run within one
// Hessian-vector product, not after the refresh (minutes under the Song protocol) and the
// steps after it: armed after step 7 to end at its third question, the run stops inside step
// 8's refresh and writes steps 1–7. Before the run gave the trainer its context, the context
// was asked once a step, so the run went on to step 9.
func TestHeadlessSignalStopsARefresh(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	ctx := &endsAt{Context: context.Background()}
	err := Headless(ctx, small(), HeadlessOptions{Steps: 1000, Out: dir, Progress: func(p Progress) {
		if p.Step == 7 && !p.Final {
			ctx.n.Store(ctx.calls.Load() + 3) // the loop's question, then two products
		}
	}})
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err %v, want ErrInterrupted", err)
	}
	if lines := readJSONL(t, filepath.Join(dir, "metrics.jsonl")); len(lines) != 7 {
		t.Errorf("%d steps written, want 7: the refresh of step 8 ran to its end", len(lines))
	}
}
