package lab

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

// memRecorder keeps every step and event.
type memRecorder struct {
	steps  []Metrics
	events []Event
}

func (r *memRecorder) Record(m *Metrics) error { r.steps = append(r.steps, *m); return nil }
func (r *memRecorder) Event(e Event) error     { r.events = append(r.events, e); return nil }

// small is a fast config: the demo's data and net on fewer examples.
func small() Config {
	c, _ := Preset("demo")
	c.N, c.HessianSet, c.K, c.EvalEvery, c.EnergyEvery, c.HutchSamples = 300, 100, 4, 5, 3, 4
	return c
}

func runSteps(t *testing.T, c Config, steps int, opts Options) (*Engine, *memRecorder) {
	t.Helper()
	rec := &memRecorder{}
	opts.MaxSteps, opts.Recorder = steps, rec
	e, err := New(c, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := e.Run(ctx); err != nil {
		t.Fatal(err)
	}
	return e, rec
}

// deterministicJSON drops the wall-clock fields of a step.
func deterministicJSON(t *testing.T, m Metrics) string {
	m.StepsPerSec, m.WallSec, m.RefreshMS = 0, 0, 0
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDeterministicWhateverTheSubscribers(t *testing.T) {
	c := small()
	_, a := runSteps(t, c, 25, Options{})

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
	if len(a.steps) != 25 || len(rec.steps) != 25 {
		t.Fatalf("steps %d and %d, want 25", len(a.steps), len(rec.steps))
	}
	for i := range a.steps {
		if x, y := deterministicJSON(t, a.steps[i]), deterministicJSON(t, rec.steps[i]); x != y {
			t.Fatalf("step %d differs:\n%s\n%s", i+1, x, y)
		}
	}
}

func TestMetricsAndRefreshSchedule(t *testing.T) {
	c := small()
	c.RefreshEvery = 4
	_, rec := runSteps(t, c, 12, Options{})
	for _, m := range rec.steps {
		wantRefresh := (m.Step-1)%4 == 0
		if m.Refreshed != wantRefresh {
			t.Errorf("step %d: refreshed %v, want %v", m.Step, m.Refreshed, wantRefresh)
		}
		if m.Refreshed && (len(m.Spectrum) != c.K || len(m.Residuals) != c.K || m.RefreshHVPs == 0) {
			t.Errorf("step %d: refresh metrics missing: %+v", m.Step, m)
		}
		if !m.Sharpness.Valid() || !m.ChiGrad.Valid() || float64(m.ChiGrad) > 1+1e-12 {
			t.Errorf("step %d: sharpness %v chi %v", m.Step, m.Sharpness, m.ChiGrad)
		}
		if got, want := float64(m.StabilityThreshold), 2/c.LR; math.Abs(got-want) > 1e-12 {
			t.Errorf("threshold %v, want %v", got, want)
		}
		evalStep := (m.Step-1)%c.EvalEvery == 0
		if m.TestLoss.Valid() != evalStep || m.TrainLoss.Valid() != evalStep || m.ChiFullGrad.Valid() != evalStep {
			t.Errorf("step %d: eval metrics valid=%v, want %v", m.Step, m.TestLoss.Valid(), evalStep)
		}
	}
	first := rec.steps[0]
	if first.GGNRayleigh == nil || !first.EnergyG.Valid() {
		t.Errorf("first refresh should carry the G/F split and energies: %+v", first)
	}
	for i, l := range first.Spectrum {
		if d := first.GGNRayleigh[i] + first.FuncRayleigh[i] - l; math.Abs(d) > 1e-8*math.Abs(first.Spectrum[0]) {
			t.Errorf("vᵀGv + vᵀFv − λ = %.3g for pair %d", d, i)
		}
	}
	if !rec.steps[4].Overlap.Valid() || rec.steps[4].Overlap > 1+1e-12 || rec.steps[4].Overlap < 0 {
		t.Errorf("overlap of the second refresh %v", rec.steps[4].Overlap)
	}
}

// startPaused returns a paused engine running in the background.
func startPaused(t *testing.T, c Config) (*Engine, context.CancelFunc) {
	t.Helper()
	e, err := New(c, Options{StartPaused: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go e.Run(ctx)
	t.Cleanup(func() { cancel(); <-e.Done() })
	return e, cancel
}

func view(e *Engine) (c Config, step int, st State) {
	e.Do(func(v View) { c, step, st = v.Config(), v.Step(), v.e.state })
	return
}

func TestCommandsChangeSettings(t *testing.T) {
	e, _ := startPaused(t, small())
	for _, tc := range []struct {
		name  string
		cmd   func()
		check func(c Config) bool
	}{
		{"alpha 0 = Dom-SGD", func() { e.SetAlpha(0) }, func(c Config) bool { return c.WDom == 1 && c.WBulk == 0 }},
		{"alpha 1 = Bulk-SGD", func() { e.SetAlpha(1) }, func(c Config) bool { return c.WDom == 0 && c.WBulk == 1 }},
		{"alpha 0.25", func() { e.SetAlpha(0.25) }, func(c Config) bool { return c.WDom == 1 && c.WBulk == 0.5 }},
		{"weights", func() { e.SetWeights(0.3, 1.5) }, func(c Config) bool { return c.WDom == 0.3 && c.WBulk == 1.5 }},
		{"lr", func() { e.SetLR(0.05) }, func(c Config) bool { return c.LR == 0.05 }},
		{"momentum", func() { e.SetMomentum(0.9) }, func(c Config) bool { return c.Momentum == 0.9 && math.Abs(c.StabilityThreshold()-3.8/0.05) < 1e-12 }},
		{"batch", func() { e.SetBatch(64) }, func(c Config) bool { return c.Batch == 64 }},
		{"k", func() { e.SetK(6) }, func(c Config) bool { return c.K == 6 }},
		{"refresh", func() { e.SetRefresh(0) }, func(c Config) bool { return c.RefreshEvery == 0 }},
		{"hessian set", func() { e.SetHessianSet(50) }, func(c Config) bool { return c.HessianSet == 50 }},
		{"adam", func() { e.SetOptimizer("adam") }, func(c Config) bool { return c.Optimizer == "adam" }},
		{"sgd", func() { e.SetOptimizer("sgd") }, func(c Config) bool { return c.Optimizer == "sgd" }},
	} {
		tc.cmd()
		if c, _, _ := view(e); !tc.check(c) {
			t.Errorf("%s: config after the command %+v", tc.name, c)
		}
	}

	// Step N from paused, then paused again at N; resume and pause.
	e.StepN(3)
	waitFor(t, func() bool { _, s, st := view(e); return s == 3 && st == Paused })
	e.Resume()
	waitFor(t, func() bool { _, s, _ := view(e); return s > 5 })
	e.Pause()
	waitFor(t, func() bool { _, _, st := view(e); return st == Paused })

	// Recompute when paused refreshes at once with the new k and Hessian set.
	e.Recompute()
	var k, set, bstep, step int
	e.Do(func(v View) { k, set, bstep, step = len(v.e.basis.values), v.e.hess.N, v.e.basis.step, v.e.step })
	if k != 6 || set != 50 || bstep != step {
		t.Errorf("after recompute: k=%d |S|=%d basis step %d at step %d", k, set, bstep, step)
	}

	// Checkpoint, train on, roll back: θ and step return exactly.
	e.Checkpoint()
	var th0 []float64
	var s0 int
	e.Do(func(v View) { th0, s0 = v.Theta(), v.Step() })
	e.StepN(4)
	waitFor(t, func() bool { _, s, st := view(e); return s == s0+4 && st == Paused })
	e.Rollback()
	var th1 []float64
	var s1 int
	e.Do(func(v View) { th1, s1 = v.Theta(), v.Step() })
	if s1 != s0 || !equal(th0, th1) {
		t.Errorf("rollback: step %d θ equal %v, want step %d", s1, equal(th0, th1), s0)
	}

	// Reset with a new seed: step 0, new θ, settings kept.
	e.Reset(7)
	c, s, _ := view(e)
	if s != 0 || c.Seed != 7 || c.LR != 0.05 {
		t.Errorf("reset: step %d seed %d lr %v", s, c.Seed, c.LR)
	}

	// Another preset: its settings and network.
	e.LoadPreset("moons")
	var arch string
	e.Do(func(v View) { arch = v.Model().String() })
	if c, s, _ := view(e); c.Preset != "moons" || s != 0 || arch != "2-32-32-2 tanh" {
		t.Errorf("preset moons: %s step %d arch %s", c.Preset, s, arch)
	}
	e.LoadPreset("nope") // refused with an error event, nothing else changes
	if c, _, _ := view(e); c.Preset != "moons" {
		t.Errorf("unknown preset changed the engine to %s", c.Preset)
	}
}

// Rollback reproduces the same steps: training from a checkpoint is the same as if the steps
// after it never happened.
func TestRollbackReplaysExactly(t *testing.T) {
	c := small()
	c.KeepEvery = 5
	rec := &memRecorder{}
	e, err := New(c, Options{Recorder: rec, StartPaused: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); <-e.Done() }()
	go e.Run(ctx)
	e.StepN(8)
	waitFor(t, func() bool { _, s, st := view(e); return s == 8 && st == Paused })
	e.Rollback() // to the automatic checkpoint at step 5
	if _, s, _ := view(e); s != 5 {
		t.Fatalf("rolled back to step %d, want 5", s)
	}
	e.StepN(3)
	waitFor(t, func() bool { _, s, st := view(e); return s == 8 && st == Paused })
	e.Do(func(View) {})
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
	e, err := New(c, Options{Recorder: rec})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); <-e.Done() }()
	go e.Run(ctx)
	waitFor(t, func() bool { _, s, _ := view(e); return s >= 10 })
	e.SetLR(500) // far above 2/λ₁
	waitFor(t, func() bool { _, _, st := view(e); return st == Diverged })
	var ev Event
	for _, x := range rec.events {
		if x.Kind == "divergence" {
			ev = x
		}
	}
	if !strings.Contains(ev.Text, "diverged at step") || !strings.Contains(ev.Text, "λ₁") || !strings.Contains(ev.Text, "2/η 0.004") {
		t.Errorf("divergence event %q should name the step, λ₁ and 2/η", ev.Text)
	}
	e.Resume() // refused while diverged
	if _, _, st := view(e); st != Diverged {
		t.Errorf("resume after divergence: state %v", st)
	}
	e.SetLR(0.1)
	e.Rollback()
	var th []float64
	e.Do(func(v View) { th = v.Theta() })
	for _, x := range th {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			t.Fatal("θ not finite after rollback")
		}
	}
	if _, _, st := view(e); st != Paused {
		t.Errorf("state after rollback %v, want paused", st)
	}
	e.Resume()
	_, s0, _ := view(e)
	waitFor(t, func() bool { _, s, _ := view(e); return s > s0+3 })
	if _, _, st := view(e); st != Running {
		t.Errorf("after rollback and resume: %v", st)
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
	if last.State != Stopped || last.Step != 200 {
		t.Errorf("final snapshot: state %v step %d", last.State, last.Step)
	}
	if max := MaxHz*elapsed + 3; float64(n) > max {
		t.Errorf("%d snapshots in %.2fs, more than %d/s", n, elapsed, MaxHz)
	}
	if last.History.Loss.Points[len(last.History.Loss.Points)-1].Step != 200 {
		t.Error("history does not reach the last step")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
		time.Sleep(2 * time.Millisecond)
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

func (p *panicRecorder) Record(m *Metrics) error {
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
	if last.State != Stopped || last.Events[len(last.Events)-1].Kind != "error" {
		t.Errorf("final snapshot %v, last event %+v", last.State, last.Events[len(last.Events)-1])
	}
}

// Automatic checkpoints are not taken while the training loss is far above its best: a
// rollback after a blow-up returns to a state from before it went astray.
func TestAutoCheckpointsOnlyWhenGood(t *testing.T) {
	c := small()
	c.KeepEvery, c.EvalEvery, c.DivergeFactor = 5, 1, 1e9 // never flagged: only the loss tells
	e, err := New(c, Options{StartPaused: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); <-e.Done() }()
	go e.Run(ctx)
	e.StepN(40)
	waitFor(t, func() bool { _, s, st := view(e); return s == 40 && st == Paused })
	e.SetLR(60) // unstable: the loss climbs within a few steps
	e.StepN(12)
	waitFor(t, func() bool { _, s, st := view(e); return s == 52 && st == Paused })
	var cps []int
	var best float64
	e.Do(func(v View) {
		best = v.e.bestTrain
		for _, cp := range v.e.checkpts {
			cps = append(cps, cp.step)
		}
	})
	e.Rollback()
	var l float64
	e.Do(func(v View) { l, _, _ = v.e.model.Evaluate(v.e.theta, &v.e.train) })
	if l > 2*best {
		t.Errorf("rolled back to a state with training loss %.3g, best %.3g (checkpoints %v)", l, best, cps)
	}
}
