package train

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"sharpflat/linalg"
)

// small is a fast config: the demo's data and net on fewer examples.
func small() Config {
	c, _ := Preset("demo")
	c.N, c.HessianSet, c.K, c.EvalEvery, c.EnergyEvery, c.HutchSamples = 300, 100, 4, 5, 3, 4
	return c
}

// steps runs n steps of t and returns their metrics.
func steps(t *testing.T, tr *Trainer, n int) []Metrics {
	t.Helper()
	var ms []Metrics
	for range n {
		m, err := tr.Step()
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	return ms
}

// run builds a trainer for c and runs n steps.
func run(t *testing.T, c Config, n int) (*Trainer, []Metrics) {
	t.Helper()
	tr, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return tr, steps(t, tr, n)
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

func sameSteps(t *testing.T, a, b []Metrics) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%d and %d steps", len(a), len(b))
	}
	for i := range a {
		if x, y := deterministicJSON(t, a[i]), deterministicJSON(t, b[i]); x != y {
			t.Fatalf("step %d differs:\n%s\n%s", a[i].Step, x, y)
		}
	}
}

// The same config gives the same metrics, bit for bit.
func TestDeterministic(t *testing.T) {
	_, a := run(t, small(), 25)
	_, b := run(t, small(), 25)
	sameSteps(t, a, b)
}

