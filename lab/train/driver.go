package train

// The driver: the one loop around Trainer.Step, in the spirit of gonum/optimize's Minimize
// around Method.Iterate. A Trainer is a plain synchronous step; whoever trains (a headless
// run, an experiment's warm-up and arms, the lab's engine, one trainer or a race of several)
// says what to do around each step through DriveOptions, and the driver owns the rest: when
// to stop, recording each step's metrics and then its events, divergence and cancellation.

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"

	"sharpflat/linalg"
)

// Stop says why a drive ended.
type Stop int

const (
	Reached  Stop = iota // every live trainer reached its end (DriveOptions.Steps or Until)
	Diverged             // every trainer diverged (a race goes on while one arm lives)
	Canceled             // the context ended; the step it interrupted changed nothing
	Failed               // a step, a hook or the recorder failed: the error says which
)

var stopNames = [...]string{"reached", "diverged", "canceled", "failed"}

func (s Stop) String() string {
	if s >= 0 && int(s) < len(stopNames) {
		return stopNames[s]
	}
	return fmt.Sprintf("Stop(%d)", int(s))
}

// DriveOptions says what a drive does around each step. Every hook is optional and is called
// on the driver's goroutine, trainer by trainer in their order, so outputs are deterministic
// however the steps themselves ran; i is the trainer's index in the slice driven.
type DriveOptions struct {
	// Steps ends a trainer's drive when its StepCount reaches Steps (0: no limit).
	Steps int
	// Until, if set, ends a trainer's drive when it returns true (checked before each step).
	Until func(i int, t *Trainer) bool
	// Before runs before each step of a live trainer (e.g. a switch of the update at a
	// given step).
	Before func(i int, t *Trainer) error
	// Record receives each step's metrics and then the events of the step (and of whatever
	// happened since the last step, e.g. Before's settings), in order.
	Record func(i int, m *Metrics, ev []Event) error
	// After runs after Record, on every step, the diverging one included (e.g. progress,
	// checkpoints, running statistics).
	After func(i int, t *Trainer, m *Metrics) error
}

// Drive trains ts until each has reached its end or diverged, or ctx ends, or something
// fails. Each round steps every live trainer once, in parallel across trainers (see Round),
// and hands the results to the hooks in trainer order. A trainer that diverges stops alone;
// the others go on.
//
// Cancellation: a trainer whose interrupt (SetInterrupt) ends with ctx stops a refresh within
// one Hessian-vector product; a step so stopped (an error wrapping linalg.ErrCanceled while
// ctx is done) changed nothing, and the drive ends with Canceled after recording the steps the
// other trainers completed in that round. The driver does not set the interrupt: the caller
// chooses it (the lab's engine also stops a refresh for a command).
//
// The error is nil unless the Stop is Failed.
func Drive(ctx context.Context, ts []*Trainer, o DriveOptions) (Stop, error) {
	live := make([]bool, len(ts))
	for {
		n := 0
		for i, t := range ts {
			live[i] = t.Diverged() == nil && !o.done(i, t)
			if live[i] {
				n++
			}
		}
		if n == 0 {
			for _, t := range ts {
				if t.Diverged() == nil {
					return Reached, nil
				}
			}
			return Diverged, nil
		}
		if ctx.Err() != nil {
			return Canceled, nil
		}
		if o.Before != nil {
			for i, t := range ts {
				if live[i] {
					if err := o.Before(i, t); err != nil {
						return Failed, err
					}
				}
			}
		}
		res := Round(ts, func(i int) bool { return live[i] })
		canceled := false
		for i, r := range res {
			if !r.Stepped {
				continue
			}
			if r.Err != nil {
				if errors.Is(r.Err, linalg.ErrCanceled) && ctx.Err() != nil {
					canceled = true
					continue
				}
				return Failed, r.Err
			}
			if o.Record != nil {
				if err := o.Record(i, &r.Metrics, ts[i].TakeEvents()); err != nil {
					return Failed, err
				}
			}
			if o.After != nil {
				if err := o.After(i, ts[i], &r.Metrics); err != nil {
					return Failed, err
				}
			}
		}
		if canceled {
			return Canceled, nil
		}
	}
}

// done reports whether trainer i has reached its end.
func (o *DriveOptions) done(i int, t *Trainer) bool {
	return (o.Steps > 0 && t.StepCount() >= o.Steps) || (o.Until != nil && o.Until(i, t))
}

// Stepped is one trainer's part of a round.
type Stepped struct {
	Stepped bool // the trainer was stepped (it was live)
	Metrics Metrics
	// Err is the step's error: one wrapping linalg.ErrCanceled means its refresh was
	// interrupted and nothing changed (the step can be taken again).
	Err error
}

// Round steps once every trainer of ts for which live(i) holds (nil: all), all at once in
// parallel (see Parallel), and returns the results in the order of ts. A single trainer
// steps on the calling goroutine. The trainers must be distinct and share nothing
// mutable (each Trainer is single-threaded; their datasets are read-only); a trainer's
// interrupt may then be called from several goroutines at once, so it must be safe for
// concurrent use. Round takes no events: the caller takes each trainer's after the round.
func Round(ts []*Trainer, live func(i int) bool) []Stepped {
	res := make([]Stepped, len(ts))
	var idx []int
	for i := range ts {
		if live == nil || live(i) {
			idx = append(idx, i)
		}
	}
	Parallel(idx, func(i int) {
		m, err := ts[i].Step()
		res[i] = Stepped{Stepped: true, Metrics: m, Err: err}
	})
	return res
}

// Parallel calls f(i) for every i of idx, each on a goroutine of its own (one index alone
// runs on the calling goroutine), and returns when all have returned. All run at once even
// when there are more than cores: the scheduler shares the cores among them, so that three
// arms on two cores take about 1.5 steps' time a round, where running them two at a time
// would take 2 (the third alone, one core idle). A panic of f is raised again on the calling
// goroutine (the first, with the stack where it happened).
func Parallel(idx []int, f func(i int)) {
	if len(idx) == 1 {
		f(idx[0])
		return
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var panicked any
	for _, i := range idx {
		wg.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					mu.Lock()
					if panicked == nil {
						panicked = fmt.Sprintf("%d: %v\n%s", i, p, debug.Stack())
					}
					mu.Unlock()
				}
			}()
			f(i)
		})
	}
	wg.Wait()
	if panicked != nil {
		panic(panicked)
	}
}
