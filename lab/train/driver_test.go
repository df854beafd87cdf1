package train

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
)

// driven records what a drive handed to its hooks, per trainer.
type driven struct {
	order   []int       // the trainer index of each Record call
	metrics [][]Metrics // per trainer
	events  [][]Event
	after   []int // After calls per trainer
}

func newDriven(n int) *driven {
	return &driven{metrics: make([][]Metrics, n), events: make([][]Event, n), after: make([]int, n)}
}

func (d *driven) options(steps int) DriveOptions {
	return DriveOptions{
		Steps: steps,
		Record: func(i int, m *Metrics, ev []Event) error {
			d.order = append(d.order, i)
			d.metrics[i] = append(d.metrics[i], *m)
			d.events[i] = append(d.events[i], ev...)
			return nil
		},
		After: func(i int, t *Trainer, m *Metrics) error {
			if m.Step != t.StepCount() {
				return fmt.Errorf("After of trainer %d: metrics of step %d, trainer at %d", i, m.Step, t.StepCount())
			}
			d.after[i]++
			return nil
		},
	}
}

// One trainer driven to N steps gives the metrics of N plain Step calls, bit for bit (the
// reference: the loop written out), and its events reach Record in order.
func TestDriveOneIsThePlainLoop(t *testing.T) {
	_, want := run(t, small(), 12)
	tr, err := New(small())
	if err != nil {
		t.Fatal(err)
	}
	d := newDriven(1)
	stop, err := Drive(context.Background(), []*Trainer{tr}, d.options(12))
	if stop != Reached || err != nil {
		t.Fatalf("drive ended %v, %v; want reached", stop, err)
	}
	sameSteps(t, want, d.metrics[0])
	if d.after[0] != 12 {
		t.Errorf("After called %d times, want 12", d.after[0])
	}
	if len(d.events[0]) == 0 || d.events[0][0].Kind != EventRefresh {
		t.Errorf("the first refresh's event did not reach Record: %+v", d.events[0])
	}
}

// Several trainers step in parallel, and each gives what it gives alone (the reference: each
// config run by itself); the hooks see them in trainer order, round by round.
func TestDriveSeveralInLockstep(t *testing.T) {
	cfgs := make([]Config, 3)
	var ts []*Trainer
	for i := range cfgs {
		cfgs[i] = small()
		cfgs[i].WDom, cfgs[i].WBulk = []float64{1, 1, 0}[i], []float64{0, 1, 1}[i]
		tr, err := New(cfgs[i])
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, tr)
	}
	d := newDriven(3)
	if stop, err := Drive(context.Background(), ts, d.options(8)); stop != Reached || err != nil {
		t.Fatalf("drive ended %v, %v", stop, err)
	}
	for i, c := range cfgs {
		_, want := run(t, c, 8)
		sameSteps(t, want, d.metrics[i])
	}
	for j, i := range d.order {
		if i != j%3 {
			t.Fatalf("Record order %v: not trainer order round by round", d.order)
		}
	}
}

// A trainer that diverges stops alone; the others go on to the end. The reference: the
// diverging config run by itself until it diverges.
func TestDriveDivergedArmStopsAlone(t *testing.T) {
	blow := small()
	blow.LR = 40
	ref, err := New(blow)
	if err != nil {
		t.Fatal(err)
	}
	for ref.Diverged() == nil {
		if _, err := ref.Step(); err != nil {
			t.Fatal(err)
		}
		if ref.StepCount() > 50 {
			t.Fatal("η = 40 did not diverge")
		}
	}
	at := ref.StepCount()
	a, _ := New(small())
	b, _ := New(blow)
	d := newDriven(2)
	stop, err := Drive(context.Background(), []*Trainer{a, b}, d.options(at+5))
	if stop != Reached || err != nil {
		t.Fatalf("drive ended %v, %v; want reached (one arm lives)", stop, err)
	}
	if len(d.metrics[0]) != at+5 || len(d.metrics[1]) != at || b.Diverged() == nil || b.Diverged().Step != at {
		t.Fatalf("the live arm made %d steps (want %d), the diverging one %d (want %d, diverged %v)",
			len(d.metrics[0]), at+5, len(d.metrics[1]), at, b.Diverged())
	}
	if d.after[1] != at {
		t.Errorf("After called %d times on the diverging arm, want %d (its last step included)", d.after[1], at)
	}
	c, _ := New(blow)
	if stop, err := Drive(context.Background(), []*Trainer{c}, DriveOptions{Steps: at + 5}); stop != Diverged || err != nil {
		t.Errorf("a lone diverging trainer: %v, %v; want diverged", stop, err)
	}
}

