package lab

// How long a lesson trains, said before it starts (lesson --check) and while it plays (the
// lesson band): a step count alone does not tell a teacher whether a lesson takes a minute
// or a week.

import (
	"context"
	"fmt"
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
	PerStep  time.Duration // the mean time of one of them
}

// Time is the estimated time of the fixed steps and, with the metric steps' most, the longest.
func (e LessonEstimate) Time() (fixed, most time.Duration) {
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

// EstimateLesson measures training steps of the lesson's starting configuration for about
// budget (at least two, at most 200) and estimates the lesson's training time from them.
func EstimateLesson(ctx context.Context, l *lesson.Lesson, budget time.Duration) (LessonEstimate, error) {
	var est LessonEstimate
	est.Steps, est.UpTo = LessonSteps(l)
	c, err := LessonConfig(l)
	if err != nil {
		return est, err
	}
	t, err := train.New(c)
	if err != nil {
		return est, err
	}
	t.SetExtraPair(true) // as the engine trains it
	// A signal stops a refresh within one product (a heavy preset's first basis takes minutes).
	t.SetInterrupt(func() bool { return ctx.Err() != nil })
	if _, err := t.Step(); ctx.Err() != nil { // the first step computes the first basis: not typical
		return est, ctx.Err()
	} else if err != nil {
		return est, err
	}
	start := time.Now()
	for est.Measured < 2 || (est.Measured < 200 && time.Since(start) < budget) {
		if ctx.Err() != nil {
			return est, ctx.Err()
		}
		if _, err := t.Step(); ctx.Err() != nil {
			return est, ctx.Err()
		} else if err != nil {
			return est, err
		}
		est.Measured++
	}
	est.PerStep = time.Since(start) / time.Duration(est.Measured)
	return est, nil
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
