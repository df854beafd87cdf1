package lab

import (
	"testing"

	"sharpflat/lab/train"
)

// SetRule puts a rule in force at the next boundary and marks the change with its label;
// the slider afterwards replaces it (the same "weights" key), with its own mark.
func TestSetRule(t *testing.T) {
	e, sub := startPaused(t, small(), Options{})
	e.StepN(2)
	await(t, sub, "2 steps", func(s Snapshot) bool { return s.Step == 2 && s.Run == Paused })
	e.SetRule(train.DomDamped{C: 0.5})
	s := await(t, sub, "the Dmp0.5 mark", func(s Snapshot) bool { return hasMark(s, Mark{Step: 2, Kind: MarkUpdate, Label: "Dmp0.5"}) })
	if r := s.Config.Rule(); r != (train.DomDamped{C: 0.5}) {
		t.Errorf("rule in force %+v", r)
	}
	e.StepN(1)
	await(t, sub, "3 steps", func(s Snapshot) bool { return s.Step == 3 && s.Run == Paused })
	e.SetRule(train.DomDamped{C: 0.5}) // no change: no mark
	e.SetAlpha(0.5)                    // SGD again: its weights did not change, the rule did
	s = await(t, sub, "the SGD mark", func(s Snapshot) bool { return hasMark(s, Mark{Step: 3, Kind: MarkUpdate, Label: "SGD"}) })
	if s.Config.Update != "" || s.Config.Rule() != (train.Blend{Dom: 1, Bulk: 1}) {
		t.Errorf("after the slider: update %q, rule %+v", s.Config.Update, s.Config.Rule())
	}
	if len(s.History.Marks) != 2 {
		t.Errorf("marks %+v, want Dmp0.5 at 2 and SGD at 3", s.History.Marks)
	}
}
