package lab

import (
	"strings"
	"testing"

	"sharpflat/lab/train"
)

func TestParseRace(t *testing.T) {
	good := []struct {
		in   string
		want []ArmSpec
		text string
	}{
		{"dom,sgd,bulk", DefaultRace, "dom,sgd,bulk"},
		{" Bulk , alpha=0.25 ", []ArmSpec{{Rule: "bulk"}, {Rule: "alpha=0.25"}}, "bulk,alpha=0.25"},
		{"w=2/0.5,sgd:lr*2", []ArmSpec{{Rule: "w=2/0.5"}, {Rule: "sgd", LRScale: 2}}, "w=2/0.5,sgd:lr*2"},
		{"bulk:k=20:m=0.9,sgd", []ArmSpec{{Rule: "bulk", K: 20, Momentum: 0.9, SetMomentum: true}, {Rule: "sgd"}}, "bulk:k=20:m=0.9,sgd"},
		{"dom:m=0,dom", []ArmSpec{{Rule: "dom", SetMomentum: true}, {Rule: "dom"}}, "dom:m=0,dom"},
	}
	for _, g := range good {
		got, err := ParseRace(g.in)
		if err != nil {
			t.Errorf("ParseRace(%q): %v", g.in, err)
			continue
		}
		if len(got) != len(g.want) {
			t.Errorf("ParseRace(%q) = %+v, want %+v", g.in, got, g.want)
			continue
		}
		for i := range got {
			if got[i] != g.want[i] {
				t.Errorf("ParseRace(%q)[%d] = %+v, want %+v", g.in, i, got[i], g.want[i])
			}
		}
		if s := FormatRace(got); s != g.text {
			t.Errorf("FormatRace(ParseRace(%q)) = %q, want %q", g.in, s, g.text)
		}
	}
	bad := []struct{ in, says string }{
		{"", "no arms"},
		{"dom,sgd,bulk,alpha=0.1,alpha=0.2,alpha=0.3,alpha=0.4", "7 arms: a race has 2 to 6"},
		{"bulk", "1 arm: a race has 2 to 6"},
		{"dom,sdg", `arm 2 ("sdg")`},
		{"dom,alpha=2", `arm 2 ("alpha=2")`},
		{"bulk,dom,bulk", `arm 3 ("bulk") is arm 1 again`},
		{"sgd:lr*0", "multiplier of η"},
		{"sgd:k=0", "whole number from 1"},
		{"sgd:m=1", "momentum β in [0, 0.999]"},
		{"sgd:x=1", "want lr*X, k=N or m=B"},
		{"sgd:k=2:k=3", "given twice"},
		{",dom", `arm 1 (""): no update rule`},
	}
	for _, b := range bad {
		_, err := ParseRace(b.in)
		if err == nil || !strings.Contains(err.Error(), b.says) {
			t.Errorf("ParseRace(%q): %v, want an error saying %q", b.in, err, b.says)
		}
	}
}

// armsAt waits until every arm of a race has made n steps from the fork and the race is
// paused.
func armsAt(t *testing.T, sub *Subscription, step int) Snapshot {
	t.Helper()
	return await(t, sub, "the race paused with its arms stepped", func(s Snapshot) bool {
		if s.Race == nil || s.Run == Running {
			return false
		}
		for _, a := range s.Race.Arms {
			if a.State.Step != step && a.Run != Diverged {
				return false
			}
		}
		return true
	})
}

// Arms fork from one state: their first step after the fork is on the same minibatch at the
// same θ (the reference: the lab's own trainer stepping on from the fork, whose minibatch
// loss is the same number), and each arm then trains with its own update.
func TestRaceForksFromOneState(t *testing.T) {
	c := small()
	ref, err := train.New(c)
	if err != nil {
		t.Fatal(err)
	}
	ref.SetExtraPair(true)
	var want train.Metrics
	for range 6 {
		if want, err = ref.Step(); err != nil {
			t.Fatal(err)
		}
	}
	e, sub := startPaused(t, c, Options{})
	e.StepN(5)
	await(t, sub, "5 steps", func(s Snapshot) bool { return s.Step == 5 && s.Run == Paused })
	e.Race(DefaultRace)
	e.StepN(3)
	s := armsAt(t, sub, 8)
	if s.Race.At != 5 || len(s.Race.Arms) != 3 || s.Race.Focus != 0 {
		t.Fatalf("race at %d with %d arms, focus %d", s.Race.At, len(s.Race.Arms), s.Race.Focus)
	}
	names := []string{"Dom", "SGD", "Bulk"}
	weights := [][2]float64{{1, 0}, {1, 1}, {0, 1}}
	for i, a := range s.Race.Arms {
		if a.Name != names[i] || a.State.Config.WDom != weights[i][0] || a.State.Config.WBulk != weights[i][1] {
			t.Errorf("arm %d: %s with (%v, %v), want %s", i, a.Name, a.State.Config.WDom, a.State.Config.WBulk, names[i])
		}
		first := a.History.Loss.Points[5] // step 6: the first after the fork
		if first.Step != 6 || first.V != float64(want.Loss) {
			t.Errorf("arm %s: minibatch loss %v at step %d, the lab's own step 6 %v", a.Name, first.V, first.Step, want.Loss)
		}
		if n := len(a.History.Marks); n == 0 || a.History.Marks[n-1].Label != names[i] || a.History.Marks[n-1].Step != 5 {
			t.Errorf("arm %s: marks %+v, want its update marked at the fork", a.Name, a.History.Marks)
		}
	}
	if s.State.Step != 8 || s.State.Config.WBulk != 0 {
		t.Errorf("the snapshot's own state is not the focused arm (Dom): step %d, w_bulk %v", s.State.Step, s.State.Config.WBulk)
	}
	if l := s.Race.Arms[0].History.Loss.Points; l[len(l)-1].V == s.Race.Arms[2].History.Loss.Points[7].V {
		t.Error("Dom and Bulk arms trained alike")
	}
}

