package lab

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"sharpflat/lab/lesson"
	"sharpflat/lab/train"
)

func f64(v float64) *float64 { return &v }

// tinyLesson: train 15 steps, a step that only talks, then η halved for 10 steps with a
// claim that holds and one that cannot.
func tinyLesson() *lesson.Lesson {
	return &lesson.Lesson{Name: "tiny", Title: "Tiny", Preset: "moons", Seed: 3, Steps: []lesson.Step{
		{Title: "warm up", Caption: "train", Until: lesson.Until{Steps: 15}},
		{Title: "look", Caption: "nothing trains here", Do: lesson.Actions{Checkpoint: true}},
		{Title: "halve η", Caption: "slower", Do: lesson.Actions{LR: f64(0.05)}, Until: lesson.Until{Steps: 10},
			Expect: []lesson.Expect{
				{Metric: "edge", Above: f64(39.9)},                 // 2/η = 40 (hand calculation)
				{Metric: "loss", Above: f64(1e9)},                  // cannot hold
				{Metric: "edge", Below: f64(41), Throughout: true}, // every step at η = 0.05
			}},
	}}
}

func lessonEngine(t *testing.T, l *lesson.Lesson, opts Options) *Engine {
	t.Helper()
	c, err := LessonConfig(l)
	if err != nil {
		t.Fatal(err)
	}
	opts.Lesson = l
	e, err := New(c, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// playLesson runs an engine on l in the background (played by a user: it waits at each
// step's end) and returns it with a subscription to it.
func playLesson(t *testing.T, l *lesson.Lesson) (*Engine, *Subscription) {
	t.Helper()
	e := lessonEngine(t, l, Options{})
	sub := e.Subscribe()
	ctx, cancel := context.WithCancel(context.Background())
	go e.Run(ctx)
	t.Cleanup(func() { cancel(); <-e.Done() })
	return e, sub
}

// Played without a user, a lesson runs each step to its condition, skips the steps that
// only talk, judges the claims at each step's end, and Run returns at its end.
func TestLessonPlaysToTheEnd(t *testing.T) {
	e := lessonEngine(t, tinyLesson(), Options{LessonAuto: true})
	if err := e.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	rs := e.LessonResults()
	if len(rs) != 3 {
		t.Fatalf("%d step results, want 3: %+v", len(rs), rs)
	}
	if got := []int{rs[0].Trained, rs[1].Trained, rs[2].Trained}; !slices.Equal(got, []int{15, 0, 10}) {
		t.Errorf("steps trained per lesson step %v, want [15 0 10]", got)
	}
	if e.Step() != 25 {
		t.Errorf("engine at step %d, want 25", e.Step())
	}
	want := []lesson.Verdict{lesson.Holds, lesson.Fails, lesson.Holds}
	for i, c := range rs[2].Claims {
		if c.Verdict != want[i] {
			t.Errorf("claim %q: %v (%s), want %v", c.Text, c.Verdict, c.Value, want[i])
		}
	}
	if cfg := e.Config(); cfg.LR != 0.05 || cfg.Seed != 3 {
		t.Errorf("lr %g seed %d, want the lesson's 0.05 and 3", cfg.LR, cfg.Seed)
	}
	// The event log says at once how much the lesson trains (15 + 10 steps).
	if len(e.events) == 0 || e.events[0].Text != "lesson: Tiny · 25 training steps" {
		t.Errorf("the first event %+v, want the lesson and its 25 training steps", e.events[:min(1, len(e.events))])
	}
}

// Stepping back restores the state kept when the step began, charts included, and the step
// plays again exactly as the first time.
func TestLessonStepBackReplays(t *testing.T) {
	e, sub := playLesson(t, tinyLesson())

	first := await(t, sub, "step 1 done", func(s Snapshot) bool { return s.Lesson.Done && s.Lesson.Index == 0 })
	if first.Step != 15 || first.Run != Paused {
		t.Fatalf("step 1 ended at step %d, %v; want 15, paused", first.Step, first.Run)
	}
	e.LessonNext() // step 2 talks: nothing trains
	await(t, sub, "step 2", func(s Snapshot) bool { return s.Lesson.Index == 1 && s.Run == Paused })
	e.LessonNext()
	done3 := await(t, sub, "step 3 done", func(s Snapshot) bool { return s.Lesson.Index == 2 && s.Lesson.Done })
	loss3 := slices.Clone(done3.History.Loss.Points)

	e.LessonBack() // to step 2's beginning: step 15, η as step 1 left it
	back := await(t, sub, "back at step 2", func(s Snapshot) bool { return s.Lesson.Index == 1 && !s.Lesson.Done && s.Step == 15 })
	if back.Config.LR == 0.05 {
		t.Errorf("stepping back kept η = 0.05 of step 3")
	}
	if n := len(back.History.Loss.Points); n != 15 {
		t.Errorf("the charts after stepping back hold %d steps, want 15", n)
	}
	e.LessonNext()
	again := await(t, sub, "step 3 done again", func(s Snapshot) bool { return s.Lesson.Index == 2 && s.Lesson.Done })
	if !slices.Equal(again.History.Loss.Points, loss3) {
		t.Errorf("step 3 played again differs from the first time")
	}
	if again.Step != 25 {
		t.Errorf("step 3 again ended at step %d, want 25", again.Step)
	}
	e.LessonNext()
	await(t, sub, "the end", func(s Snapshot) bool { return s.Lesson.Over })
}

// A held engine does not train, whatever its state; released, it goes on.
func TestHoldStopsTraining(t *testing.T) {
	e, sub := startPaused(t, small(), Options{})
	e.Hold(true)
	e.Resume()
	s := await(t, sub, "held and running", func(s Snapshot) bool { return s.Held && s.Run == Running })
	if s.Step != 0 {
		t.Fatalf("a held engine trained %d steps", s.Step)
	}
	e.Hold(false)
	await(t, sub, "training once released", func(s Snapshot) bool { return !s.Held && s.Step >= 3 })
}

// A rollback in a step played again after stepping back returns to the same checkpoint as
// the first time: the rollback targets come back with the state.
func TestLessonRollbackAfterStepBack(t *testing.T) {
	l := &lesson.Lesson{Name: "rb", Title: "Rollback", Preset: "moons", Steps: []lesson.Step{
		{Title: "train", Caption: "c", Until: lesson.Until{Steps: 10}},
		{Title: "keep", Caption: "c", Do: lesson.Actions{Checkpoint: true}, Until: lesson.Until{Steps: 120}},
		{Title: "back", Caption: "c", Do: lesson.Actions{Rollback: true}, Until: lesson.Until{Steps: 5}},
	}}
	e, sub := playLesson(t, l)
	done := func(i int) Snapshot {
		return await(t, sub, "a step done", func(s Snapshot) bool { return s.Lesson.Index == i && s.Lesson.Done })
	}
	done(0)
	e.LessonNext()
	done(1)
	e.LessonNext()
	if s := done(2); s.Step != 15 {
		t.Fatalf("the rollback step ended at step %d, want 10 + 5", s.Step)
	}
	e.LessonBack() // to step 2's beginning (step 10), then on again
	done(1)
	e.LessonNext()
	if s := done(2); s.Step != 15 {
		t.Errorf("played again after stepping back, the rollback step ended at step %d, want 15 (the checkpoint at 10, not an automatic one)", s.Step)
	}
}

// Stepping back from a step that diverged brings back a healthy state that trains again.
func TestLessonStepBackFromDivergence(t *testing.T) {
	l := &lesson.Lesson{Name: "div", Title: "Diverge", Preset: "moons", Steps: []lesson.Step{
		{Title: "train", Caption: "c", Until: lesson.Until{Steps: 10}},
		{Title: "blow up", Caption: "c", Do: lesson.Actions{LR: f64(500)}, Until: lesson.Until{Steps: 100}},
	}}
	e, sub := playLesson(t, l)
	await(t, sub, "step 1 done", func(s Snapshot) bool { return s.Lesson.Index == 0 && s.Lesson.Done })
	e.LessonNext()
	await(t, sub, "the divergence", func(s Snapshot) bool { return s.Lesson.Index == 1 && s.Lesson.Done && s.Run == Diverged })
	e.LessonBack()
	s := await(t, sub, "step 1 done again", func(s Snapshot) bool { return s.Lesson.Index == 0 && s.Lesson.Done })
	if s.Step != 10 || s.Run != Paused || s.Diverged != nil {
		t.Errorf("after stepping back: step %d, %v, diverged %v; want step 10, paused, healthy", s.Step, s.Run, s.Diverged)
	}
}

// A paused engine paints the picture of its newest step, even when that step came within
// the picture's rate of the last one.
func TestPictureFollowsAPausedEngine(t *testing.T) {
	c, _ := train.Preset("moons")
	e, sub := startPaused(t, c, Options{})
	sub.WantPicture(true)
	await(t, sub, "the first picture", func(s Snapshot) bool { return s.Picture != nil && s.Picture.Step == 0 })
	e.StepN(1)
	await(t, sub, "the picture of step 1", func(s Snapshot) bool { return s.Picture != nil && s.Picture.Step == 1 })
}

// A mark belongs to the branch it happened on: after a lesson's rollback (as steps 3 to 5 of
// dom-stalls-bulk-learns do) the charts no longer mark the update of the branch left (Dom at
// the checkpoint), and the rollback's mark names the update the new branch trains with.
func TestLessonRollbackMarksTheBranch(t *testing.T) {
	l := &lesson.Lesson{Name: "branches", Title: "Branches", Preset: "moons", Steps: []lesson.Step{
		{Title: "warm up", Caption: "c", Until: lesson.Until{Steps: 10}},
		{Title: "Dom", Caption: "c", Do: lesson.Actions{Checkpoint: true, Alpha: f64(0)}, Until: lesson.Until{Steps: 10}},
		{Title: "Bulk", Caption: "c", Do: lesson.Actions{Rollback: true, Alpha: f64(1)}, Until: lesson.Until{Steps: 5}},
		{Title: "SGD", Caption: "c", Do: lesson.Actions{Rollback: true, Alpha: f64(0.5)}, Until: lesson.Until{Steps: 5}},
	}}
	e, sub := playLesson(t, l)
	done := func(i int) Snapshot {
		return await(t, sub, "a step done", func(s Snapshot) bool { return s.Lesson.Index == i && s.Lesson.Done })
	}
	marks := func(s Snapshot) []Mark {
		var ms []Mark
		for _, m := range s.History.Marks {
			ms = append(ms, Mark{Step: m.Step, Kind: m.Kind, Label: m.Label})
		}
		return ms
	}
	done(0)
	e.LessonNext()
	if s := done(1); !slices.Equal(marks(s), []Mark{{Step: 10, Kind: MarkUpdate, Label: "Dom"}}) {
		t.Errorf("the Dom branch: marks %+v, want Dom at 10", marks(s))
	}
	e.LessonNext()
	if s := done(2); s.Step != 15 || !slices.Equal(marks(s), []Mark{{Step: 10, Kind: MarkRollback, Label: "↶ 20 Bulk"}}) {
		t.Errorf("the Bulk branch (step %d): marks %+v, want only ↶ 20 Bulk at 10", s.Step, marks(s))
	}
	e.LessonNext()
	if s := done(3); s.Step != 15 || !slices.Equal(marks(s), []Mark{{Step: 10, Kind: MarkRollback, Label: "↶ 15 SGD"}}) {
		t.Errorf("the SGD branch (step %d): marks %+v, want only ↶ 15 SGD at 10", s.Step, marks(s))
	}
}

// ffLesson trains 15 steps with claims about the step's end, then talks.
func ffLesson() *lesson.Lesson {
	return &lesson.Lesson{Name: "ff", Title: "Fast-forward", Preset: "moons", Seed: 3, Steps: []lesson.Step{
		{Title: "train", Caption: "c", Until: lesson.Until{Steps: 15}, Expect: []lesson.Expect{
			{Metric: "train_loss", FallsBy: f64(0.001)},
			{Metric: "edge", Above: f64(19.9)},
		}},
		{Title: "look", Caption: "nothing trains here"},
	}}
}

// playHeld starts an engine on l held (it trains nothing until released), so that commands
// reach it at a known point of a step, whatever the machine's speed.
func playHeld(t *testing.T, l *lesson.Lesson) (*Engine, *Subscription) {
	t.Helper()
	e := lessonEngine(t, l, Options{})
	e.Hold(true)
	sub := e.Subscribe()
	ctx, cancel := context.WithCancel(context.Background())
	go e.Run(ctx)
	t.Cleanup(func() { cancel(); <-e.Done() })
	return e, sub
}

// → while a step trains fast-forwards it: the step trains on to its condition, its claims
// are judged there exactly as the lesson's test judges them (never a ✗ the test would not
// show), and the lesson goes on to the next step.
func TestLessonNextMidStepFastForwards(t *testing.T) {
	ref := lessonEngine(t, ffLesson(), Options{LessonAuto: true})
	if err := ref.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := ref.LessonResults()[0]

	e, sub := playHeld(t, ffLesson())
	e.LessonNext() // the step has trained 0 of its 15 steps
	ff := await(t, sub, "the fast-forward", func(s Snapshot) bool { return s.Lesson.FastForward && s.Run == Running })
	if ff.Lesson.Index != 0 || ff.Lesson.Done || ff.Step != 0 {
		t.Fatalf("fast-forwarding: step %d of the lesson, done %v, at training step %d; want the first, not done, 0", ff.Lesson.Index+1, ff.Lesson.Done, ff.Step)
	}
	for _, c := range ff.Lesson.Claims {
		if c.Verdict == lesson.Fails {
			t.Errorf("before the step's end: %q shows ✗ (%s)", c.Text, c.Value)
		}
	}
	e.Hold(false)
	s := await(t, sub, "the next step", func(s Snapshot) bool { return s.Lesson.Index == 1 })
	if s.Step != 15 || s.Lesson.FastForward {
		t.Errorf("after the fast-forward: training step %d (want 15), still fast-forwarding %v", s.Step, s.Lesson.FastForward)
	}
	var got StepResult
	e.Do(func(*train.Trainer) { got = e.LessonResults()[0] })
	if got.Trained != 15 || got.Skipped || !slices.Equal(got.Claims, want.Claims) {
		t.Errorf("the fast-forwarded step: %+v\nwant what the lesson's test judges: %+v", got, want)
	}
}

// A second → during a fast-forward skips the step: the lesson goes on at once and the
// step's claims show as not judged, never as ✗.
func TestLessonNextTwiceSkips(t *testing.T) {
	e, sub := playHeld(t, ffLesson())
	e.LessonNext()
	e.LessonNext()
	e.Hold(false)
	s := await(t, sub, "the next step", func(s Snapshot) bool { return s.Lesson.Index == 1 })
	if s.Step != 0 {
		t.Errorf("a skipped step trained to step %d", s.Step)
	}
	var got StepResult
	e.Do(func(*train.Trainer) { got = e.LessonResults()[0] })
	if !got.Skipped || len(got.Claims) != 2 {
		t.Fatalf("the skipped step: %+v", got)
	}
	for _, c := range got.Claims {
		if c.Verdict != lesson.Skipped || c.Value != "not judged (skipped)" {
			t.Errorf("claim %q of a skipped step: %v, %q", c.Text, c.Verdict, c.Value)
		}
	}
}

// A step's show reaches the screen through the snapshot's LessonView, whatever file the
// lesson came from (the TUI does not look the lesson up by name).
func TestLessonViewCarriesShow(t *testing.T) {
	l := tinyLesson()
	l.Steps[1].Show = "density"
	e, sub := playLesson(t, l)
	first := await(t, sub, "step 1 done", func(s Snapshot) bool { return s.Lesson.Done && s.Lesson.Index == 0 })
	if first.Lesson.Show != "" {
		t.Errorf("step 1 shows %q, want nothing", first.Lesson.Show)
	}
	e.LessonNext()
	await(t, sub, "step 2 shows the density", func(s Snapshot) bool { return s.Lesson.Index == 1 && s.Lesson.Show == "density" })
}

// A step with setup keys begins a fresh run of the configuration in force with them changed
// (after the step's seed, before its other settings), logged as a setup; stepping back to it
// brings back the run it made.
func TestLessonSetupStartsAFreshRun(t *testing.T) {
	l := &lesson.Lesson{Name: "setup", Title: "Setup", Preset: "moons", Seed: 3, Steps: []lesson.Step{
		{Title: "train", Caption: "c", Do: lesson.Actions{LR: f64(0.05)}, Until: lesson.Until{Steps: 12}},
		{Title: "wider", Caption: "c", Do: lesson.Actions{
			Seed:  ptrU(5),
			Setup: []lesson.Setting{{Key: "hidden", Value: "7"}, {Key: "act", Value: "relu"}, {Key: "weight_decay", Value: "0.01"}},
			K:     ptrI(4),
		}, Until: lesson.Until{Steps: 6}},
		{Title: "look", Caption: "c"},
	}}
	e, sub := playLesson(t, l)
	await(t, sub, "step 1 done", func(s Snapshot) bool { return s.Lesson.Index == 0 && s.Lesson.Done && s.Step == 12 })
	e.LessonNext()
	s := await(t, sub, "step 2 done", func(s Snapshot) bool { return s.Lesson.Index == 1 && s.Lesson.Done })
	c := s.Config
	if s.Step != 6 || !slices.Equal(c.Hidden, []int{7}) || c.Act.String() != "relu" || c.WeightDecay != 0.01 || c.Seed != 5 || c.K != 4 {
		t.Errorf("after the setup step: step %d, hidden %v, act %v, weight decay %g, seed %d, k %d; want 6 steps of a fresh run, [7], relu, 0.01, 5, 4",
			s.Step, c.Hidden, c.Act, c.WeightDecay, c.Seed, c.K)
	}
	// The settings the setup leaves alone are the run's: η as step 1 set it.
	if c.LR != 0.05 || c.Data != "moons" {
		t.Errorf("lr %g, data %q: want the run's 0.05 and moons", c.LR, c.Data)
	}
	// P of 2-7-2: 2·7 + 7 + 7·2 + 2 = 37 (by hand).
	var p int
	var logged bool
	e.Do(func(tr *train.Trainer) {
		p = tr.Model().NumParams()
		for _, ev := range e.events {
			logged = logged || ev.Text == "lesson setup: hidden 7, act relu, weight_decay 0.01 (a fresh run)"
		}
	})
	if p != 37 {
		t.Errorf("the fresh run has %d parameters, want 37 (2-7-2)", p)
	}
	if !logged {
		t.Error("the setup is not in the event log")
	}
	if n := len(s.History.Loss.Points); n != 6 {
		t.Errorf("the charts hold %d steps after the fresh run, want 6", n)
	}
	e.LessonNext()
	await(t, sub, "step 3", func(s Snapshot) bool { return s.Lesson.Index == 2 })
	e.LessonBack()
	back := await(t, sub, "step 2 again", func(s Snapshot) bool { return s.Lesson.Index == 1 && s.Lesson.Done })
	if !slices.Equal(back.Config.Hidden, []int{7}) || back.Step != 6 {
		t.Errorf("step 2 played again: hidden %v at step %d, want [7] at 6", back.Config.Hidden, back.Step)
	}
}

func ptrU(v uint64) *uint64 { return &v }
func ptrI(v int) *int       { return &v }

// A step's noise and features start a fresh run on data with that noise and those inputs:
// σ = 0 puts every moon point on its half circle (class 0 on x₁² + x₂² = 1, class 1 on
// (1 − x₁)² + (½ − x₂)² = 1, by make_moons' definition), and the features (x₁, x₂, x₁x₂)
// make the network's input three wide, its third column the product of the first two.
func TestLessonSetupNoiseAndFeatures(t *testing.T) {
	l := &lesson.Lesson{Name: "data", Title: "Data", Preset: "moons", Steps: []lesson.Step{
		{Title: "noiseless", Caption: "c", Do: lesson.Actions{Setup: []lesson.Setting{
			{Key: "noise", Value: "0"}, {Key: "features", Value: "x1,x2,x1x2"}, {Key: "hidden", Value: "7"},
		}}, Until: lesson.Until{Steps: 3}},
	}}
	e, sub := playLesson(t, l)
	c := await(t, sub, "the step's end", func(s Snapshot) bool { return s.Lesson.Done }).Config
	if c.Noise != train.NoiseOf(0) || c.Features.String() != "x1,x2,x1x2" {
		t.Errorf("noise %v, features %v; want 0 and x1,x2,x1x2", c.Noise, c.Features)
	}
	var checked int
	e.Do(func(tr *train.Trainer) {
		if p := tr.Model().NumParams(); p != 3*7+7+7*2+2 {
			t.Errorf("%d parameters, want 44 (3-7-2)", p)
		}
		d, _, _ := tr.Data()
		if d.D != 3 {
			t.Fatalf("input width %d, want 3", d.D)
		}
		for i := range d.N {
			x1, x2, x12 := d.X[3*i], d.X[3*i+1], d.X[3*i+2]
			r := x1*x1 + x2*x2
			if d.Labels[i] == 1 {
				r = (1-x1)*(1-x1) + (0.5-x2)*(0.5-x2)
			}
			if math.Abs(r-1) > 1e-12 || math.Abs(x12-x1*x2) > 1e-12 {
				t.Fatalf("point %d (class %d): (%g, %g, %g) is not on its half circle with x₁x₂ third", i, d.Labels[i], x1, x2, x12)
			}
			checked++
		}
	})
	if checked < 900 {
		t.Errorf("checked %d points", checked)
	}
}

// A setup whose fresh run cannot start (k = 10 for a 2-1-2 net of P = 7: checked only when
// the network is built) leaves the run in force, and the step's result and view say why.
func TestLessonSetupThatCannotStart(t *testing.T) {
	l := &lesson.Lesson{Name: "bad", Title: "Bad", Preset: "moons", Steps: []lesson.Step{
		{Title: "k", Caption: "c", Do: lesson.Actions{K: ptrI(10)}, Until: lesson.Until{Steps: 2}},
		{Title: "too narrow", Caption: "c", Do: lesson.Actions{Setup: []lesson.Setting{{Key: "hidden", Value: "1"}}}, Until: lesson.Until{Steps: 2}},
		{Title: "fine", Caption: "c", Until: lesson.Until{Steps: 1}},
	}}
	e, sub := playLesson(t, l)
	if s := await(t, sub, "step 1 done", func(s Snapshot) bool { return s.Lesson.Index == 0 && s.Lesson.Done }); s.Lesson.Error != "" {
		t.Errorf("step 1 has an error: %q", s.Lesson.Error)
	}
	e.LessonNext()
	s := await(t, sub, "step 2 done", func(s Snapshot) bool { return s.Lesson.Index == 1 && s.Lesson.Done })
	if !slices.Equal(s.Config.Hidden, []int{32, 32}) || s.Step != 4 {
		t.Errorf("after the failed setup: hidden %v at step %d, want the run in force (32-32) at step 4", s.Config.Hidden, s.Step)
	}
	want := "the step's fresh run did not start: invalid configuration for data moons: k: 10, but the network has 7 parameters"
	if !strings.HasPrefix(s.Lesson.Error, want) {
		t.Errorf("the view's error %q, want %q…", s.Lesson.Error, want)
	}
	e.LessonNext()
	await(t, sub, "step 3 done", func(s Snapshot) bool { return s.Lesson.Index == 2 && s.Lesson.Done && s.Lesson.Error == "" })
	var rs []StepResult
	e.Do(func(*train.Trainer) { rs = slices.Clone(e.LessonResults()) })
	if len(rs) != 3 || rs[0].Error != "" || !strings.HasPrefix(rs[1].Error, want) || rs[2].Error != "" {
		t.Errorf("step results' errors: %+v", rs)
	}
}
