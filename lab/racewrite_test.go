package lab_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"sharpflat/lab"
	"sharpflat/lab/rundir"
	"sharpflat/lab/train"
	"sharpflat/nn"
	"sharpflat/tui"
)

// waitFor reads snapshots until cond holds (the package's hang guard: a minute).
func waitFor(t *testing.T, sub *lab.Subscription, what string, cond func(s lab.Snapshot) bool) lab.Snapshot {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case s, ok := <-sub.C():
			if !ok {
				t.Fatalf("the engine stopped while waiting for %s", what)
			}
			if cond(s) {
				return s
			}
		case <-timeout:
			t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// A written race is one run directory per arm: the lab's steps up to the fork then the arm's
// (the reference: the arm's own metrics as the snapshot shows them, and the lab's steps
// before the race), which --compare reads, whose weights load, and which --resume continues.
func TestSaveRaceRoundTrip(t *testing.T) {
	c, _ := train.Preset("demo")
	c.N, c.HessianSet, c.K, c.EvalEvery, c.EnergyEvery, c.HutchSamples = 300, 100, 4, 5, 3, 4
	e, err := lab.NewSpooled(c, lab.Options{StartPaused: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.RemoveSpool()
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
	e.StepN(4)
	waitFor(t, sub, "4 steps", func(s lab.Snapshot) bool { return s.Step == 4 && s.Run == lab.Paused })
	specs, err := lab.ParseRace("dom,bulk:lr*2")
	if err != nil {
		t.Fatal(err)
	}
	e.Race(specs)
	e.StepN(3)
	s := waitFor(t, sub, "the race's steps", func(s lab.Snapshot) bool {
		return s.Race != nil && s.Run == lab.Paused && s.Race.Arms[0].State.Step == 7 && s.Race.Arms[1].State.Step == 7
	})
	dir := filepath.Join(t.TempDir(), "runs", "race1")
	if err := e.SaveRun(dir); err != nil { // the lab's w: in a race, every arm
		t.Fatal(err)
	}
	if err := e.SaveRace(dir); err == nil {
		t.Error("a race written twice into one directory was not refused")
	}
	var dirs []string
	for i, a := range s.Race.Arms {
		d := filepath.Join(dir, lab.ArmDir(a.Spec))
		dirs = append(dirs, d)
		ms, err := rundir.ReadMetrics(d)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 7 {
			t.Fatalf("arm %s: %d steps written, want 7", a.Name, len(ms))
		}
		for j, m := range ms {
			if m.Step != j+1 {
				t.Fatalf("arm %s: line %d is step %d", a.Name, j+1, m.Step)
			}
			if p := a.History.Loss.Points[j]; p.V != float64(m.Loss) {
				t.Errorf("arm %s, step %d: loss %v written, %v shown", a.Name, m.Step, m.Loss, p.V)
			}
		}
		if ms[3].WDom != 1 || ms[3].WBulk != 1 || ms[6].LR != a.State.Config.LR {
			t.Errorf("arm %s: step 4 trained with (%v, %v) (the lab's SGD before the fork), step 7 with η %v (arm's %v)",
				a.Name, ms[3].WDom, ms[3].WBulk, ms[6].LR, a.State.Config.LR)
		}
		cfg, err := rundir.ReadConfig(d)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(a.State.Config)
		if got, _ := json.Marshal(cfg); string(got) != string(want) {
			t.Errorf("arm %d config.json\n %s\nwant the arm's\n %s", i, got, want)
		}
		if _, _, err := nn.LoadMLP(filepath.Join(d, "weights.safetensors"), c.Act, c.Loss); err != nil {
			t.Errorf("arm %s weights: %v", a.Name, err)
		}
	}
	warns, err := tui.CheckCompare(dirs)
	if err != nil || len(warns) > 0 {
		t.Fatalf("--compare of the written race: %v %v", err, warns)
	}
	if err := lab.Resume(context.Background(), dirs[1], lab.ResumeOptions{Steps: 9}); err != nil {
		t.Fatalf("--resume of an arm: %v", err)
	}
	ms, err := rundir.ReadMetrics(dirs[1])
	if err != nil || len(ms) != 9 || ms[8].WDom != 0 || ms[8].LR != s.Race.Arms[1].State.Config.LR {
		t.Fatalf("after resuming the Bulk arm: %d steps, %v", len(ms), err)
	}
	if err := lab.Resume(context.Background(), dirs[0], lab.ResumeOptions{}); !errors.Is(err, lab.ErrNothingToDo) {
		t.Errorf("resuming an arm without more steps: %v, want ErrNothingToDo", err)
	}
}