// Settings act on the focused arm, or on all; an arm that diverges stops alone, marked ✗,
// while the others go on; ending the race keeps the focused arm as the lab's run.
func TestRaceSteeringAndDivergence(t *testing.T) {
	rec := &memRecorder{}
	e, sub := startPaused(t, small(), Options{Recorder: rec})
	e.StepN(3)
	await(t, sub, "3 steps", func(s Snapshot) bool { return s.Step == 3 && s.Run == Paused })
	lr := cfgOf(e).LR
	e.Race(DefaultRace)
	e.FocusArm(1)
	e.SetLR(500) // the SGD arm only: far above 2/λ₁
	seq := e.Seq()
	s := await(t, sub, "η set", func(s Snapshot) bool { return s.Seq >= seq })
	if s.Race.Focus != 1 || s.Race.Arms[1].State.Config.LR != 500 || s.Race.Arms[0].State.Config.LR != lr || s.Race.Arms[2].State.Config.LR != lr {
		t.Fatalf("η of the arms %v %v %v (focus %d), want only arm 1 at 500", s.Race.Arms[0].State.Config.LR,
			s.Race.Arms[1].State.Config.LR, s.Race.Arms[2].State.Config.LR, s.Race.Focus)
	}
	e.StepN(12)
	s = armsAt(t, sub, 15)
	if s.Run == Diverged {
		t.Fatal("the race stopped with one arm diverged")
	}
	sgd := s.Race.Arms[1]
	if sgd.Run != Diverged || sgd.State.Diverged == nil || sgd.State.Step >= 15 {
		t.Fatalf("the SGD arm at η = 500: %v at step %d; losses %+v", sgd.Run, sgd.State.Step, sgd.History.Loss.Points)
	}
	if m := sgd.History.Marks; len(m) == 0 || m[len(m)-1].Label != "✗" {
		t.Errorf("the diverged arm's marks: %+v", m)
	}
	for _, i := range []int{0, 2} {
		a := s.Race.Arms[i]
		if a.Run == Diverged || a.State.Step != 15 {
			t.Errorf("arm %s: %v at step %d, want 15", a.Name, a.Run, a.State.Step)
		}
		for _, m := range a.History.Marks {
			if m.Kind == MarkDivergence {
				t.Errorf("arm %s carries the other arm's ✗", a.Name)
			}
		}
	}
	e.ActOnAll(true)
	e.SetLR(0.05)
	seq = e.Seq()
	s = await(t, sub, "η set on all", func(s Snapshot) bool { return s.Seq >= seq })
	for _, a := range s.Race.Arms {
		if a.State.Config.LR != 0.05 {
			t.Errorf("arm %s: η %v after setting all to 0.05", a.Name, a.State.Config.LR)
		}
	}
	e.FocusArm(2)
	e.EndRace()
	s = await(t, sub, "the race ended", func(s Snapshot) bool { return s.Race == nil && s.Seq >= e.Seq() })
	if s.State.Step != 15 || s.State.Config.WDom != 0 || s.State.Config.WBulk != 1 {
		t.Fatalf("after the race: step %d, (%v, %v); want the Bulk arm at 15", s.State.Step, s.State.Config.WDom, s.State.Config.WBulk)
	}
	var steps []int
	e.Do(func(*train.Trainer) {
		for _, m := range rec.steps {
			steps = append(steps, m.Step)
			if m.Step > 3 && (m.WDom != 0 || m.WBulk != 1) {
				t.Errorf("recorded step %d trained with (%v, %v), not the kept Bulk arm", m.Step, m.WDom, m.WBulk)
			}
		}
	})
	if len(steps) != 15 || steps[14] != 15 {
		t.Errorf("the lab's run recorded steps %v, want 1…15", steps)
	}
	e.StepN(2)
	await(t, sub, "2 more steps", func(s Snapshot) bool { return s.Step == 17 && s.Run == Paused })
}

