package lab

import (
	"context"
	"strings"
	"sync"
	"testing"

	"sharpflat/lab/train"
)

// A command that cuts a round short (here a pause, during the refresh of one arm while the
// others have stepped) never shows or leaves the race out of step: the engine finishes the
// round first, so the paused race has every arm at the same step. Arms 0 and 1 refresh only
// on request (their step cannot be cut), arm 2 every step, and its refresh waits, at its
// first product, for the pause to be queued.
func TestRaceCutRoundIsFinished(t *testing.T) {
	e, err := New(small(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.startRace(DefaultRace) // before Run: the test is the engine's goroutine
	for _, a := range e.arms[:2] {
		c := a.t.Config()
		c.RefreshEvery = 0
		if err := a.t.Apply(c); err != nil {
			t.Fatal(err)
		}
	}
	inRefresh, proceed := make(chan struct{}), make(chan struct{})
	var once sync.Once
	e.arms[2].t.SetInterrupt(func() bool {
		once.Do(func() {
			close(inRefresh)
			<-proceed
		})
		return e.stopRefresh()
	})
	sub := e.Subscribe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	<-inRefresh
	e.Pause() // sets the interrupt: arm 2's refresh stops at its next product
	close(proceed)
	s := await(t, sub, "the pause applied", func(s Snapshot) bool { return s.Run == Paused && s.Seq >= e.Seq() })
	var steps []int
	for _, a := range s.Race.Arms {
		steps = append(steps, a.State.Step)
	}
	if steps[0] != 1 || steps[1] != 1 || steps[2] != 1 {
		t.Fatalf("the paused race's arms are at steps %v, want 1, 1, 1 (the cut round finished)", steps)
	}
	cut := 0
	e.Do(func(*train.Trainer) { cut = e.interrupted })
	if cut == 0 {
		t.Error("arm 2's refresh was not interrupted: the test did not cut the round")
	}
}

// A race holds a trainer per arm: one that would not fit in the memory limit all together is
// refused with the estimate, and the lab goes on as it was (its race, if any, kept).
func TestRaceRefusedOverTheMemoryLimit(t *testing.T) {
	e, err := New(small(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	one := e.t.Footprint().Total()
	defer train.SetMemoryLimit(train.MemoryLimit())
	train.SetMemoryLimit(int64(3.5 * one)) // the lab and two arms fit; three arms and the lab do not
	e.startRace(DefaultRace)
	if e.race != nil {
		t.Fatal("a race of 3 arms above the memory limit was started")
	}
	last := e.events[len(e.events)-1]
	if last.Kind != train.EventError || !strings.Contains(last.Text, "a race of 3 arms") {
		t.Errorf("the refusal: %v %q", last.Kind, last.Text)
	}
	e.startRace(DefaultRace[:2])
	if e.race == nil {
		t.Errorf("a race of two arms within the limit was refused: %q", e.events[len(e.events)-1].Text)
	}
}
