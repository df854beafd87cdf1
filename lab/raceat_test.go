package lab

import (
	"testing"

	"sharpflat/lab/train"
)

// Options.Race starts the race once RaceAt steps are done (the command line's --race and
// --race-at, which y shares): the arms fork at that step, from the settings then in force
// (RaceView.Base), and go on together.
func TestRaceAtStep(t *testing.T) {
	c := small()
	c.EnergyEvery = 0
	specs, err := ParseRace("dom,bulk")
	if err != nil {
		t.Fatal(err)
	}
	e, sub := startPaused(t, c, Options{Race: specs, RaceAt: 3})
	e.StepN(3)
	s := await(t, sub, "the race at step 3", func(s Snapshot) bool { return s.Race != nil && s.Run == Paused })
	if s.Race.At != 3 || len(s.Race.Arms) != 2 {
		t.Fatalf("race at step %d with %d arms, want step 3 and 2 arms", s.Race.At, len(s.Race.Arms))
	}
	if s.Race.Base.Fingerprint() != c.Fingerprint() {
		t.Errorf("the race's base settings are not those in force at the fork: %v", train.ConfigDiff(&c, &s.Race.Base))
	}
	e.StepN(2)
	s = await(t, sub, "two rounds", func(s Snapshot) bool {
		return s.Race != nil && s.Run == Paused && s.Race.Arms[0].State.Step == 5
	})
	for i, a := range s.Race.Arms {
		if a.State.Step != 5 || a.Spec.String() != specs[i].String() {
			t.Errorf("arm %d: %s at step %d, want %s at step 5", i, a.Spec, a.State.Step, specs[i])
		}
	}
}