// Rolling back an arm rolls back that arm only, with its own mark.
func TestRaceRollbackIsPerArm(t *testing.T) {
	c := small()
	c.KeepEvery = 2
	e, sub := startPaused(t, c, Options{})
	e.StepN(4)
	await(t, sub, "4 steps", func(s Snapshot) bool { return s.Step == 4 && s.Run == Paused })
	e.Race(DefaultRace)
	e.StepN(4)
	armsAt(t, sub, 8)
	e.FocusArm(2)
	e.Rollback()
	seq := e.Seq()
	s := await(t, sub, "the rollback", func(s Snapshot) bool { return s.Seq >= seq })
	if s.Race.Arms[2].State.Step >= 8 || s.Race.Arms[0].State.Step != 8 || s.Race.Arms[1].State.Step != 8 {
		t.Fatalf("after rolling back the Bulk arm: steps %d %d %d", s.Race.Arms[0].State.Step, s.Race.Arms[1].State.Step, s.Race.Arms[2].State.Step)
	}
	back := 0
	for i, a := range s.Race.Arms {
		for _, m := range a.History.Marks {
			if m.Kind == MarkRollback {
				back++
				if i != 2 || !strings.HasPrefix(m.Label, "↶ 8") {
					t.Errorf("arm %s has the rollback mark %+v", a.Name, m)
				}
			}
		}
	}
	if back != 1 {
		t.Errorf("%d rollback marks, want 1 on the Bulk arm", back)
	}
}

// Seq numbers every command; a snapshot echoes the latest applied, never one still queued.
func TestSeqEchoesTheLatestApplied(t *testing.T) {
	e, sub := startPaused(t, small(), Options{})
	first := e.Seq()
	e.SetLR(0.07)
	n := e.Seq()
	if n <= first {
		t.Fatalf("Seq %d after a command, %d before", n, first)
	}
	s := await(t, sub, "the command applied", func(s Snapshot) bool { return s.Seq >= n })
	if s.Config.LR != 0.07 {
		t.Errorf("snapshot Seq %d ≥ %d but η %v", s.Seq, n, s.Config.LR)
	}
	e.SetLR(0.08)
	e.SetK(3)
	e.SetLR(0.09) // coalesces with the 0.08 in its place, with a newer number
	n = e.Seq()
	s = await(t, sub, "the commands applied", func(s Snapshot) bool { return s.Seq >= n })
	if s.Config.LR != 0.09 || s.Config.K != 3 {
		t.Errorf("snapshot Seq %d: η %v, k %d; want 0.09 and 3", s.Seq, s.Config.LR, s.Config.K)
	}
}

// A round whose step of one arm was interrupted (a command came during its refresh) leaves
// the race out of step; the next round steps only that arm, and the race goes on in lockstep
// with the metrics of a race never interrupted (the reference: the same race stepped
// without interruption).
func TestRaceInterruptedArmCatchesUp(t *testing.T) {
	run := func(interrupt bool) [][]train.Metrics {
		e, err := New(small(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		e.startRace(DefaultRace) // no Run goroutine: the test is the engine's goroutine
		if e.race == nil {
			t.Fatal("no race")
		}
		if interrupt {
			e.arms[1].t.SetInterrupt(func() bool { return true })
			complete, stepped, err := e.round()
			if err != nil || complete || stepped != nil || !e.arms[1].owed || !e.owing() {
				t.Fatalf("the interrupted round: complete %v, stepped %v, err %v", complete, stepped, err)
			}
			e.arms[1].t.SetInterrupt(nil)
			before := [3]int{e.arms[0].t.StepCount(), e.arms[1].t.StepCount(), e.arms[2].t.StepCount()}
			complete, stepped, err = e.round()
			// The round is whole: every arm's step of it, though arms 0 and 2 took theirs in
			// the first try and only arm 1 stepped now.
			if err != nil || !complete || stepped[0] == nil || stepped[1] == nil || stepped[2] == nil || e.owing() {
				t.Fatalf("the catching-up round: complete %v, stepped %v, err %v", complete, stepped, err)
			}
			if after := [3]int{e.arms[0].t.StepCount(), e.arms[1].t.StepCount(), e.arms[2].t.StepCount()}; after != [3]int{before[0], before[1] + 1, before[2]} {
				t.Fatalf("catching up stepped %v → %v, want only arm 1", before, after)
			}
		}
		for e.arms[0].t.StepCount() < 3 {
			if complete, _, err := e.round(); err != nil || !complete {
				t.Fatalf("round: %v %v", complete, err)
			}
		}
		out := make([][]train.Metrics, len(e.arms))
		for i, a := range e.arms {
			if a.t.StepCount() != 3 {
				t.Fatalf("arm %d at step %d, want 3", i, a.t.StepCount())
			}
			for _, x := range a.log {
				if x.m != nil {
					out[i] = append(out[i], *x.m)
				}
			}
		}
		return out
	}
	want, got := run(false), run(true)
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("arm %d: %d steps, want %d", i, len(got[i]), len(want[i]))
		}
		for j := range want[i] {
			if g, w := deterministicJSON(t, got[i][j]), deterministicJSON(t, want[i][j]); g != w {
				t.Fatalf("arm %d step %d:\n got  %s\n want %s", i, j+1, g, w)
			}
		}
	}
}
