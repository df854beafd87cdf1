package lab

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"sharpflat/lab/rundir"
)

// A lesson's race ended (the focused arm replayed into the spool) and then stepped back into:
// w writes every arm with the lab's past up to the fork only, then the arm's own steps, so
// each arm's steps follow one another; the lab's own events during the race (the pause) are
// in every arm's events. The pause is made from the engine's goroutine two steps into the
// replayed race step (LessonProgress): a pause sent from the test after stepping back could
// arrive after the step's ten steps were done, when the engine had stopped by itself and
// logged no pause (it did, about one run in twenty).
func TestSaveRaceAfterStepBackIntoRace(t *testing.T) {
	l := raceLesson()
	c, err := LessonConfig(l)
	if err != nil {
		t.Fatal(err)
	}
	var armed atomic.Bool // pause two steps into the race step, once, when set
	var e *Engine
	e, err = NewSpooled(c, Options{Lesson: l, LessonProgress: func(p LessonProgress) {
		if p.Index == 1 && p.Trained >= 2 && armed.CompareAndSwap(true, false) {
			e.Pause()
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.RemoveSpool()
	sub := e.Subscribe()
	ctx, cancel := context.WithCancel(context.Background())
	go e.Run(ctx)
	defer func() { cancel(); <-e.Done() }()
	for i := 0; i < 3; i++ {
		await(t, sub, "the step done", func(s Snapshot) bool { return s.Lesson.Index == i && s.Lesson.Done })
		e.LessonNext()
	}
	await(t, sub, "the last step done", func(s Snapshot) bool { return s.Lesson.Index == 3 && s.Lesson.Done && s.Race == nil })
	e.LessonBack()
	await(t, sub, "back one step", func(s Snapshot) bool { return s.Lesson.Index == 2 })
	armed.Store(true)
	e.LessonBack() // to the step that began in the race
	await(t, sub, "paused in the race", func(s Snapshot) bool {
		return s.Lesson.Index == 1 && s.Race != nil && !armed.Load() && s.Run != Running && s.Seq >= e.Seq()
	})
	dir := filepath.Join(t.TempDir(), "race")
	if err := e.SaveRace(dir); err != nil {
		t.Fatal(err)
	}
	for _, arm := range []string{"dom", "bulk_lrx2"} {
		ms, err := rundir.ReadMetrics(filepath.Join(dir, arm))
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(ms); i++ {
			if ms[i].Step != ms[i-1].Step+1 {
				t.Fatalf("%s: step %d follows step %d (line %d)", arm, ms[i].Step, ms[i-1].Step, i+1)
			}
		}
		evs, err := os.ReadFile(filepath.Join(dir, arm, "events.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(evs), "paused at step") {
			t.Errorf("%s: the pause during the race is not in its events:\n%s", arm, evs)
		}
	}
}

// An arm that diverged is written without a resume checkpoint: there is no state to go on
// from, and --resume says so instead of training past the divergence.
func TestSaveRaceDivergedArmHasNoResume(t *testing.T) {
	e, err := NewSpooled(small(), Options{StartPaused: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.RemoveSpool()
	sub := e.Subscribe()
	ctx, cancel := context.WithCancel(context.Background())
	go e.Run(ctx)
	defer func() { cancel(); <-e.Done() }()
	e.Race(DefaultRace)
	await(t, sub, "the race", func(s Snapshot) bool { return s.Race != nil && s.Seq >= e.Seq() })
	e.FocusArm(1)
	e.SetLR(500) // the SGD arm only: far above 2/λ₁
	e.StepN(8)
	await(t, sub, "the SGD arm diverged", func(s Snapshot) bool {
		return s.Race != nil && s.Race.Arms[1].Run == Diverged && s.Run == Paused
	})
	dir := filepath.Join(t.TempDir(), "race")
	if err := e.SaveRace(dir); err != nil {
		t.Fatal(err)
	}
	err = Resume(context.Background(), filepath.Join(dir, "sgd"), ResumeOptions{Steps: 20})
	if err == nil {
		t.Fatal("the diverged arm resumed")
	}
	t.Logf("resume of the diverged arm: %v", err)
	if errors.Is(err, ErrNothingToDo) {
		t.Errorf("resume: %v, want it refused for want of a checkpoint", err)
	}
	if err := Resume(context.Background(), filepath.Join(dir, "dom"), ResumeOptions{Steps: 10}); err != nil {
		t.Errorf("the live arm does not resume: %v", err)
	}
}
