package tui

import (
	"strings"
	"testing"

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
