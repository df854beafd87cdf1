package lab

import (
	"context"
	"math"
	"slices"
	"testing"

	"sharpflat/lab/lesson"
	"sharpflat/lab/train"
)

// raceLesson: a warm-up, a race of Dom-SGD and Bulk-SGD at twice η with claims on the arms,
// a step the race runs through, and a step that ends it.
func raceLesson() *lesson.Lesson {
	c, _ := train.Preset("moons")
	edge := 2 / (2 * c.LR) // the bulk:lr*2 arm's 2/η (hand calculation)
	return &lesson.Lesson{Name: "race", Title: "Race", Preset: "moons", Seed: 3, Steps: []lesson.Step{
		{Title: "warm up", Caption: "train", Until: lesson.Until{Steps: 15}},
		{Title: "race", Caption: "two from here", Do: lesson.Actions{Race: []string{"dom", "bulk:lr*2"}}, Until: lesson.Until{Steps: 10},
			Expect: []lesson.Expect{
				{Metric: "train_loss@bulk:lr*2", BelowMetric: "train_loss@dom"},
				{Metric: "train_loss@dom", BelowMetric: "train_loss@bulk:lr*2"},
				{Metric: "edge@bulk:lr*2", Above: f64(edge * (1 - 1e-12))},
				{Metric: "edge@bulk:lr*2", Below: f64(edge * (1 + 1e-12))},
			}},
		{Title: "on", Caption: "the race runs on", Until: lesson.Until{Steps: 5}},
		{Title: "end", Caption: "the lab goes on with the focused arm", Do: lesson.Actions{Race: []string{}}, Until: lesson.Until{Steps: 3}},
	}}
}

// A lesson step starts a race; claims name its arms and compare them, judged as the arms'
// own values say (the reference: each arm's latest training loss in its history); the race
// runs through the next step and a later step ends it, the focused arm going on.
func TestLessonRace(t *testing.T) {
	e := lessonEngine(t, raceLesson(), Options{LessonAuto: true})
	var dom, bulk float64
	var lr float64
	e.opts.LessonProgress = func(p LessonProgress) {
		if p.Index == 1 && p.Trained == 10 && e.race != nil {
			last := func(a *arm) float64 { pts := a.history.TrainLoss.Points; return pts[len(pts)-1].V }
			dom, bulk = last(e.arms[0]), last(e.arms[1])
			lr = e.arms[1].t.Config().LR
		}
	}
	if err := e.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	rs := e.LessonResults()
	if len(rs) != 4 {
		t.Fatalf("%d step results, want 4", len(rs))
	}
	if dom == 0 || bulk == 0 || dom == bulk {
		t.Fatalf("the arms' training losses at the race step's end: dom %v, bulk %v", dom, bulk)
	}
	want := []bool{bulk < dom, dom < bulk, true, true}
	for i, c := range rs[1].Claims {
		if (c.Verdict == lesson.Holds) != want[i] || c.Verdict == lesson.Open || c.Verdict == lesson.Skipped {
			t.Errorf("claim %q: %v (%s), want holds = %v (dom %v, bulk %v)", c.Text, c.Verdict, c.Value, want[i], dom, bulk)
		}
	}
	base, _ := LessonConfig(raceLesson())
	if math.Abs(lr-2*base.LR) > 0 {
		t.Errorf("the bulk:lr*2 arm trained at η %v, want 2 × %v", lr, base.LR)
	}
	if e.race != nil || e.Step() != 33 || e.Config().WBulk != 0 || e.Config().WDom != 1 {
		t.Errorf("after the race: race %v, step %d, (%v, %v); want the Dom arm (focused) at step 33",
			e.race != nil, e.Step(), e.Config().WDom, e.Config().WBulk)
	}
}

// Stepping back to a step that began in a race restores the race (every arm's state and
// charts), and the step plays again as the first time.
func TestLessonStepBackIntoARace(t *testing.T) {
	e, sub := playLesson(t, raceLesson())
	await(t, sub, "step 1 done", func(s Snapshot) bool { return s.Lesson.Done && s.Lesson.Index == 0 })
	e.LessonNext()
	first := await(t, sub, "the race step done", func(s Snapshot) bool { return s.Lesson.Index == 1 && s.Lesson.Done })
	if first.Race == nil || len(first.Race.Arms) != 2 || first.Race.Arms[1].State.Step != 25 {
		t.Fatalf("the race step ended without its race at step 25: %+v", first.Race)
	}
	loss := slices.Clone(first.Race.Arms[1].History.Loss.Points)
	e.LessonNext()
	await(t, sub, "the step the race runs through done", func(s Snapshot) bool { return s.Lesson.Index == 2 && s.Lesson.Done })
	e.LessonBack() // to the race step's beginning: the race just forked at step 15
	back := await(t, sub, "back at the race step", func(s Snapshot) bool { return s.Lesson.Index == 1 && !s.Lesson.Done })
	if back.Race == nil || back.Race.At != 15 {
		t.Fatalf("stepping back into the race: %+v", back.Race)
	}
	// It plays at once: the charts hold the steps replayed so far, the same as the first time.
	if pts := back.Race.Arms[1].History.Loss.Points; len(pts) != back.Race.Arms[1].State.Step || !slices.Equal(pts, loss[:len(pts)]) {
		t.Fatalf("stepping back: the Bulk arm's chart holds %d points at step %d, or differs", len(pts), back.Race.Arms[1].State.Step)
	}
	again := await(t, sub, "the race step done again", func(s Snapshot) bool { return s.Lesson.Index == 1 && s.Lesson.Done })
	if got := again.Race.Arms[1].History.Loss.Points; !slices.Equal(got, loss) {
		t.Errorf("the race step played again differs from the first time")
	}
}
