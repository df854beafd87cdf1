package tui

import (
	"math"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"sharpflat/lab"
	"sharpflat/lab/train"
)

// The sharpness panel's felt curvature is the rule's, named by the term that decides it.
// Reference by hand: λ = (50, 25, 5), λ₄ = 3, η = 0.1 (edge 2/η = 20): SGD feels λ₁ = 50,
// Bulk-SGD λ₄ = 3, α = 0.75 (½, 1) ½·50 = 25, Dom-damped min(50, 20) = 20 = 0.4·λ₁, with
// λ₄ = 30 above it Dom-damped feels λ₄.
func TestFeltNamesTheDecidingTerm(t *testing.T) {
	for _, tc := range []struct {
		rule train.Rule
		next float64
		v    float64
		name string
	}{
		{train.Blend{Dom: 1, Bulk: 1}, 3, 50, "λ₁"},
		{train.Blend{Dom: 0, Bulk: 1}, 3, 3, "λ₄"},
		{train.Blend{Dom: 0.5, Bulk: 1}, 3, 25, "0.5·λ₁"},
		{train.Blend{Dom: 0.5, Bulk: 2}, 20, 40, "2·λ₄"},
		{train.DomDamped{C: 1}, 3, 20, "0.4·λ₁"},
		{train.DomDamped{C: 1}, 30, 30, "λ₄"},
	} {
		var s lab.Snapshot
		s.Config, _ = train.Preset("demo")
		s.Config.SetRule(tc.rule)
		s.Basis = train.Eigenspace{Step: 0, Values: []float64{50, 25, 5}, Next: tc.next}
		s.Threshold = s.Config.StabilityThreshold()
		m := Model{snap: s}
		if v, name := m.felt(); v != tc.v || name != tc.name {
			t.Errorf("%s, λ₄ %v: felt %v %q, want %v %q", tc.rule.Name(), tc.next, v, name, tc.v, tc.name)
		}
	}
}

// Under Dom-damped the sharpness caption says what it feels, at every width, and c when it
// is not 1.
func TestDomDampedCaption(t *testing.T) {
	var s lab.Snapshot
	s.Config, _ = train.Preset("demo")
	s.Config.SetRule(train.DomDamped{C: 1})
	s.Basis = train.Eigenspace{Step: 0, Values: make([]float64, 10)}
	m := Model{snap: s}
	cs := m.caption(panelSharp)
	if len(cs) != 3 || !strings.Contains(cs[1], "Dom-damped feels max(min(λ₁, 2/η), λ₁₁)") || !strings.Contains(cs[2], "min(λ₁, 2/η)") {
		t.Errorf("captions %q", cs)
	}
	m.snap.Config.SetRule(train.DomDamped{C: 0.5})
	if cs := m.caption(panelSharp); !strings.Contains(cs[0], "0.5·2/η") {
		t.Errorf("c = 0.5: captions %q", cs)
	}
}

// edgeSnapshot is the case (issue 21): Bulk-SGD at η 1.455 (2/η = 1.3746) on
// minibatches of 50, λ₁ = 3 far above the edge, λ₁₁ = 0.99 (the felt curvature of the
// full-batch gauge: 0.99/1.3746 = 72% of the edge), while the update's batch curvature λ_d,
// estimated every 5 steps, is 1.52 (1.52/1.3746 = 1.11×, above the edge) and batch sharpness
// λ_B 1.7. minibatch says whether the estimates drew minibatches.
func edgeSnapshot(minibatch bool) lab.Snapshot { return edgeSnapshotEvery(minibatch, 5) }

// edgeSnapshotEvery is edgeSnapshot with an estimate every `every` steps (0: none).
func edgeSnapshotEvery(minibatch bool, every int) lab.Snapshot {
	cfg, h := fixtureStart()
	cfg.SetRule(train.Blend{Dom: 0, Bulk: 1})
	cfg.LR, cfg.Batch, cfg.BatchSharpnessEvery, cfg.RefreshEvery = 1.455, 50, 5, 1
	edge := 2 / 1.455
	var last train.Metrics
	for s := 1; s <= 100; s++ {
		na := train.OptNum(math.NaN())
		m := train.Metrics{Step: s, Loss: 1, TrainLoss: train.NA, TrainAcc: train.NA, TestLoss: train.NA, TestAcc: train.NA,
			ChiGrad: 0.5, ChiFullGrad: train.NA, Overlap: train.NA, RefreshMS: train.NA, EnergyH: train.NA, EnergyHStderr: train.NA,
			EnergyG: train.NA, EnergyGStderr: train.NA, EnergyF: train.NA, EnergyFStderr: train.NA,
			Sharpness: 3, BulkTop: 0.99, StabilityThreshold: train.Num(edge), WDom: 0, WBulk: 1, LR: 1.455, Batch: 50,
			Refresh: 1, BasisStep: s - 1,
			BatchSharpness: na, BatchSharpnessStderr: na, UpdateSharpness: na, UpdateSharpnessStderr: na}
		if every > 0 && (s-1)%every == 0 {
			m.BatchSharpness, m.BatchSharpnessStderr, m.UpdateSharpness, m.UpdateSharpnessStderr = 1.7, 0.05, 1.52, 0.04
			m.BatchSharpnessMinibatch = minibatch
		}
		h.Add(&m)
		last = m
	}
	snap := syntheticSnapshot(100)
	snap.Config, snap.Threshold, snap.History, snap.Last, snap.Step = cfg, edge, h, last, 100
	snap.Basis = train.Eigenspace{Step: 99, Values: []float64{3, 2.5, 2, 1.8, 1.6, 1.5, 1.4, 1.3, 1.2, 1.1}, Next: 0.99}
	return snap
}

