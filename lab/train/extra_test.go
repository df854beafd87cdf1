package train

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// denseSpectrum is the reference: the P×P Hessian of the trainer's network on its Hessian set
// at θ, assembled column by column from HVPs with unit vectors, symmetrised, and decomposed by
// gonum's mat.EigenSym. Values in descending order.
func denseSpectrum(t *testing.T, tr *Trainer) []float64 {
	t.Helper()
	_, _, hess := tr.Data()
	b, err := tr.Model().Bind(tr.Theta(), hess)
	if err != nil {
		t.Fatal(err)
	}
	P := tr.Model().NumParams()
	h := mat.NewSymDense(P, nil)
	e, col := make([]float64, P), make([]float64, P)
	for j := range P {
		e[j] = 1
		b.HVP(col, e)
		e[j] = 0
		for i := range j {
			h.SetSym(i, j, (col[i]+h.At(i, j))/2) // average (i,j) and (j,i)
		}
		for i := j; i < P; i++ {
			h.SetSym(j, i, col[i])
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(h, false) {
		t.Fatal("EigenSym failed")
	}
	v := eig.Values(nil)
	slices.Reverse(v)
	return v
}

// λ_{k+1} of a refresh with the extra pair is the (k+1)-th eigenvalue of the dense Hessian;
// the basis keeps k pairs and the G/F split of k.
func TestBulkTopMatchesDenseHessian(t *testing.T) {
	numericsOnly(t)
	c, _ := Preset("demo")
	tr, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	tr.SetExtraPair(true)
	ms := steps(t, tr, 30)
	tr.RequestRefresh()
	if err := tr.Refresh(); err != nil {
		t.Fatal(err)
	}
	b := tr.Basis()
	if len(b.Values) != c.K || len(b.Vectors) != c.K || len(b.Residuals) != c.K || len(b.GGN) != c.K || len(b.Functional) != c.K {
		t.Fatalf("basis sizes %d %d %d %d %d, want k = %d", len(b.Values), len(b.Vectors), len(b.Residuals), len(b.GGN), len(b.Functional), c.K)
	}
	if len(b.NextVector) != len(tr.Theta()) {
		t.Fatalf("NextVector of length %d", len(b.NextVector))
	}
	dense := denseSpectrum(t, tr)
	k := c.K
	rel := math.Abs(b.Next-dense[k]) / math.Abs(dense[k])
	t.Logf("λ_{k+1}: %.10g, dense %.10g (λ_{k+2} %.6g): relative error %.1e", b.Next, dense[k], dense[k+1], rel)
	if rel > 1e-6 {
		t.Errorf("λ_{k+1} = %.10g, the dense Hessian's is %.10g: relative error %.2g", b.Next, dense[k], rel)
	}
	for i, l := range b.Values {
		if d := math.Abs(l-dense[i]) / math.Abs(dense[0]); d > 1e-6 {
			t.Errorf("λ_%d = %.10g, dense %.10g", i+1, l, dense[i])
		}
	}
	// Every step carries λ_{k+1} of the basis it used; the refreshed ones that basis's.
	for _, m := range ms {
		if !m.BulkTop.Valid() || m.BulkTop <= 0 || float64(m.BulkTop) > float64(m.Spectrum[len(m.Spectrum)-1]) {
			t.Fatalf("step %d: bulk_top %v with spectrum %v", m.Step, m.BulkTop, m.Spectrum)
		}
	}
}

// The JSON keys of a metrics line before λ_{k+1} existed, in order.
var metricsKeys = []string{"step", "loss", "grad_norm", "train_loss", "train_acc", "test_loss", "test_acc",
	"sharpness", "stability_threshold", "chi_grad", "chi_full_grad", "bulk_share", "alpha", "w_dom", "w_bulk",
	"lr", "momentum", "optimizer", "batch", "k", "refresh_every", "refreshed", "spectrum", "residuals",
	"ggn_rayleigh", "functional_rayleigh", "overlap", "refresh_hvps", "refresh_ms", "energy_H",
	"energy_H_stderr", "energy_G", "energy_G_stderr", "energy_F", "energy_F_stderr", "steps_per_sec", "wall_sec"}

// wantKeys is keys (a list of metricsKeys' form) without the slices a line leaves out when
// they are empty and got does not have.
func wantKeys(keys, got []string) []string {
	return slices.DeleteFunc(slices.Clone(keys), func(k string) bool {
		switch k {
		case "spectrum", "residuals", "ggn_rayleigh", "functional_rayleigh":
			return !slices.Contains(got, k)
		}
		return false
	})
}

// jsonKeys lists the top-level keys of a JSON object in order.
func jsonKeys(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// With the extra pair off (the default) a metrics line has exactly the keys it had before
// λ_{k+1} existed, and the steps are those of a trainer told SetExtraPair(false); with it on,
// bulk_top follows sharpness's group on every line and reads back.
func TestBulkTopOnlyWhenAsked(t *testing.T) {
	c := small()
	_, off := run(t, c, 6)
	tr, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	tr.SetExtraPair(false)
	sameSteps(t, off, steps(t, tr, 6))
	for _, m := range off {
		raw, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if keys := jsonKeys(t, raw); !slices.Equal(keys, wantKeys(metricsKeys, keys)) {
			t.Fatalf("step %d: keys %v\nwant %v", m.Step, keys, wantKeys(metricsKeys, keys))
		}
		if m.BulkTop.Valid() || m.BasisStep != m.Step-1 {
			t.Errorf("step %d: bulk_top %v, basis step %d", m.Step, m.BulkTop, m.BasisStep)
		}
	}

	on, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	on.SetExtraPair(true)
	for i, m := range steps(t, on, 6) {
		raw, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Insert(slices.Clone(metricsKeys), slices.Index(metricsKeys, "bulk_share")+1, "bulk_top")
		if keys := jsonKeys(t, raw); !slices.Equal(keys, wantKeys(want, keys)) {
			t.Fatalf("step %d: keys %v\nwant %v", m.Step, keys, wantKeys(want, keys))
		}
		if float64(m.BulkTop) != on.Basis().Next && i == 5 {
			t.Errorf("bulk_top %v, basis λ_{k+1} %v", m.BulkTop, on.Basis().Next)
		}
		var back Metrics
		if err := json.Unmarshal(raw, &back); err != nil || back.BulkTop != m.BulkTop {
			t.Errorf("bulk_top %v read back as %v (%v)", m.BulkTop, back.BulkTop, err)
		}
		// The top k agree with the run without the extra pair to the solver's tolerance.
		for j, l := range m.Spectrum {
			if d := math.Abs(l - off[i].Spectrum[j]); d > 1e-5*math.Abs(off[i].Spectrum[0]) {
				t.Errorf("step %d: λ_%d %v with the extra pair, %v without", m.Step, j+1, l, off[i].Spectrum[j])
			}
		}
	}
}

func TestFelt(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		wd, wb, l1, ln, want float64
	}{
		{1, 1, 10, 2, 10},    // SGD feels λ₁
		{1, 0, 10, 2, 10},    // Dom-SGD feels λ₁
		{0, 1, 10, 2, 2},     // Bulk-SGD feels λ_{k+1}
		{0.5, 1, 10, 2, 5},   // α = 0.75
		{0.1, 1, 10, 2, 2},   // the Bulk term wins
		{1, 0, 10, nan, 10},  // Dom-SGD needs no λ_{k+1}
		{0, 1, nan, 2, 2},    // Bulk-SGD needs no λ₁
		{1, 1, 10, nan, nan}, // SGD without λ_{k+1}: unknown
		{1, 1, nan, 2, nan},
		{0, 0, 10, 2, 0}, // no update
	} {
		got := Felt(tc.wd, tc.wb, tc.l1, tc.ln)
		if !(got == tc.want || math.IsNaN(got) && math.IsNaN(tc.want)) {
			t.Errorf("Felt(%v, %v, %v, %v) = %v, want %v", tc.wd, tc.wb, tc.l1, tc.ln, got, tc.want)
		}
	}
}

// Rollback goes to the user's checkpoint when there is one at or before the current step,
// even when an automatic one is newer, and says so.
func TestRollbackPrefersTheUsersCheckpoint(t *testing.T) {
	c := small()
	c.KeepEvery = 5
	tr, _ := run(t, c, 3)
	th3 := tr.Theta()
	tr.Checkpoint()
	steps(t, tr, 9) // automatic checkpoints at 5 and 10
	if got := tr.Checkpoints(); !slices.Equal(got, []int{0, 3, 5, 10}) {
		t.Fatalf("checkpoints %v", got)
	}
	if st := tr.State(); st.RollbackTo != 3 || st.RollbackWhy != "manual" {
		t.Errorf("rollback target %d (%q), want the user's at 3", st.RollbackTo, st.RollbackWhy)
	}
	tr.TakeEvents()
	if err := tr.Rollback(); err != nil {
		t.Fatal(err)
	}
	if tr.StepCount() != 3 || !slices.Equal(tr.Theta(), th3) {
		t.Fatalf("rolled back to step %d", tr.StepCount())
	}
	if ev := tr.TakeEvents(); len(ev) != 1 || !strings.Contains(ev[0].Text, "from step 12 to your checkpoint at step 3") {
		t.Errorf("rollback events %+v", ev)
	}
	// At the checkpoint itself, u stays there (a restore of what was kept).
	if st := tr.State(); st.RollbackTo != 3 || st.RollbackWhy != "manual" {
		t.Errorf("at the checkpoint: target %d (%q)", st.RollbackTo, st.RollbackWhy)
	}
	// c then u at once: back to the same state.
	steps(t, tr, 4)
	th7 := tr.Theta()
	tr.Checkpoint()
	if err := tr.Rollback(); err != nil || tr.StepCount() != 7 || !slices.Equal(tr.Theta(), th7) {
		t.Errorf("c then u: step %d, θ kept %v (%v)", tr.StepCount(), slices.Equal(tr.Theta(), th7), err)
	}

	// Without a checkpoint of the user's: the newest automatic one older than the step.
	tr2, _ := run(t, c, 12)
	if st := tr2.State(); st.RollbackTo != 10 || st.RollbackWhy != "auto" {
		t.Errorf("no user checkpoint: target %d (%q), want the automatic one at 10", st.RollbackTo, st.RollbackWhy)
	}
	tr3, _ := run(t, c, 2)
	if st := tr3.State(); st.RollbackTo != 0 || st.RollbackWhy != "start" {
		t.Errorf("early: target %d (%q), want the start", st.RollbackTo, st.RollbackWhy)
	}
	for why, want := range map[string]string{"manual": "your checkpoint", "auto": "the automatic checkpoint", "start": "the start"} {
		if got := CheckpointName(why); got != want {
			t.Errorf("CheckpointName(%q) = %q, want %q", why, got, want)
		}
	}
}

// The user's checkpoint survives the automatic ones that fill the ring.
func TestUsersCheckpointKeptInTheRing(t *testing.T) {
	c := small()
	c.KeepEvery = 1
	tr, _ := run(t, c, 2)
	tr.Checkpoint()
	steps(t, tr, 3*maxCheckpoints)
	cps := tr.Checkpoints()
	if len(cps) != maxCheckpoints || cps[0] != 0 || cps[1] != 2 || cps[len(cps)-1] != tr.StepCount() {
		t.Errorf("checkpoints %v: want the start, the user's at 2, and the newest", cps)
	}
	if tr.RollbackTarget() != 2 {
		t.Errorf("rollback target %d, want the user's at 2", tr.RollbackTarget())
	}
}

// After a divergence no checkpoint can be made, and the rollback goes to a state before it.
func TestNoCheckpointOfADivergence(t *testing.T) {
	c := small()
	c.KeepEvery = 5
	tr, _ := run(t, c, 4)
	tr.Checkpoint() // the user's, at 4
	steps(t, tr, 4) // and the automatic one at 5
	c.LR = 500
	if err := tr.Apply(c); err != nil {
		t.Fatal(err)
	}
	for tr.Diverged() == nil {
		if _, err := tr.Step(); err != nil {
			t.Fatal(err)
		}
	}
	d := tr.Diverged().Step
	tr.TakeEvents()
	tr.Checkpoint()
	if ev := tr.TakeEvents(); len(ev) != 1 || ev[0].Kind != EventError || slices.Contains(tr.Checkpoints(), d) {
		t.Errorf("a checkpoint of the diverged state: events %+v, checkpoints %v", ev, tr.Checkpoints())
	}
	if err := tr.Rollback(); err != nil {
		t.Fatal(err)
	}
	if tr.StepCount() != 4 || tr.Diverged() != nil || !finite(tr.Theta()) {
		t.Errorf("after the rollback: step %d, diverged %v", tr.StepCount(), tr.Diverged())
	}
}

// The events of a refresh setting carry the change as fields, and their text says what the
// lab's header says: "T manual".
func TestRefreshWording(t *testing.T) {
	tr, _ := run(t, small(), 1)
	tr.TakeEvents()
	for _, tc := range []struct {
		every int
		want  string
	}{{0, "eigenspace refresh only on request (T manual)"}, {5, "eigenspace refresh every 5 steps (T 5)"}, {1, "eigenspace refresh every step (T 1)"}} {
		c := tr.Config()
		c.RefreshEvery = tc.every
		if err := tr.Apply(c); err != nil {
			t.Fatal(err)
		}
		ev := tr.TakeEvents()
		if len(ev) != 1 || ev[0].Change == nil || ev[0].Change.Setting != "refresh" || ev[0].Change.New != float64(tc.every) {
			t.Fatalf("T = %d: events %+v, want the change of refresh to %d", tc.every, ev, tc.every)
		}
		if ev[0].Text != tc.want {
			t.Errorf("T = %d: text %q, want %q", tc.every, ev[0].Text, tc.want)
		}
	}
}

// The presets in the README's order, the order the lab cycles through.
func TestPresetOrder(t *testing.T) {
	want := []string{"demo", "mnist", "eos", "moons", "circles", "xor", "spirals", "teacher", "song"}
	if got := Presets(); !slices.Equal(got, want) {
		t.Errorf("Presets() = %v, want %v", got, want)
	}
}

// The spirals preset learns at once: the full-train loss falls visibly within 300 steps, and
// the test accuracy is far above chance (1/3) by 3000. Measured (seed 1): train loss 1.0925
// at step 0, 0.9617 at 300, 0.8690 at 600; test accuracy 0.852 at 3000. Under SGD
// (w_dom = w_bulk = 1) the update is g itself whatever the basis, so the trajectory does not
// depend on the refresh schedule: T = 0 here only saves the refreshes.
func TestSpiralsLearns(t *testing.T) {
	numericsOnly(t)
	c, _ := Preset("spirals")
	c.RefreshEvery, c.EnergyEvery = 0, 0
	tr, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	l0, _, _, _, err := tr.Evaluate()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		step  int
		ratio float64
	}{{300, 0.93}, {600, 0.85}} {
		steps(t, tr, tc.step-tr.StepCount())
		l, _, _, _, _ := tr.Evaluate()
		t.Logf("step %d: train loss %.4f = %.3f of %.4f", tc.step, l, l/l0, l0)
		if l > tc.ratio*l0 {
			t.Errorf("step %d: train loss %.4f, want below %.2f × %.4f", tc.step, l, tc.ratio, l0)
		}
	}
	if testing.Short() {
		return
	}
	steps(t, tr, 3000-tr.StepCount())
	_, _, _, acc, _ := tr.Evaluate()
	t.Logf("step 3000: test accuracy %.3f", acc)
	if acc < 0.7 {
		t.Errorf("test accuracy %.3f at step 3000, want above 0.7 (chance 1/3)", acc)
	}
}