// A refresh interrupted because ctx ended stops the drive with nothing changed: the trainer
// is where it was after its last recorded step, and goes on as if never interrupted.
func TestDriveCanceledInARefresh(t *testing.T) {
	_, want := run(t, small(), 6)
	tr, _ := New(small())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var products atomic.Int64
	tr.SetInterrupt(func() bool {
		// Cancel inside the refresh of the fourth step (every step refreshes: T = 1).
		if tr.StepCount() == 3 && products.Add(1) == 5 {
			cancel()
		}
		return ctx.Err() != nil
	})
	d := newDriven(1)
	stop, err := Drive(ctx, []*Trainer{tr}, d.options(6))
	if stop != Canceled || err != nil {
		t.Fatalf("drive ended %v, %v; want canceled", stop, err)
	}
	if tr.StepCount() != 3 || len(d.metrics[0]) != 3 {
		t.Fatalf("trainer at step %d with %d recorded; want 3 and 3", tr.StepCount(), len(d.metrics[0]))
	}
	tr.SetInterrupt(nil)
	if stop, err := Drive(context.Background(), []*Trainer{tr}, d.options(6)); stop != Reached || err != nil {
		t.Fatalf("the drive again: %v, %v", stop, err)
	}
	sameSteps(t, want, d.metrics[0])
}

// A recorder's error stops the drive, wrapped as the recorder wrapped it.
func TestDriveRecorderFails(t *testing.T) {
	tr, _ := New(small())
	full := errors.New("disk full")
	n := 0
	stop, err := Drive(context.Background(), []*Trainer{tr}, DriveOptions{Steps: 10, Record: func(i int, m *Metrics, ev []Event) error {
		if n++; n == 3 {
			return fmt.Errorf("recording step %d: %w", m.Step, full)
		}
		return nil
	}})
	if stop != Failed || !errors.Is(err, full) {
		t.Fatalf("drive ended %v, %v; want failed with the recorder's error", stop, err)
	}
	if tr.StepCount() != 3 {
		t.Errorf("trainer at step %d after the recorder failed at step 3", tr.StepCount())
	}
}

// Round steps only the live trainers and leaves the others untouched.
func TestRoundStepsOnlyTheLive(t *testing.T) {
	a, _ := New(small())
	b, _ := New(small())
	res := Round([]*Trainer{a, b}, func(i int) bool { return i == 1 })
	if res[0].Stepped || !res[1].Stepped || a.StepCount() != 0 || b.StepCount() != 1 || res[1].Err != nil {
		t.Fatalf("round: %+v %+v; steps %d %d", res[0].Stepped, res[1].Stepped, a.StepCount(), b.StepCount())
	}
}

// Parallel visits every index once, and a panic in one comes back on the caller's goroutine.
func TestParallel(t *testing.T) {
	var seen [5]atomic.Int32
	Parallel([]int{0, 1, 2, 3, 4}, func(i int) { seen[i].Add(1) })
	for i := range seen {
		if n := seen[i].Load(); n != 1 {
			t.Errorf("index %d visited %d times", i, n)
		}
	}
	defer func() {
		if p := recover(); p == nil || !strings.Contains(fmt.Sprint(p), "boom") {
			t.Errorf("recovered %v, want the panic of index 1", p)
		}
	}()
	Parallel([]int{0, 1, 2}, func(i int) {
		if i == 1 {
			panic("boom")
		}
	})
	t.Error("no panic came back")
}
