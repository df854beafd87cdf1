package lab

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"sharpflat/lab/lesson"
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

// lesson --check's time estimate answers a signal within one product too: armed to end at
// its 6th question, it stops inside the first step's refresh (the first basis takes dozens
// of products) without measuring a step. Before the estimate gave the trainer its context,
// it was asked once or twice a step and had measured two steps by then.
func TestEstimateLessonStopsWithinAProduct(t *testing.T) {
	ctx := &endsAt{Context: context.Background()}
	ctx.n.Store(6)
	est, err := EstimateLesson(ctx, lesson.Builtin()[0], time.Hour)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if est.Measured != 0 {
		t.Errorf("%d steps measured after the signal: the first refresh ran to its end", est.Measured)
	}
}
