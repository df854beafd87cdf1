package lesson

import (
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"

	"sharpflat/lab/train"
)

// Tracker follows the metrics through a lesson step: the latest measured value of each
// metric, its value when the step began, and the lowest and highest values measured during
// the step. The engine feeds it every step; conditions and claims are read from it. In a
// race it also follows each arm's metrics, under "metric@arm" (see ObserveArm).
type Tracker struct {
	latest map[string]float64
	start  map[string]float64
	lo, hi map[string]float64
	steps  int
}

// NewTracker returns a tracker that has seen nothing.
func NewTracker() *Tracker {
	t := &Tracker{}
	t.Forget()
	return t
}

// Forget drops every value (after a fresh start: the old run's values mean nothing).
func (t *Tracker) Forget() {
	t.latest = map[string]float64{}
	t.Begin()
}

// Begin starts a lesson step: the values now are its start values.
func (t *Tracker) Begin() {
	t.start = maps.Clone(t.latest)
	t.lo, t.hi = map[string]float64{}, map[string]float64{}
	t.steps = 0
}

// SetChiRandom records √(k/P) for chi_random (the engine calls it when k or P change).
func (t *Tracker) SetChiRandom(k, p int) {
	if p > 0 {
		t.set("chi_random", math.Sqrt(float64(k)/float64(p)))
	}
}

// Observe takes one training step's metrics of the lab's run: in a race, the focused arm's,
// once a round, after ObserveArm of every arm. It counts the step.
func (t *Tracker) Observe(m *train.Metrics) {
	t.steps++
	t.observe(m, "")
}

// ObserveArm takes one training step's metrics of an arm of the race, named as the lesson's
// do.race names it (CanonicalArm: lab's ArmSpec.String), under "metric@arm". It does not count
// a step: Observe does, once a round. An arm that stopped (diverged) is observed no more and
// keeps its last values.
func (t *Tracker) ObserveArm(arm string, m *train.Metrics) { t.observe(m, "@"+arm) }

func (t *Tracker) observe(m *train.Metrics, suffix string) {
	for _, mt := range metrics {
		if mt.get == nil {
			continue
		}
		if v := mt.get(m); !math.IsNaN(v) {
			t.set(mt.name+suffix, v)
		}
	}
}

// StartRace begins following a race of these arms, forked from the lab's run as it is now:
// the values of any earlier race's arms are dropped, and each arm starts from the run's
// latest values (the point it forks from), so that a claim on an arm's change in the step
// that starts the race measures it from the fork. Call it after Begin and after forking.
func (t *Tracker) StartRace(arms []string) {
	for _, m := range []map[string]float64{t.latest, t.start, t.lo, t.hi} {
		for k := range m {
			if strings.Contains(k, "@") {
				delete(m, k)
			}
		}
	}
	for _, arm := range arms {
		for _, mt := range metrics {
			if v, ok := t.latest[mt.name]; ok && mt.get != nil {
				t.latest[ArmRef(mt.name, arm)] = v
				t.start[ArmRef(mt.name, arm)] = v
			}
		}
	}
}

func (t *Tracker) set(name string, v float64) {
	t.latest[name] = v
	if _, ok := t.start[name]; !ok {
		t.start[name] = v // first measured in this step: its start
	}
	if lo, ok := t.lo[name]; !ok || v < lo {
		t.lo[name] = v
	}
	if hi, ok := t.hi[name]; !ok || v > hi {
		t.hi[name] = v
	}
}

// Steps is the number of training steps observed since Begin.
func (t *Tracker) Steps() int { return t.steps }

// Value is the latest measured value of a metric (NaN: not measured yet).
func (t *Tracker) Value(name string) float64 {
	if v, ok := t.latest[name]; ok {
		return v
	}
	return math.NaN()
}

// Met reports whether the step's condition holds, and whether a metric condition has given
// up (MaxSteps trained without it).
func (t *Tracker) Met(u Until) (met, gaveUp bool) {
	switch {
	case u.Metric != "":
		v := t.Value(u.Metric)
		if (u.Above != nil && v > *u.Above) || (u.Below != nil && v < *u.Below) {
			return true, false
		}
		limit := u.MaxSteps
		if limit <= 0 {
			limit = DefaultMaxSteps
		}
		return false, t.steps >= limit
	case u.Steps > 0:
		return t.steps >= u.Steps, false
	}
	return false, false
}

// Progress is how far the step's condition has come, in [0, 1] (NaN: no measure).
func (t *Tracker) Progress(u Until) float64 {
	if u.Steps > 0 && u.Metric == "" {
		return math.Min(1, float64(t.steps)/float64(u.Steps))
	}
	return math.NaN()
}

// Verdict is where a claim stands.
type Verdict int

const (
	Open    Verdict = iota // the step has not ended (nothing contradicts it yet)
	Holds                  // it held at the step's end
	Fails                  // it does not hold
	Skipped                // the step was left before its end: not judged
)

