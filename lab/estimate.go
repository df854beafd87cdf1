package lab

// How long a lesson trains, said before it starts (lesson --check) and while it plays (the
// lesson band): a step count alone does not tell a teacher whether a lesson takes a minute
// or a week.

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"sharpflat/lab/lesson"
	"sharpflat/lab/train"
)

// LessonEstimate is how long a lesson trains, estimated from steps of its preset measured on
// this machine. It is an estimate: a step's actions (another preset, k, the refresh period,
// the batch) change the cost of a training step, and the machine may be busy.
type LessonEstimate struct {
	Steps    int           // training steps of the steps that train a fixed number
	UpTo     int           // and at most this many more: the steps that wait for a metric (their max_steps)
	Measured int           // training steps measured
	PerStep  time.Duration // the mean time of a training step of the lesson (of its configurations, weighted by their steps)

	fixed, most time.Duration // the sums over the lesson's configurations (Time), when measured
}

// Time is the estimated time of the fixed steps and, with the metric steps' most, the longest.
func (e LessonEstimate) Time() (fixed, most time.Duration) {
	if e.fixed > 0 || e.most > 0 {
		return e.fixed, e.most
	}
	return time.Duration(e.Steps) * e.PerStep, time.Duration(e.Steps+e.UpTo) * e.PerStep
}

// String says the estimate in words ("2000 training steps, about 40s here (an estimate from
// 20 steps of moons measured now)").
func (e LessonEstimate) String() string {
	fixed, most := e.Time()
	s := fmt.Sprintf("%d training steps", e.Steps)
	if e.UpTo > 0 {
		s += fmt.Sprintf(" and up to %d more (waiting for a metric)", e.UpTo)
	}
	s += ", about " + Duration(fixed)
	if e.UpTo > 0 {
		s += " (at most " + Duration(most) + ")"
	}
	return s + fmt.Sprintf(" here: an estimate from %d steps measured now", e.Measured)
}

// LessonSteps counts the training steps a lesson asks for: fixed, those of step-count
// conditions; upTo, the most that its metric conditions may train (max_steps).
func LessonSteps(l *lesson.Lesson) (fixed, upTo int) {
	for _, s := range l.Steps {
		switch {
		case s.Do.Pause:
		case s.Until.Metric != "":
			n := s.Until.MaxSteps
			if n <= 0 {
				n = lesson.DefaultMaxSteps
			}
			upTo += n
		default:
			fixed += s.Until.Steps
		}
	}
	return fixed, upTo
}

// EstimateLesson measures training steps of each configuration the lesson trains on (its
// preset's, and each fresh start's: another preset or a setup that changes the network or
// the data, with the settings of its first training step) for about budget in all (at least
// two steps each, at most 200), and estimates the lesson's training time from them: a step of
// a race counts once per arm. A configuration that cannot start is an error naming its step.
func EstimateLesson(ctx context.Context, l *lesson.Lesson, budget time.Duration) (LessonEstimate, error) {
	var est LessonEstimate
	est.Steps, est.UpTo = LessonSteps(l)
	segs, err := lessonSegments(l)
	if err != nil {
		return est, err
	}
	distinct := 0
	for _, sg := range segs {
		distinct = max(distinct, sg.same+1)
	}
	perStep := make([]time.Duration, distinct) // by the segments' configuration
	for _, sg := range segs {
		if perStep[sg.same] > 0 {
			continue
		}
		d, n, err := measureSteps(ctx, sg, budget/time.Duration(distinct))
		if err != nil {
			if sg.step >= 0 && ctx.Err() == nil {
				err = fmt.Errorf("step %d: %w", sg.step+1, err)
			}
			return est, err
		}
		perStep[sg.same] = max(d, 1)
		est.Measured += n
	}
	est.fixed, est.most = sumSegments(segs, func(i int) time.Duration { return perStep[i] })
	if est.Steps+est.UpTo > 0 {
		est.PerStep = est.most / time.Duration(est.Steps+est.UpTo)
	} else {
		est.PerStep = perStep[0]
	}
	return est, nil
}

// sumSegments is the time of the segments' fixed steps and, with their metric steps' most,
// the longest, from the time of a step of each configuration (perStep of segment.same); a
// round of a race takes a step of each arm.
func sumSegments(segs []segment, perStep func(same int) time.Duration) (fixed, most time.Duration) {
	for _, sg := range segs {
		d := perStep(sg.same) * time.Duration(max(1, sg.arms))
		fixed += time.Duration(sg.fixed) * d
		most += time.Duration(sg.fixed+sg.upTo) * d
	}
	return fixed, most
}

// segment is a run of a lesson's steps that train on one configuration.
type segment struct {
	step  int          // the lesson step (0-based) whose fresh start or settings made it (−1: the lesson's start)
	build train.Config // what the engine builds: the preset's or the fresh start's configuration
	cfg   train.Config // with the settings of the segment's first training step
	arms  int          // the arms of a race in force (0: none)
	fixed int          // training steps of step-count conditions
	upTo  int          // and at most this many more: metric conditions
	same  int          // the index among the distinct configurations (cost keys) of the lesson
}

