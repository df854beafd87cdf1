package lab

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"sharpflat/lab/lesson"
)

// The time estimate follows a lesson's configuration as the engine plays it: a setup's fresh
// start, a setting that changes a step's cost (k) and a race (one step a round for each arm)
// begin segments of their own; a reset on a configuration met before costs as that one did.
func TestLessonSegments(t *testing.T) {
	l := &lesson.Lesson{Name: "seg", Title: "Segments", Preset: "moons", Steps: []lesson.Step{
		{Caption: "c", Until: lesson.Until{Steps: 10}},
		{Caption: "c", Do: lesson.Actions{Setup: []lesson.Setting{{Key: "hidden", Value: "4"}}}, Until: lesson.Until{Steps: 20}},
		{Caption: "c"}, // talks: nothing changes
		{Caption: "c", Do: lesson.Actions{LR: f64(0.5)}, Until: lesson.Until{Steps: 3}}, // η does not change the cost
		{Caption: "c", Do: lesson.Actions{K: ptrI(1)}, Until: lesson.Until{Steps: 5}},
		{Caption: "c", Do: lesson.Actions{Race: []string{"dom", "bulk"}}, Until: lesson.Until{Steps: 7}},
		{Caption: "c", Do: lesson.Actions{Reset: true}, Until: lesson.Until{Metric: "loss", Below: f64(0.1), MaxSteps: 30}},
		{Caption: "c", Do: lesson.Actions{Pause: true}, Until: lesson.Until{Steps: 50}}, // paused: trains nothing
	}}
	segs, err := lessonSegments(l)
	if err != nil {
		t.Fatal(err)
	}
	type seg struct {
		step        int
		hidden      []int
		k, arms     int
		fixed, upTo int
		same        int
	}
	want := []seg{ // step: the step (0-based) that begins the segment, −1 the lesson's start
		{-1, []int{32, 32}, 2, 0, 10, 0, 0},
		{1, []int{4}, 2, 0, 23, 0, 1},
		{4, []int{4}, 1, 0, 5, 0, 2},
		{5, []int{4}, 1, 2, 7, 0, 2},
		{6, []int{4}, 1, 0, 0, 30, 2},
	}
	var got []seg
	for _, s := range segs {
		got = append(got, seg{s.step, s.cfg.Hidden, s.cfg.K, s.arms, s.fixed, s.upTo, s.same})
		if !slices.Equal(s.build.Hidden, s.cfg.Hidden) {
			t.Errorf("segment of step %d builds hidden %v but trains %v", s.step+1, s.build.Hidden, s.cfg.Hidden)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("segments %+v\nwant %+v", got, want)
	}
	for i := range want {
		w, g := want[i], got[i]
		if g.step != w.step || !slices.Equal(g.hidden, w.hidden) || g.k != w.k || g.arms != w.arms || g.fixed != w.fixed || g.upTo != w.upTo || g.same != w.same {
			t.Errorf("segment %d: %+v, want %+v", i, g, w)
		}
	}
	if segs[1].cfg.LR != 0.5 {
		t.Errorf("the second segment trains at η %g, want the last step's 0.5", segs[1].cfg.LR)
	}
}

// The estimate is the sum over the segments of their steps × their measured step × arms:
// with the measurement replaced by fixed times, by hand 10·1ms + 23·2ms + 5·3ms + 2·7·3ms =
// 113ms fixed, and 113ms + 30·3ms = 203ms at most.
func TestLessonEstimateSums(t *testing.T) {
	segs := []segment{
		{fixed: 10, same: 0}, {fixed: 23, same: 1}, {fixed: 5, same: 2}, {fixed: 7, arms: 2, same: 2}, {upTo: 30, same: 2},
	}
	per := []time.Duration{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond}
	fixed, most := sumSegments(segs, func(i int) time.Duration { return per[i] })
	if fixed != 113*time.Millisecond || most != 203*time.Millisecond {
		t.Errorf("fixed %v, most %v; want 113ms and 203ms", fixed, most)
	}
}

// A fresh start that the engine could not start (k = 10 for a 2-1-2 net of P = 7) makes the
// estimate fail, naming the step, before the lesson plays on the wrong run.
func TestEstimateLessonNamesAStepThatCannotStart(t *testing.T) {
	l := &lesson.Lesson{Name: "bad", Title: "Bad", Preset: "moons", Steps: []lesson.Step{
		{Caption: "c", Do: lesson.Actions{K: ptrI(10)}, Until: lesson.Until{Steps: 2}},
		{Caption: "c", Do: lesson.Actions{Setup: []lesson.Setting{{Key: "hidden", Value: "1"}}}, Until: lesson.Until{Steps: 2}},
	}}
	_, err := EstimateLesson(context.Background(), l, time.Millisecond)
	if err == nil || !strings.HasPrefix(err.Error(), "step 2: ") || !strings.Contains(err.Error(), "k: 10, but the network has 7 parameters") {
		t.Errorf("err %v, want step 2's k", err)
	}
}

// A step's own k and batch are for the network and data its fresh start builds (review: the
// new net was built with the old run's k and batch, and failed), the estimate clamps k below
// P as the engine does (it refused a lesson the engine plays), and its errors name the step
// whose configuration fails, the first step's fresh start and a settings step too.
func TestLessonFreshStartTakesItsOwnKAndBatch(t *testing.T) {
	lessonOf := func(steps string) *lesson.Lesson {
		l, err := lesson.Parse("fit.toml", []byte("title = \"fit\"\npreset = \"moons\"\n"+steps))
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	plays := []struct{ name, steps string }{
		{"k for the new net", "[[step]]\ncaption = \"a\"\ndo = { k = 10 }\nuntil = { steps = 2 }\n[[step]]\ncaption = \"b\"\ndo = { hidden = [1], k = 2 }\nuntil = { steps = 2 }\n"},
		{"batch for the new data", "[[step]]\ncaption = \"a\"\ndo = { n = 20, batch = 8 }\nuntil = { steps = 2 }\n"},
		{"k clamped as the engine clamps it", "[[step]]\ncaption = \"a\"\ndo = { hidden = [4], k = 30 }\nuntil = { steps = 2 }\n[[step]]\ncaption = \"b\"\ndo = { hidden = [5] }\nuntil = { steps = 2 }\n"},
	}
	for _, c := range plays {
		t.Run(c.name, func(t *testing.T) {
			l := lessonOf(c.steps)
			if _, err := EstimateLesson(context.Background(), l, 20*time.Millisecond); err != nil {
				t.Errorf("the estimate refuses it: %v", err)
			}
			e := lessonEngine(t, l, Options{LessonAuto: true})
			if err := e.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			for _, r := range e.LessonResults() {
				if r.Error != "" {
					t.Errorf("step %d did not start: %s", r.Index+1, r.Error)
				}
			}
		})
	}
	fails := []struct{ steps, want string }{
		{"[[step]]\ncaption = \"a\"\ndo = { n = 4, test_frac = 0.9 }\nuntil = { steps = 2 }\n", "step 1: "},
		{"[[step]]\ncaption = \"a\"\nuntil = { steps = 2 }\n[[step]]\ncaption = \"b\"\ndo = { hidden = [8] }\nuntil = { steps = 2 }\n[[step]]\ncaption = \"c\"\ndo = { batch = 5000 }\nuntil = { steps = 2 }\n", "step 3: "},
	}
	for _, c := range fails {
		_, err := EstimateLesson(context.Background(), lessonOf(c.steps), 20*time.Millisecond)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("the estimate says %v, want an error beginning %q", err, c.want)
		}
	}
}