func (v Verdict) String() string { return [...]string{"open", "holds", "fails", "skipped"}[v] }

// Check says whether a claim holds now; ended says the step is over (a claim about the
// step's end is judged then, while a Throughout claim fails as soon as it is broken). The
// text gives the measured value ("λ₁/edge 0.98").
func (t *Tracker) Check(e Expect, ended bool) (Verdict, string) {
	v := t.Value(e.Metric)
	if math.IsNaN(v) {
		if ended {
			return Fails, e.Metric + " was not measured"
		}
		return Open, e.Metric + " not measured yet"
	}
	judge := func(ok bool) Verdict {
		switch {
		case !ok && (ended || e.Throughout):
			return Fails
		case ok && ended:
			return Holds
		}
		return Open
	}
	lo, measured := t.lo[e.Metric]
	if !measured { // not during this step: a claim about the step cannot stand on it
		if ended {
			return Fails, e.Metric + " was not measured during the step"
		}
		return Open, e.Metric + " not measured in this step yet"
	}
	if other := e.AboveMetric + e.BelowMetric; other != "" {
		w := t.Value(other)
		if _, ok := t.lo[other]; !ok {
			if ended {
				return Fails, other + " was not measured during the step"
			}
			return Open, other + " not measured in this step yet"
		}
		ok := (e.AboveMetric != "" && v > w) || (e.BelowMetric != "" && v < w)
		return judge(ok), fmt.Sprintf("%s %s, %s %s", e.Metric, Num(v), other, Num(w))
	}
	switch {
	case e.Throughout:
		hi := t.hi[e.Metric]
		ok := (e.Above == nil || lo > *e.Above) && (e.Below == nil || hi < *e.Below)
		return judge(ok), fmt.Sprintf("%s ranged %s…%s", e.Metric, Num(lo), Num(hi))
	case e.Above != nil || e.Below != nil:
		ok := (e.Above == nil || v > *e.Above) && (e.Below == nil || v < *e.Below)
		return judge(ok), fmt.Sprintf("%s %s", e.Metric, Num(v))
	}
	s, ok := t.start[e.Metric]
	if !ok || s == 0 || math.IsNaN(s) {
		return judge(false), e.Metric + " had no start value"
	}
	change := (v - s) / math.Abs(s)
	var ok2 bool
	switch {
	case e.FallsBy != nil:
		ok2 = -change >= *e.FallsBy
	case e.RisesBy != nil:
		ok2 = change >= *e.RisesBy
	case e.Within != nil:
		ok2 = math.Abs(change) <= *e.Within
	}
	return judge(ok2), fmt.Sprintf("%s %s → %s (%+.1f%%)", e.Metric, Num(s), Num(v), 100*change)
}

// Describe is a claim in words ("test_acc above 0.9 at the step's end").
func Describe(e Expect) string {
	var rel string
	switch {
	case e.FallsBy != nil:
		rel = fmt.Sprintf("falls by at least %s%%", Num(100**e.FallsBy))
	case e.RisesBy != nil:
		rel = fmt.Sprintf("rises by at least %s%%", Num(100**e.RisesBy))
	case e.Within != nil:
		rel = fmt.Sprintf("stays within %s%% of its start", Num(100**e.Within))
	case e.AboveMetric != "":
		rel = "above " + e.AboveMetric
	case e.BelowMetric != "":
		rel = "below " + e.BelowMetric
	default:
		var parts []string
		if e.Above != nil {
			parts = append(parts, "above "+Num(*e.Above))
		}
		if e.Below != nil {
			parts = append(parts, "below "+Num(*e.Below))
		}
		rel = parts[0]
		if len(parts) == 2 {
			rel = "between " + Num(*e.Above) + " and " + Num(*e.Below)
		}
		if e.Throughout {
			rel += " throughout"
		}
	}
	return e.Metric + " " + rel
}

// DescribeUntil is a condition in words ("200 steps", "until sharpness/edge > 0.95").
func DescribeUntil(u Until) string {
	switch {
	case u.Metric != "" && u.Above != nil:
		return fmt.Sprintf("until %s > %s", u.Metric, Num(*u.Above))
	case u.Metric != "" && u.Below != nil:
		return fmt.Sprintf("until %s < %s", u.Metric, Num(*u.Below))
	case u.Steps == 1:
		return "1 step"
	case u.Steps > 0:
		return fmt.Sprintf("%d steps", u.Steps)
	}
	return "press space or → to go on"
}

// Num formats a number briefly (4 significant digits).
func Num(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

// Clone returns an independent copy (the engine keeps one with each step's start, for
// stepping back).
func (t *Tracker) Clone() *Tracker {
	c := &Tracker{steps: t.steps}
	c.latest, c.start, c.lo, c.hi = maps.Clone(t.latest), maps.Clone(t.start), maps.Clone(t.lo), maps.Clone(t.hi)
	return c
}
