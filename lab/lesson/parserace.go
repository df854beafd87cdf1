package lesson

// Decoding the race parts of a lesson: do.race, metrics of an arm ("train_loss@bulk"), claims
// that compare two metrics, and the rules of a race that runs through several steps (see
// Actions). The decoder follows the race in force from step to step, so that every arm a
// step names is checked against the race that runs in it, at the line and column it is
// written.

import (
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// armUse is an arm named by a metric of the step being decoded.
type armUse struct {
	off   int
	field string
	arm   string // as CanonicalArm writes it
}

// raceArms decodes do.race: an array of arms, at most MaxArms and none twice; [] ends a race.
func (d *decoder) raceArms(e *entry) []string {
	if e.val.kind != unstable.Array {
		d.wrongType(e.field, e.val, `an array of arms (race = ["dom", "sgd", "bulk"])`)
		return nil
	}
	items := e.val.items
	switch {
	case len(items) > MaxArms:
		d.failf(items[MaxArms].off, index(e.field, MaxArms), "too many arms (a race has at most %d)", MaxArms)
		return nil
	case len(items) == 1:
		d.failf(items[0].off, e.field, "one arm is not a race: give 2 to %d arms (or race = [] to end a race)", MaxArms)
		return nil
	}
	arms := []string{} // not nil: race = [] ends a race
	for i, v := range items {
		field := index(e.field, i)
		if v.kind != unstable.String {
			d.wrongType(field, v, `a string (an arm such as "bulk" or "sgd:lr*2")`)
			return nil
		}
		s, ok := d.str(&entry{field: field, off: v.off, val: v})
		if !ok {
			return nil
		}
		arm, err := CanonicalArm(s)
		if err != nil {
			d.failf(v.off, field, "arm %q: %v", short(strings.TrimSpace(s)), err)
			return nil
		}
		if j := slices.Index(arms, arm); j >= 0 {
			d.failf(v.off, field, "arm %q is arm %d (%s) again", short(strings.TrimSpace(s)), j+1, arm)
			return nil
		}
		arms = append(arms, arm)
	}
	return arms
}

// metricRef checks a metric named in e, s: a metric, or "metric@arm" (the arm in any
// spelling CanonicalArm reads). It returns the reference with the arm in its canonical form;
// the arm is checked against the race at the step's end (raceStep).
func (d *decoder) metricRef(e *entry, s string) string {
	name, arm, hasArm := strings.Cut(s, "@")
	if !IsMetric(name) {
		d.failf(e.val.off, e.field, "unknown metric %q (%smetrics: %s; a race's arm after @, e.g. train_loss@bulk)",
			short(name), didYouMean(name, Metrics()), strings.Join(Metrics(), ", "))
		return s
	}
	if !hasArm {
		return s
	}
	if name == "chi_random" {
		d.failf(e.val.off, e.field, "chi_random is √(k/P) of the lab's run, not measured per arm: write it without @")
		return s
	}
	c, err := CanonicalArm(arm)
	if err != nil {
		d.failf(e.val.off, e.field, "%q after @ is not an arm: %v", short(arm), err)
		return s
	}
	d.refs = append(d.refs, armUse{off: e.val.off, field: e.field, arm: c})
	return ArmRef(name, c)
}

// comparison checks a claim that compares its metric with another: one relation, two
// different metrics.
func (d *decoder) comparison(t *table, x *Expect) {
	if x.AboveMetric == "" && x.BelowMetric == "" {
		return
	}
	ea, eb := t.get("above"), t.get("below")
	if ea != nil && eb != nil {
		if ea.off > eb.off {
			ea, eb = eb, ea
		}
		d.failf(eb.off, eb.field, "cannot be used with %s (a comparison with another metric states one relation)", ea.key)
		return
	}
	e := ea
	if e == nil {
		e = eb
	}
	if other := x.AboveMetric + x.BelowMetric; other == x.Metric {
		d.failf(e.val.off, e.field, "compares %s with itself", x.Metric)
	}
}

// doDuringRace are the actions a step may not take while a race runs through it: they would
// change the arms, which their specs define.
var doDuringRace = []string{"rollback", "alpha", "w_dom", "w_bulk", "lr", "momentum", "batch", "k", "refresh", "recompute", "checkpoint"}

// raceStep follows the race through step s (table t), decoded: a race running on through it
// refuses the actions that would change its arms; the race in force during the step (after
// its actions) is the one whose arms its metrics may name.
func (d *decoder) raceStep(t *table, s *Step) {
	if d.err != nil {
		return
	}
	a := s.Do
	fresh := a.Fresh()
	if d.race != nil && !fresh && a.Race == nil {
		if e := t.get("do"); e != nil && e.val.kind == unstable.Table {
			for _, de := range e.val.tab.entries {
				if slices.Contains(doDuringRace, de.key) {
					d.failf(de.off, de.field, "cannot be used while the race started by the step at line %d runs (its arms' specs say how they differ): end it first with race = [], or start another race", d.raceLine)
					return
				}
			}
		}
	}
	during := d.race
	if fresh {
		during = nil
	}
	if a.Race != nil {
		during = nil
		if len(a.Race) > 0 {
			during, d.raceLine = a.Race, s.Line
		}
	}
	for _, r := range d.refs {
		switch {
		case during == nil:
			d.failf(r.off, r.field, "names the arm %s, but no race runs in this step (start one with do.race)", r.arm)
		case !slices.Contains(during, r.arm):
			d.failf(r.off, r.field, "no arm %s in the race (%sits arms: %s)", r.arm, didYouMean(r.arm, during), strings.Join(during, ", "))
		}
	}
	d.race = during
}