func TestMetricsAndRefreshSchedule(t *testing.T) {
	c := small()
	c.RefreshEvery = 4
	_, ms := run(t, c, 12)
	for _, m := range ms {
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
	first := ms[0]
	if first.GGNRayleigh == nil || !first.EnergyG.Valid() {
		t.Errorf("first refresh should carry the G/F split and energies: %+v", first)
	}
	for i, l := range first.Spectrum {
		if d := first.GGNRayleigh[i] + first.FuncRayleigh[i] - l; math.Abs(d) > 1e-8*math.Abs(first.Spectrum[0]) {
			t.Errorf("vᵀGv + vᵀFv − λ = %.3g for pair %d", d, i)
		}
	}
	if !ms[4].Overlap.Valid() || ms[4].Overlap > 1+1e-12 || ms[4].Overlap < 0 {
		t.Errorf("overlap of the second refresh %v", ms[4].Overlap)
	}
}

// Apply changes the settings that may change, refuses the others, logs each change as one
// event carrying it, and its effects show in the next step.
func TestApplySettings(t *testing.T) {
	tr, _ := run(t, small(), 3)
	tr.TakeEvents()
	setting := map[string]string{"alpha 0 = Dom-SGD": "update", "alpha 1 = Bulk-SGD": "update", "alpha 0.25": "update",
		"lr": "lr", "momentum": "momentum", "batch": "batch", "k": "k", "hessian set": "hessian-set",
		"adam": "optimizer", "sgd": "optimizer", "refresh": "refresh"}
	for _, tc := range []struct {
		name   string
		change func(c *Config)
		check  func(c Config) bool
	}{
		{"alpha 0 = Dom-SGD", func(c *Config) { c.WDom, c.WBulk = Weights(0) }, func(c Config) bool { return c.WDom == 1 && c.WBulk == 0 }},
		{"alpha 1 = Bulk-SGD", func(c *Config) { c.WDom, c.WBulk = Weights(1) }, func(c Config) bool { return c.WDom == 0 && c.WBulk == 1 }},
		{"alpha 0.25", func(c *Config) { c.WDom, c.WBulk = Weights(0.25) }, func(c Config) bool { return c.WDom == 1 && c.WBulk == 0.5 }},
		{"lr", func(c *Config) { c.LR = 0.05 }, func(c Config) bool { return c.LR == 0.05 }},
		{"momentum", func(c *Config) { c.Momentum = 0.9 }, func(c Config) bool {
			return c.Momentum == 0.9 && math.Abs(c.StabilityThreshold()-3.8/0.05) < 1e-12
		}},
		{"batch", func(c *Config) { c.Batch = 64 }, func(c Config) bool { return c.Batch == 64 }},
		{"k", func(c *Config) { c.K = 6 }, func(c Config) bool { return c.K == 6 }},
		{"hessian set", func(c *Config) { c.HessianSet = 50 }, func(c Config) bool { return c.HessianSet == 50 }},
		{"adam", func(c *Config) { c.Optimizer = Adam }, func(c Config) bool { return c.Optimizer == Adam }},
		{"sgd", func(c *Config) { c.Optimizer = SGD }, func(c Config) bool { return c.Optimizer == SGD }},
		{"refresh", func(c *Config) { c.RefreshEvery = 0 }, func(c Config) bool { return c.RefreshEvery == 0 }},
	} {
		c := tr.Config()
		tc.change(&c)
		if err := tr.Apply(c); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !tc.check(tr.Config()) {
			t.Errorf("%s: config after Apply %+v", tc.name, tr.Config())
		}
		if ev := tr.TakeEvents(); len(ev) != 1 || ev[0].Kind != EventCommand || ev[0].Change == nil || ev[0].Change.Setting != setting[tc.name] {
			t.Errorf("%s: events %+v, want one change of %s", tc.name, ev, setting[tc.name])
		}
	}
	// k and |S| changed: the next step refreshes although T = 0, with the new sizes.
	m := steps(t, tr, 1)[0]
	if !m.Refreshed || len(m.Spectrum) != 6 || tr.hess.N != 50 {
		t.Errorf("after k = 6, |S| = 50: refreshed %v, %d eigenvalues, |S| = %d", m.Refreshed, len(m.Spectrum), tr.hess.N)
	}
	if m := steps(t, tr, 1)[0]; m.Refreshed {
		t.Error("T = 0 refreshed on its own")
	}
	c := tr.Config()
	c.Hidden = []int{8}
	if err := tr.Apply(c); err == nil || !strings.Contains(err.Error(), "hidden cannot change") {
		t.Errorf("changing the network: %v", err)
	}
	c = tr.Config()
	c.LR = -1
	if err := tr.Apply(c); err == nil || tr.Config().LR != 0.05 {
		t.Errorf("an invalid setting was applied: %v", err)
	}
}

// Rollback reproduces the same steps: training from a checkpoint is the same as if the steps
// after it never happened.
func TestRollbackReplaysExactly(t *testing.T) {
	c := small()
	c.KeepEvery = 5
	tr, first := run(t, c, 8)
	if err := tr.Rollback(); err != nil { // to the automatic checkpoint at step 5
		t.Fatal(err)
	}
	if s := tr.StepCount(); s != 5 {
		t.Fatalf("rolled back to step %d, want 5", s)
	}
	sameSteps(t, first[5:8], steps(t, tr, 3))
}

// A checkpoint written out and read back continues exactly like the trainer it was taken
// from.
func TestRestoreFromCheckpointFile(t *testing.T) {
	c := small()
	c.RefreshEvery = 3
	tr, _ := run(t, c, 7)
	var buf bytes.Buffer
	if _, err := tr.Save(WhyManual).WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	cp, err := ReadCheckpoint(&buf)
	if err != nil {
		t.Fatal(err)
	}
	tr2, err := Restore(cp)
	if err != nil {
		t.Fatal(err)
	}
	sameSteps(t, steps(t, tr, 9), steps(t, tr2, 9))
	if _, err := ReadCheckpoint(strings.NewReader("not a checkpoint")); err == nil {
		t.Error("garbage read as a checkpoint")
	}
}

// A divergence stops training with the numbers as fields, and a rollback recovers.
func TestDivergenceStopsAndRollsBack(t *testing.T) {
	c := small()
	c.LR, c.KeepEvery = 0.1, 5
	tr, _ := run(t, c, 10)
	tc := tr.Config()
	tc.LR = 500 // far above 2/λ₁
	if err := tr.Apply(tc); err != nil {
		t.Fatal(err)
	}
	for tr.Diverged() == nil {
		if _, err := tr.Step(); err != nil {
			t.Fatal(err)
		}
		if tr.StepCount() > 200 {
			t.Fatal("no divergence at η = 500")
		}
	}
	d := tr.Diverged()
	if d.Step != tr.StepCount() || d.ThresholdName != "2/η" || float64(d.Threshold) != 0.004 || !d.Sharpness.Valid() || d.Reason == "" {
		t.Errorf("divergence %+v", d)
	}
	var ev *Event
	for _, e := range tr.TakeEvents() {
		if e.Kind == EventDivergence {
			ev = &e
		}
	}
	if ev == nil || ev.Divergence == nil || ev.Divergence.Step != d.Step || ev.Divergence.ThresholdName != "2/η" || ev.Divergence.Threshold != 0.004 {
		t.Errorf("divergence event %+v", ev)
	}
	if _, err := tr.Step(); err != ErrDiverged {
		t.Errorf("a step after the divergence: %v, want ErrDiverged", err)
	}
	tc.LR = 0.1
	if err := tr.Apply(tc); err != nil {
		t.Fatal(err)
	}
	if err := tr.Rollback(); err != nil {
		t.Fatal(err)
	}
	if tr.Diverged() != nil || !finite(tr.theta) {
		t.Fatal("still diverged, or θ not finite, after the rollback")
	}
	steps(t, tr, 4)
}

// Automatic checkpoints are not taken while the training loss is far above its best: a
// rollback after a blow-up returns to a state from before it went astray.
func TestAutoCheckpointsOnlyWhenGood(t *testing.T) {
	c := small()
	c.KeepEvery, c.EvalEvery, c.DivergeFactor = 5, 1, 1e9 // never flagged: only the loss tells
	tr, _ := run(t, c, 40)
	tc := tr.Config()
	tc.LR = 60 // unstable: the loss climbs within a few steps
	if err := tr.Apply(tc); err != nil {
		t.Fatal(err)
	}
	steps(t, tr, 12)
	best, cps := tr.bestTrain, tr.Checkpoints()
	if err := tr.Rollback(); err != nil {
		t.Fatal(err)
	}
	l, _, _, _, err := tr.Evaluate()
	if err != nil {
		t.Fatal(err)
	}
	if l > 2*best {
		t.Errorf("rolled back to a state with training loss %.3g, best %.3g (checkpoints %v)", l, best, cps)
	}
}

func TestConfigValidationListsAllowed(t *testing.T) {
	c := small()
	c.K, c.Batch, c.LR = 0, -1, math.Inf(1)
	err := c.Validate()
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, want := range []string{"k: 0, want 1…1000", "batch: -1, want ≥ 0 (0: full batch)", "lr: +Inf, want > 0"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	c = small()
	for _, tc := range []struct{ field, value, want string }{
		{"act", "swish", "allowed: tanh, relu"},
		{"optimizer", "lbfgs", "allowed: sgd, adam"},
		{"loss", "hinge", "allowed: ce, mse"},
		{"hidden", "16-y", "positive widths"},
		{"k", "many", "not an integer"},
		{"nope", "1", "unknown setting"},
	} {
		if err := SetField(&c, tc.field, tc.value); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--%s %s: %v, want an error naming %q", tc.field, tc.value, err, tc.want)
		}
	}
	c.Act = 7 // set in code, not parsed
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "act: unknown activation") {
		t.Errorf("an out-of-range activation: %v", err)
	}
	if _, err := Preset("nope"); err == nil || !strings.Contains(err.Error(), "demo") {
		t.Errorf("unknown preset error %v should list the presets", err)
	}
	for _, name := range Presets() {
		p, _ := Preset(name)
		if err := p.Validate(); err != nil {
			t.Errorf("preset %s: %v", name, err)
		}
	}
}

