package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"sharpflat/lab/train"
	"sharpflat/nn"
)

// memRecorder keeps every step and event.
type memRecorder struct {
	steps  []train.Metrics
	events []train.Event
}

func (r *memRecorder) Record(m *train.Metrics) error { r.steps = append(r.steps, *m); return nil }
func (r *memRecorder) Event(e train.Event) error     { r.events = append(r.events, e); return nil }

// small is a fast config: the demo's data and net on fewer examples.
func small() train.Config {
	c, _ := train.Preset("demo")
	c.N, c.HessianSet, c.K, c.EvalEvery, c.EnergyEvery, c.HutchSamples = 300, 100, 4, 5, 3, 4
	return c
}

// deterministicJSON drops the wall-clock fields of a step.
func deterministicJSON(t *testing.T, m train.Metrics) string {
	m.StepsPerSec, m.WallSec, m.RefreshMS = 0, 0, 0
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// budget bounds how long a test waits for an engine before it fails. It is not a speed
// requirement: it only turns a hang into a failure instead of the test binary's panic.
const budget = 5 * time.Minute

// await reads snapshots until cond holds and returns that snapshot. It fails the test if the
// engine stops first or the budget runs out.
func await(t *testing.T, sub *Subscription, what string, cond func(s Snapshot) bool) Snapshot {
	t.Helper()
	timeout := time.After(budget)
	for {
		select {
		case s, ok := <-sub.C():
			if !ok {
				t.Fatalf("the engine stopped while waiting for %s", what)
			}
			if cond(s) {
				return s
			}
		case <-timeout:
			t.Fatalf("gave up waiting for %s after %v", what, budget)
		}
	}
}

// startPaused returns a paused engine running in the background and a subscription to it.
func startPaused(t *testing.T, c train.Config, opts Options) (*Engine, *Subscription) {
	t.Helper()
	opts.StartPaused = true
	e, err := New(c, opts)
	if err != nil {
		t.Fatal(err)
	}
	sub := e.Subscribe()
	ctx, cancel := context.WithCancel(context.Background())
	go e.Run(ctx)
	t.Cleanup(func() { cancel(); <-e.Done() })
	return e, sub
}

func cfgOf(e *Engine) (c train.Config) {
	e.Do(func(t *train.Trainer) { c = t.Config() })
	return c
}

// The engine's steps are the trainer's (with λ_{k+1}, as the engine asks), bit for bit,
// whatever its subscribers do.
func TestDeterministicWhateverTheSubscribers(t *testing.T) {
	c := small()
	tr, err := train.New(c)
	if err != nil {
		t.Fatal(err)
	}
	tr.SetExtraPair(true)
	tr.SetBatchSharpnessEvery(DefaultBatchSharpnessEvery) // as the engine trains it
	var want []train.Metrics
	for range 25 {
		m, err := tr.Step()
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, m)
	}
	rec := &memRecorder{}
	e, err := New(c, Options{MaxSteps: 25, Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ { // readers of every kind: eager, slow, never
		s := e.Subscribe()
		go func(i int) {
			for range s.C() {
				if i == 1 {
					time.Sleep(30 * time.Millisecond)
				}
				if i == 2 {
					select {} // never reads again
				}
			}
		}(i)
	}
	if err := e.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(rec.steps) != 25 {
		t.Fatalf("%d steps recorded, want 25", len(rec.steps))
	}
	for i := range want {
		if x, y := deterministicJSON(t, want[i]), deterministicJSON(t, rec.steps[i]); x != y {
			t.Fatalf("step %d differs:\n%s\n%s", i+1, x, y)
		}
	}
}

func TestCommandsChangeSettings(t *testing.T) {
	e, sub := startPaused(t, small(), Options{})
	for _, tc := range []struct {
		name  string
		cmd   func()
		check func(c train.Config) bool
	}{
		{"alpha 0 = Dom-SGD", func() { e.SetAlpha(0) }, func(c train.Config) bool { return c.WDom == 1 && c.WBulk == 0 }},
		{"alpha 1 = Bulk-SGD", func() { e.SetAlpha(1) }, func(c train.Config) bool { return c.WDom == 0 && c.WBulk == 1 }},
		{"alpha 0.25", func() { e.SetAlpha(0.25) }, func(c train.Config) bool { return c.WDom == 1 && c.WBulk == 0.5 }},
		{"weights", func() { e.SetWeights(0.3, 1.5) }, func(c train.Config) bool { return c.WDom == 0.3 && c.WBulk == 1.5 }},
		{"lr", func() { e.SetLR(0.05) }, func(c train.Config) bool { return c.LR == 0.05 }},
		{"momentum", func() { e.SetMomentum(0.9) }, func(c train.Config) bool {
			return c.Momentum == 0.9 && math.Abs(c.StabilityThreshold()-3.8/0.05) < 1e-12
		}},
		{"batch", func() { e.SetBatch(64) }, func(c train.Config) bool { return c.Batch == 64 }},
		{"k", func() { e.SetK(6) }, func(c train.Config) bool { return c.K == 6 }},
		{"refresh", func() { e.SetRefresh(0) }, func(c train.Config) bool { return c.RefreshEvery == 0 }},
		{"hessian set", func() { e.SetHessianSet(50) }, func(c train.Config) bool { return c.HessianSet == 50 }},
		{"adam", func() { e.SetOptimizer(train.Adam) }, func(c train.Config) bool { return c.Optimizer == train.Adam }},
		{"sgd", func() { e.SetOptimizer(train.SGD) }, func(c train.Config) bool { return c.Optimizer == train.SGD }},
	} {
		tc.cmd()
		if c := cfgOf(e); !tc.check(c) {
			t.Errorf("%s: config after the command %+v", tc.name, c)
		}
	}

	// Step N from paused, then paused again at N; resume and pause.
	e.StepN(3)
	await(t, sub, "3 steps, paused", func(s Snapshot) bool { return s.Step == 3 && s.Run == Paused })
	e.Resume()
	await(t, sub, "more than 5 steps", func(s Snapshot) bool { return s.Step > 5 })
	e.Pause()
	await(t, sub, "paused", func(s Snapshot) bool { return s.Run == Paused })

	// Recompute when paused refreshes at once with the new k and Hessian set (a command
	// queued behind it, such as Do, may interrupt it; it is then taken again after it).
	e.Recompute()
	await(t, sub, "the recomputed basis", func(s Snapshot) bool { return s.Basis.Step == s.Step })
	var k, set, bstep, step int
	e.Do(func(t *train.Trainer) {
		_, _, hess := t.Data()
		k, set, bstep, step = len(t.Basis().Values), hess.N, t.Basis().Step, t.StepCount()
	})
	if k != 6 || set != 50 || bstep != step {
		t.Errorf("after recompute: k=%d |S|=%d basis step %d at step %d", k, set, bstep, step)
	}

	// Checkpoint, train on, roll back: θ and step return exactly.
	e.Checkpoint()
	var th0 []float64
	var s0 int
	e.Do(func(t *train.Trainer) { th0, s0 = t.Theta(), t.StepCount() })
	e.StepN(4)
	await(t, sub, "4 more steps, paused", func(s Snapshot) bool { return s.Step == s0+4 && s.Run == Paused })
	e.Rollback()
	var th1 []float64
	var s1 int
	e.Do(func(t *train.Trainer) { th1, s1 = t.Theta(), t.StepCount() })
	if s1 != s0 || !equal(th0, th1) {
		t.Errorf("rollback: step %d θ equal %v, want step %d", s1, equal(th0, th1), s0)
	}
	if s := await(t, sub, "the rolled-back history", func(s Snapshot) bool { return s.Step == s0 }); s.History.Loss.Points[len(s.History.Loss.Points)-1].Step > s0 {
		t.Errorf("history reaches step %d after a rollback to %d", s.History.Loss.Points[len(s.History.Loss.Points)-1].Step, s0)
	}

	// Reset with a new seed: step 0, new θ, settings kept.
	e.Reset(7)
	if c := cfgOf(e); c.Seed != 7 || c.LR != 0.05 {
		t.Errorf("reset: seed %d lr %v", c.Seed, c.LR)
	}
	var s int
	e.Do(func(t *train.Trainer) { s = t.StepCount() })
	if s != 0 {
		t.Errorf("reset: step %d", s)
	}

	// Another preset: its settings and network.
	e.LoadPreset("moons")
	var arch string
	e.Do(func(t *train.Trainer) { arch = t.Model().String() })
	if c := cfgOf(e); c.Preset != "moons" || arch != "2-32-32-2 tanh" {
		t.Errorf("preset moons: %s arch %s", c.Preset, arch)
	}
	e.LoadPreset("nope") // refused with an error event, nothing else changes
	if c := cfgOf(e); c.Preset != "moons" {
		t.Errorf("unknown preset changed the engine to %s", c.Preset)
	}

	// The setup panel's fresh run: exactly its Config, from step 0.
	want := cfgOf(e)
	want.Data, want.Hidden, want.Act, want.Seed = "spirals", []int{8, 4}, nn.ReLU, 5
	e.Setup(want)
	e.Do(func(t *train.Trainer) { arch, s = t.Model().String(), t.StepCount() })
	if c := cfgOf(e); !reflect.DeepEqual(c, want) || arch != "2-8-4-3 relu" || s != 0 {
		t.Errorf("setup: %+v %s at step %d, want %+v 2-8-4-3 relu at step 0", c, arch, s, want)
	}
	bad := want
	bad.Hidden = []int{0}
	e.Setup(bad) // refused with an error event, the run in force goes on
	if c := cfgOf(e); !reflect.DeepEqual(c, want) {
		t.Errorf("a refused setup changed the engine to %+v", c)
	}
}

// Settings asked for again before the engine reaches a step boundary replace the waiting
// value: a held key queues one command, never a backlog.
func TestSettingsCoalesce(t *testing.T) {
	e, err := New(small(), Options{StartPaused: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 1000; i++ {
		e.SetLR(float64(i) / 1000)
		e.SetAlpha(float64(i%2) / 2)
		e.SetK(1 + i%5)
	}
	e.Checkpoint()
	e.SetLR(0.125)
	e.qmu.Lock()
	n := len(e.queue)
	e.qmu.Unlock()
	if n != 4 || e.Dropped() != 0 {
		t.Errorf("%d commands queued (%d dropped), want 4: lr, weights, k, checkpoint", n, e.Dropped())
	}
	for range 2 * maxQueued {
		e.Checkpoint()
	}
	if e.Dropped() == 0 {
		t.Error("an unbounded queue: nothing dropped")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); <-e.Done() }()
	go e.Run(ctx)
	if c := cfgOf(e); c.LR != 0.125 || c.WDom != 1 || c.WBulk != 0 || c.K != 1 {
		t.Errorf("after the burst: lr %v, weights (%v, %v), k %d; want the last values 0.125, (1, 0), 1", c.LR, c.WDom, c.WBulk, c.K)
	}
}

// Rollback reproduces the same steps through the engine too.
func TestRollbackReplaysExactly(t *testing.T) {
	c := small()
	c.KeepEvery = 5
	rec := &memRecorder{}
	e, sub := startPaused(t, c, Options{Recorder: rec})
	e.StepN(8)
	await(t, sub, "8 steps", func(s Snapshot) bool { return s.Step == 8 && s.Run == Paused })
	e.Rollback() // to the automatic checkpoint at step 5
	var s int
	e.Do(func(t *train.Trainer) { s = t.StepCount() })
	if s != 5 {
		t.Fatalf("rolled back to step %d, want 5", s)
	}
	e.StepN(3)
	await(t, sub, "8 steps again", func(s Snapshot) bool { return s.Step == 8 && s.Run == Paused })
	e.Do(func(*train.Trainer) {})
	if len(rec.steps) != 11 {
		t.Fatalf("%d steps recorded, want 11", len(rec.steps))
	}
	for i := 5; i < 8; i++ {
		if x, y := deterministicJSON(t, rec.steps[i]), deterministicJSON(t, rec.steps[i+3]); x != y {
			t.Errorf("step %d after rollback differs:\n%s\n%s", i+1, x, y)
		}
	}
}

func TestDivergencePausesAndRollsBack(t *testing.T) {
	c := small()
	c.LR, c.KeepEvery = 0.1, 5
	rec := &memRecorder{}
	e, sub := startPaused(t, c, Options{Recorder: rec})
	// 10 steps, then η far above 2/λ₁: the checkpoint at step 10 is the last good state.
	e.StepN(10)
	await(t, sub, "10 steps", func(s Snapshot) bool { return s.Step == 10 && s.Run == Paused })
	e.SetLR(500)
	e.Resume()
	snap := await(t, sub, "the divergence", func(s Snapshot) bool { return s.Run == Diverged })
	if d := snap.Diverged; d == nil || d.ThresholdName != "2/η" || float64(d.Threshold) != 0.004 || !d.Sharpness.Valid() {
		t.Errorf("snapshot's divergence %+v should carry the step, λ₁ and 2/η", d)
	}
	var ev train.Event
	e.Do(func(*train.Trainer) {
		for _, x := range rec.events {
			if x.Kind == train.EventDivergence {
				ev = x
			}
		}
	})
	if !strings.Contains(ev.Text, "diverged at step") || !strings.Contains(ev.Text, "λ₁") || !strings.Contains(ev.Text, "2/η 0.004") {
		t.Errorf("divergence event %q should name the step, λ₁ and 2/η", ev.Text)
	}
	e.Resume() // refused while diverged
	e.Do(func(*train.Trainer) {})
	if s := await(t, sub, "a snapshot", func(Snapshot) bool { return true }); s.Run != Diverged {
		t.Errorf("resume after divergence: state %v", s.Run)
	}
	e.SetLR(0.1)
	e.Rollback()
	var th []float64
	e.Do(func(t *train.Trainer) { th = t.Theta() })
	for _, x := range th {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			t.Fatal("θ not finite after rollback")
		}
	}
	s0 := await(t, sub, "paused after the rollback", func(s Snapshot) bool { return s.Run == Paused }).Step
	if s0 != 10 {
		t.Errorf("rolled back to step %d, want the checkpoint at 10", s0)
	}
	e.Resume()
	if s := await(t, sub, "3 steps after the rollback", func(s Snapshot) bool { return s.Step > s0+3 }); s.Run != Running {
		t.Errorf("after rollback and resume: %v", s.Run)
	}
}

func TestSnapshotsCoalescedAndRateLimited(t *testing.T) {
	e, err := New(small(), Options{MaxSteps: 200})
	if err != nil {
		t.Fatal(err)
	}
	s := e.Subscribe()
	start := time.Now()
	go e.Run(context.Background())
	n, last := 0, Snapshot{}
	for snap := range s.C() {
		n++
		last = snap
	}
	elapsed := time.Since(start).Seconds()
	if last.Run != Stopped || last.Step != 200 {
		t.Errorf("final snapshot: state %v step %d", last.Run, last.Step)
	}
	if max := MaxHz*elapsed + 3; float64(n) > max {
		t.Errorf("%d snapshots in %.2fs, more than %d/s", n, elapsed, MaxHz)
	}
	if last.History.Loss.Points[len(last.History.Loss.Points)-1].Step != 200 {
		t.Error("history does not reach the last step")
	}
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

type panicRecorder struct{ memRecorder }

func (p *panicRecorder) Record(m *train.Metrics) error {
	if m.Step == 3 {
		panic("recorder bug")
	}
	return nil
}

// A panic inside the engine ends that engine only, as an error; subscribers are released.
func TestEnginePanicBecomesError(t *testing.T) {
	e, err := New(small(), Options{Recorder: &panicRecorder{}})
	if err != nil {
		t.Fatal(err)
	}
	s := e.Subscribe()
	err = e.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "recorder bug") || !strings.Contains(err.Error(), "step 3") {
		t.Fatalf("Run returned %v", err)
	}
	var last Snapshot
	for last = range s.C() {
	}
	if last.Run != Stopped || last.Events[len(last.Events)-1].Kind != train.EventError {
		t.Errorf("final snapshot %v, last event %+v", last.Run, last.Events[len(last.Events)-1])
	}
}

// A command that changes the refresh (here k) stops a refresh in progress; the step is taken
// again with the new setting, and nothing of the interrupted refresh shows. The hook counts
// the trainer's interrupt checks, one before each product, so the command arrives exactly
// after the fifth product of the first refresh.
func TestCommandInterruptsARefresh(t *testing.T) {
	rec := &memRecorder{}
	e, err := New(small(), Options{Recorder: rec, MaxSteps: 2})
	if err != nil {
		t.Fatal(err)
	}
	checks := 0
	e.t.SetInterrupt(func() bool {
		checks++
		if checks == 5 {
			e.SetK(3)
		}
		return e.interrupt.Load()
	})
	if err := e.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e.interrupted != 1 || len(rec.steps) != 2 {
		t.Fatalf("%d refreshes interrupted, %d steps recorded; want 1 and 2", e.interrupted, len(rec.steps))
	}
	if m := rec.steps[0]; m.K != 3 || len(m.Spectrum) != 3 || !m.Refreshed {
		t.Errorf("first step: k %d, %d eigenvalues; want the refresh redone with k = 3", m.K, len(m.Spectrum))
	}
	// The same two steps as a trainer that had k = 3 from the start.
	c := small()
	c.K = 3
	tr, err := train.New(c)
	if err != nil {
		t.Fatal(err)
	}
	tr.SetExtraPair(true)
	tr.SetBatchSharpnessEvery(DefaultBatchSharpnessEvery) // as the engine trains it
	for i := range 2 {
		m, err := tr.Step()
		if err != nil {
			t.Fatal(err)
		}
		if x, y := deterministicJSON(t, m), deterministicJSON(t, rec.steps[i]); x != y {
			t.Errorf("step %d differs from an uninterrupted run:\n%s\n%s", i+1, x, y)
		}
	}
}

// The end of Run's context stops a refresh in progress: Run returns without finishing it.
func TestStopInterruptsARefresh(t *testing.T) {
	rec := &memRecorder{}
	e, err := New(small(), Options{Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	checks := 0
	e.t.SetInterrupt(func() bool {
		checks++
		if checks == 5 {
			cancel()
			for !e.interrupt.Load() { // the engine's AfterFunc runs in a goroutine of its own
				runtime.Gosched()
			}
		}
		return e.interrupt.Load()
	})
	if err := e.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if e.interrupted != 1 || len(rec.steps) != 0 || checks != 5 {
		t.Errorf("%d refreshes interrupted, %d steps, %d products checked; want 1, 0 and 5", e.interrupted, len(rec.steps), checks)
	}
}

// hasMark reports whether the snapshot's history holds a mark at m's step, of m's kind,
// with m's label.
func hasMark(s Snapshot, m Mark) bool {
	return slices.ContainsFunc(s.History.Marks, func(h Mark) bool { return sameMark(h, m) })
}

func sameMark(a, b Mark) bool { return a.Step == b.Step && a.Kind == b.Kind && a.Label == b.Label }

// The engine marks the history: a change of the update (not a setting that leaves it as it
// was), a rollback at the step returned to, a divergence; a rollback drops the marks after
// its step. The engine's steps carry λ_{k+1} and felt.
func TestEngineMarks(t *testing.T) {
	c := small()
	c.KeepEvery = 5
	e, sub := startPaused(t, c, Options{})
	e.StepN(3)
	await(t, sub, "3 steps", func(s Snapshot) bool { return s.Step == 3 && s.Run == Paused })
	e.SetAlpha(0)
	await(t, sub, "the Dom mark", func(s Snapshot) bool { return hasMark(s, Mark{Step: 3, Kind: MarkUpdate, Label: "Dom"}) })
	e.SetAlpha(0) // no change: no mark
	e.SetLR(0.05) // not the update: no mark
	e.SetWeights(2, 0.5)
	s := await(t, sub, "the weights mark", func(s Snapshot) bool { return hasMark(s, Mark{Step: 3, Kind: MarkUpdate, Label: "w2,0.5"}) })
	if len(s.History.Marks) != 1 { // no step trained with Dom: the update set last at a step is its mark
		t.Errorf("marks %+v, want w2,0.5 alone", s.History.Marks)
	}
	e.StepN(1) // step 4 with (2, 0.5)
	await(t, sub, "4 steps", func(s Snapshot) bool { return s.Step == 4 && s.Run == Paused })
	e.SetAlpha(0.5)
	e.Checkpoint() // the user's, at 4
	e.StepN(3)
	s = await(t, sub, "7 steps", func(s Snapshot) bool { return s.Step == 7 && s.Run == Paused })
	for _, series := range []*Series{s.History.BulkTop, s.History.Felt} {
		if len(series.Points) != 7 {
			t.Fatalf("%d points of λ_{k+1} or felt after 7 steps", len(series.Points))
		}
	}
	if p := s.History.Felt.Points[6]; p.V != s.History.Sharpness.Points[6].V || p.Stale { // SGD feels λ₁
		t.Errorf("felt %+v under SGD, λ₁ %+v", p, s.History.Sharpness.Points[6])
	}
	if p := s.History.Felt.Points[3]; p.V != 2*s.History.Sharpness.Points[3].V { // (2, 0.5) at step 4
		t.Errorf("felt %+v under (2, 0.5), λ₁ %+v, λ_{k+1} %+v", p, s.History.Sharpness.Points[3], s.History.BulkTop.Points[3])
	}
	if !s.Last.BulkTop.Valid() || s.Basis.Next != float64(s.Last.BulkTop) {
		t.Errorf("the engine's steps should carry λ_{k+1}: %v (basis %v)", s.Last.BulkTop, s.Basis.Next)
	}
	if s.RollbackTo != 4 || s.RollbackWhy != "manual" {
		t.Errorf("rollback target %d (%q), want the user's checkpoint at 4", s.RollbackTo, s.RollbackWhy)
	}
	e.Rollback()
	// The branch left goes with its marks (SGD at 4 included); the rollback's mark names
	// the update the new branch trains with (the settings in force stay: SGD).
	s = await(t, sub, "the rollback mark", func(s Snapshot) bool { return hasMark(s, Mark{Step: 4, Kind: MarkRollback, Label: "↶ 7 SGD"}) })
	if want := []Mark{{Step: 3, Kind: MarkUpdate, Label: "w2,0.5"}, {Step: 4, Kind: MarkRollback, Label: "↶ 7 SGD"}}; s.Step != 4 || !slices.EqualFunc(s.History.Marks, want, sameMark) {
		t.Errorf("after the rollback: step %d, marks %+v", s.Step, s.History.Marks)
	}

	// A divergence is marked; the rollback from it goes to the user's checkpoint and drops it.
	e.SetLR(500)
	e.Resume()
	s = await(t, sub, "the divergence", func(s Snapshot) bool { return s.Run == Diverged })
	d := s.Diverged.Step
	if !hasMark(s, Mark{Step: d, Kind: MarkDivergence, Label: "✗"}) {
		t.Errorf("no divergence mark at %d: %+v", d, s.History.Marks)
	}
	e.SetLR(0.1)
	e.Rollback()
	s = await(t, sub, "the rollback from the divergence", func(s Snapshot) bool { return s.Run == Paused })
	want := []Mark{{Step: 3, Kind: MarkUpdate, Label: "w2,0.5"}, {Step: 4, Kind: MarkRollback, Label: fmt.Sprintf("↶ %d SGD", d)}}
	if s.Step != 4 || !slices.EqualFunc(s.History.Marks, want, sameMark) {
		t.Errorf("after the rollback from step %d: step %d, marks %+v", d, s.Step, s.History.Marks)
	}

	// A reset starts a new history, without marks.
	e.Reset(0)
	s = await(t, sub, "the reset", func(s Snapshot) bool { return s.Step == 0 && len(s.History.Loss.Points) == 0 })
	if len(s.History.Marks) != 0 {
		t.Errorf("marks after a reset: %+v", s.History.Marks)
	}
	e.StepN(1)
	if s := await(t, sub, "a step after the reset", func(s Snapshot) bool { return s.Step == 1 }); !s.Last.BulkTop.Valid() {
		t.Error("no λ_{k+1} after a reset")
	}
}

// λ₁, λ_{k+1} and felt of an old basis are stale: with refresh on request, every step after
// the first one on a basis.
func TestEngineStalePoints(t *testing.T) {
	e, sub := startPaused(t, small(), Options{})
	e.StepN(2)
	await(t, sub, "2 steps", func(s Snapshot) bool { return s.Step == 2 && s.Run == Paused })
	e.SetRefresh(0)
	e.StepN(3)
	s := await(t, sub, "5 steps", func(s Snapshot) bool { return s.Step == 5 && s.Run == Paused })
	for _, series := range []*Series{s.History.Sharpness, s.History.BulkTop, s.History.Felt} {
		var stale []bool
		for _, p := range series.Points {
			stale = append(stale, p.Stale)
		}
		// Steps 1, 2 refreshed (T = 1); step 3 on the basis of step 2's refresh (age 2).
		if !slices.Equal(stale, []bool{false, false, true, true, true}) {
			t.Errorf("stale flags %v, want the steps after T became manual stale", stale)
		}
	}
	e.Recompute()
	e.StepN(2)
	s = await(t, sub, "7 steps", func(s Snapshot) bool { return s.Step == 7 && s.Run == Paused })
	if p := s.History.Sharpness.Points; p[5].Stale || !p[6].Stale {
		t.Errorf("after a recompute: %+v %+v, want fresh then stale", p[5], p[6])
	}
}

// TestProgressOnlyDuringARefresh: a snapshot says a refresh is in progress only while one
// is: after a requested refresh of a paused engine (a command, not a step) it says none.
func TestProgressOnlyDuringARefresh(t *testing.T) {
	cfg, err := train.Preset("demo")
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg, Options{StartPaused: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	defer func() { cancel(); <-done }()
	sub := e.Subscribe()
	defer sub.Cancel()
	e.SetK(60) // a refresh of hundreds of products
	e.Recompute()
	for s := range sub.C() {
		if len(s.Basis.Values) == 60 {
			if s.Refreshing != 0 {
				t.Errorf("paused after the refresh, a snapshot says %d HVPs of a refresh are in progress", s.Refreshing)
			}
			return
		}
	}
	t.Fatal("the engine stopped before the refresh")
}

// A paused engine's recompute that a command queued behind it interrupts is taken again
// once that command has run: the key press is never lost. The engine is held inside a Do
// while Recompute and SetK are queued, so the interrupt is already set when the recompute
// starts (before the fix it was logged as an error and never done).
func TestPausedRecomputeSurvivesACommand(t *testing.T) {
	e, err := New(small(), Options{StartPaused: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	defer func() { cancel(); <-done }()
	sub := e.Subscribe()
	defer sub.Cancel()

	entered, hold := make(chan struct{}), make(chan struct{})
	go e.Do(func(*train.Trainer) { close(entered); <-hold })
	<-entered
	e.Recompute()
	e.SetK(4)
	close(hold)
	s := await(t, sub, "the recomputed basis", func(s Snapshot) bool { return s.Basis.Step == 0 && len(s.Basis.Values) == 4 })
	for _, ev := range s.Events {
		if ev.Kind == train.EventError {
			t.Errorf("the interrupted recompute was reported as an error: %s", ev.Text)
		}
	}
}