// lessonSegments follows the lesson's configuration as the engine does (freshConfig,
// applySettings) and cuts it where the cost of a step changes.
func lessonSegments(l *lesson.Lesson) ([]segment, error) {
	c, err := LessonConfig(l)
	if err != nil {
		return nil, err
	}
	cur := segment{step: -1, build: c, cfg: c}
	p := paramsOf(&c)
	var segs []segment
	first := true // the segment has not trained yet: its settings and race may still change
	for i := range l.Steps {
		a := &l.Steps[i].Do
		if a.Fresh() {
			b, err := freshConfig(cur.cfg, a)
			if err != nil {
				return nil, fmt.Errorf("step %d: %w", i+1, err)
			}
			if cur.fixed+cur.upTo > 0 {
				segs = append(segs, cur)
			}
			cur, first = segment{step: i, build: b, cfg: b}, true
			p = paramsOf(&b)
		}
		arms := cur.arms
		if a.Race != nil {
			arms = len(a.Race) // 0: race = [] ends it
		}
		next := cur.cfg
		applySettings(&next, a, p) // k below P, as the engine keeps it
		if !first && (!sameCost(next, cur.cfg) || arms != cur.arms) {
			// a step's settings changed the cost (k, refresh, batch, the rule, a race)
			segs = append(segs, cur)
			cur = segment{step: i, build: cur.build}
		}
		cur.cfg, cur.arms = next, arms
		st := &l.Steps[i]
		switch {
		case a.Pause || !st.Until.Trains():
		case st.Until.Metric != "":
			cur.upTo += cmp.Or(st.Until.MaxSteps, lesson.DefaultMaxSteps)
			first = false
		default:
			cur.fixed += st.Until.Steps
			first = false
		}
	}
	if cur.fixed+cur.upTo > 0 || len(segs) == 0 {
		segs = append(segs, cur)
	}
	var keys []string
	for i := range segs {
		k := costKey(segs[i].cfg)
		j := slices.Index(keys, k)
		if j < 0 {
			j = len(keys)
			keys = append(keys, k)
		}
		segs[i].same = j
	}
	return segs, nil
}

// paramsOf is P of c's network, or a bound no k reaches when it cannot be known (measureSteps
// then says what is wrong with c).
func paramsOf(c *train.Config) int {
	if p, err := train.NumParams(c); err == nil {
		return p
	}
	return math.MaxInt32
}

// costKey is what decides the cost of a training step of c: everything but the seed, η and
// the numbers that only judge it.
func costKey(c train.Config) string {
	c.Seed, c.LR, c.Momentum, c.DivergeFactor = 0, 0, 0, 0
	b, _ := json.Marshal(c)
	return string(b)
}

func sameCost(a, b train.Config) bool { return costKey(a) == costKey(b) }

// measureSteps times steps of the segment's configuration for about budget (at least two,
// at most 200, after a first step that computes the first basis), and returns the mean.
func measureSteps(ctx context.Context, sg segment, budget time.Duration) (time.Duration, int, error) {
	t, err := train.New(sg.build)
	if err != nil {
		return 0, 0, err
	}
	if sg.cfg.K >= t.Model().NumParams() {
		sg.cfg.K = t.Model().NumParams() - 1
	}
	if err := t.Apply(sg.cfg); err != nil {
		return 0, 0, err
	}
	t.SetExtraPair(true) // as the engine trains it
	// A signal stops a refresh within one product (a heavy preset's first basis takes minutes).
	t.SetInterrupt(func() bool { return ctx.Err() != nil })
	if _, err := t.Step(); ctx.Err() != nil { // the first step computes the first basis: not typical
		return 0, 0, ctx.Err()
	} else if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	n := 0
	for n < 2 || (n < 200 && time.Since(start) < budget) {
		if ctx.Err() != nil {
			return 0, n, ctx.Err()
		}
		if _, err := t.Step(); ctx.Err() != nil {
			return 0, n, ctx.Err()
		} else if err != nil {
			return 0, n, err
		}
		n++
	}
	return time.Since(start) / time.Duration(n), n, nil
}

// Duration says d briefly: "40s", "12 min", "3.5 h", "9 days".
func Duration(d time.Duration) string {
	switch {
	case d < time.Second:
		return "under a second"
	case d < 100*time.Second:
		return fmt.Sprintf("%.0fs", d.Seconds())
	case d < 100*time.Minute:
		return fmt.Sprintf("%.0f min", d.Minutes())
	case d < 48*time.Hour:
		return fmt.Sprintf("%.1f h", d.Hours())
	}
	return fmt.Sprintf("%.0f days", d.Hours()/24)
}
