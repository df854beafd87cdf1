package lab_test

import (
	"context"
	"testing"

	"sharpflat/lab"
	"sharpflat/lab/train"
)

// Options.Race starts the race once RaceAt steps are done (the command line's --race and
// --race-at, which y shares): the arms fork at that step and go on together.
func TestRaceAtStep(t *testing.T) {
	c, _ := train.Preset("demo")
	c.N, c.HessianSet, c.K, c.EvalEvery, c.EnergyEvery = 300, 100, 4, 5, 0
	specs, err := lab.ParseRace("dom,bulk")
	if err != nil {
		t.Fatal(err)
	}
	e, err := lab.New(c, lab.Options{StartPaused: true, Race: specs, RaceAt: 3})
	if err != nil {
		t.Fatal(err)
	}
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
	e.StepN(3)
	s := waitFor(t, sub, "the race at step 3", func(s lab.Snapshot) bool { return s.Race != nil && s.Run == lab.Paused })
	if s.Race.At != 3 || len(s.Race.Arms) != 2 {
		t.Fatalf("race at step %d with %d arms, want step 3 and 2 arms", s.Race.At, len(s.Race.Arms))
	}
	if s.Race.Base.Fingerprint() != c.Fingerprint() {
		t.Errorf("the race's base settings are not those in force at the fork: %v", train.ConfigDiff(&c, &s.Race.Base))
	}
	e.StepN(2)
	s = waitFor(t, sub, "two rounds", func(s lab.Snapshot) bool {
		return s.Race != nil && s.Run == lab.Paused && s.Race.Arms[0].State.Step == 5
	})
	for i, a := range s.Race.Arms {
		if a.State.Step != 5 || a.Spec.String() != specs[i].String() {
			t.Errorf("arm %d: %s at step %d, want %s at step 5", i, a.Spec, a.State.Step, specs[i])
		}
	}
}