// viewOf draws the snapshot at w×h without colour.
func viewOf(t *testing.T, s lab.Snapshot, w, h int) string {
	t.Helper()
	m := New(idleEngine(t), asciiRenderer(), Options{})
	mm, _ := m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	mm, _ = mm.Update(snapshotMsg{s})
	m.Close()
	return ansi.Strip(mm.View())
}

// The case: the full-batch gauge says 72% of the edge and no "!", while λ_d, what
// the minibatch update feels, is 1.11× the edge: with λ_d measured on minibatches the felt
// note and the "!" use it; the chart's legend names λ_B and λ_d with their values.
func TestFeltUsesUpdateBatchCurvature(t *testing.T) {
	s := edgeSnapshot(true)
	m := Model{snap: s}
	if v, name := m.felt(); name != "λ₁₁" || math.Abs(v/s.Threshold-0.72) > 0.005 {
		t.Fatalf("the full-batch felt curvature %v %q, want λ₁₁ at 72%% of the edge", v, name)
	}
	if v, ok := m.batchFelt(); !ok || v != 1.52 {
		t.Fatalf("batchFelt %v %v, want 1.52", v, ok)
	}
	// 120×40: two legend lines, the felt one in full; λ_B and λ_d drawn, their keys the
	// first to give way on the panel's 40 columns.
	v := viewOf(t, s, 120, 40)
	for _, want := range []string{"felt λ_d 1.52 = 1.11× the edge!", "∘ ∘", "⋄ ⋄", "─ λ₁ 3  + λ₁₁ 0.99  ╌ 2/η 1.375"} {
		if !strings.Contains(v, want) {
			t.Errorf("120×40: no %q in\n%s", want, v)
		}
	}
	if strings.Contains(v, "72%") {
		t.Errorf("120×40: the full-batch gauge is still shown:\n%s", v)
	}
	// 200×50: room for their keys, with their values.
	if v := viewOf(t, s, 200, 50); !strings.Contains(v, "∘ λ_B 1.7") || !strings.Contains(v, "⋄ λ_d 1.52") {
		t.Errorf("200×50: no keys of λ_B and λ_d in\n%s", v)
	}
	// 80×24: one legend line; the warning outlasts the keys of λ_B and λ_d.
	if v := viewOf(t, s, 80, 24); !strings.Contains(v, "1.11× edge!") {
		t.Errorf("80×24: no warning in\n%s", v)
	}

	// The old gauge where λ_d is not the one: estimates of the full batch, an update set
	// after the last estimate, a full-batch run, no estimate made (the lab's engine makes
	// one every 10 steps on minibatches, whatever the Config says; headless runs none).
	full := edgeSnapshot(false)
	changed := edgeSnapshot(true)
	changed.History.AddMark(lab.Mark{Step: 96, Kind: lab.MarkUpdate, Label: "Bulk"})
	gd := edgeSnapshot(true)
	gd.Config.Batch = 0
	off := edgeSnapshotEvery(true, 0)
	off.Config.BatchSharpnessEvery = 0
	for name, s := range map[string]lab.Snapshot{"full-batch estimates": full, "update changed": changed, "full batch": gd, "off": off} {
		if _, ok := (Model{snap: s}).batchFelt(); ok {
			t.Errorf("%s: λ_d taken as the felt curvature", name)
		}
		v := viewOf(t, s, 120, 40)
		if !strings.Contains(v, "felt λ₁₁ 0.99 = 72% of the edge") || strings.Contains(v, "edge!") {
			t.Errorf("%s: want the full-batch gauge, no warning:\n%s", name, v)
		}
	}
	// A mark before the last estimate (at 96, the estimate at 96 came after it) keeps λ_d.
	before := edgeSnapshot(true)
	before.History.AddMark(lab.Mark{Step: 95, Kind: lab.MarkUpdate, Label: "Bulk"})
	if _, ok := (Model{snap: before}).batchFelt(); !ok {
		t.Error("an update set before the last estimate dropped λ_d")
	}
}

// History keeps λ_B and λ_d where they were measured, λ_d of minibatch estimates as the felt
// gauge, and nothing from metrics that leave them out (NaN) or a literal that never set them.
func TestHistoryBatchSharpness(t *testing.T) {
	h := edgeSnapshot(true).History
	if n := len(h.BatchSharp.Points); n != 20 || len(h.UpdateSharp.Points) != 20 || len(h.FeltBatch.Points) != 20 {
		t.Errorf("%d, %d, %d points, want 20 estimates each", n, len(h.UpdateSharp.Points), len(h.FeltBatch.Points))
	}
	if p, _ := h.UpdateSharp.Last(); p.Step != 96 || p.V != 1.52 {
		t.Errorf("last λ_d %+v, want 1.52 at step 96", p)
	}
	if h := edgeSnapshot(false).History; len(h.FeltBatch.Points) != 0 || len(h.UpdateSharp.Points) != 20 {
		t.Errorf("full-batch estimates: %d felt points, %d λ_d points; want 0 and 20", len(h.FeltBatch.Points), len(h.UpdateSharp.Points))
	}
	plain := lab.NewHistory()
	plain.Add(&train.Metrics{Step: 1, Loss: 1, Sharpness: 2, StabilityThreshold: 20})
	if len(plain.BatchSharp.Points)+len(plain.UpdateSharp.Points)+len(plain.FeltBatch.Points) != 0 {
		t.Error("a Metrics literal without the estimates drew λ_B or λ_d at 0")
	}
}