// Every field round-trips through its text form, and a config round-trips through JSON
// with the names the files use.
func TestFieldsRoundTrip(t *testing.T) {
	c, _ := Preset("eos")
	c.Optimizer, c.Act, c.Init = Adam, 3, 1
	for _, f := range Fields() {
		var d Config
		if err := f.Set(&d, f.Get(&c)); err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if f.Get(&d) != f.Get(&c) {
			t.Errorf("%s: %q after a round trip, want %q", f.Name, f.Get(&d), f.Get(&c))
		}
	}
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"act":"softplus"`, `"loss":"mse"`, `"init":"normal"`, `"optimizer":"adam"`, `"hidden":[32,32]`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("config JSON lacks %s: %s", want, raw)
		}
	}
	d, err := ParseConfig(raw)
	if err != nil || firstDifference(&c, &d) != "" {
		t.Errorf("JSON round trip: %v, first difference %q", err, firstDifference(&c, &d))
	}
}

// A refresh stopped by the interrupt changes nothing: the step, taken again, gives what an
// uninterrupted trainer gives.
func TestInterruptedStepChangesNothing(t *testing.T) {
	c := small()
	_, want := run(t, c, 4)
	tr, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	got := steps(t, tr, 2)
	checks, stop := 0, true
	tr.SetInterrupt(func() bool { checks++; return stop && checks == 3 })
	if _, err := tr.Step(); !errors.Is(err, linalg.ErrCanceled) {
		t.Fatalf("interrupted step: %v, want ErrCanceled", err)
	}
	if tr.StepCount() != 2 {
		t.Fatalf("an interrupted step counted: step %d", tr.StepCount())
	}
	stop = false
	sameSteps(t, want, append(got, steps(t, tr, 2)...))
}
