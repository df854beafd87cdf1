package lab

// A race: arms forked from one state train in lockstep, one round at a time, each arm one
// step per round, in parallel through train.Round. An arm is forked exactly as an experiment
// arm starts from its warm-up's checkpoint (Save → Restore, Apply the arm's settings, Refresh
// at the fork), so all arms draw the same minibatches and a race from a checkpoint is an
// `experiment switch` group's arms, bit for bit (raceidentity_test.go). A normal lab is a
// race of one arm without a RaceView.

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"sharpflat/lab/train"
	"sharpflat/linalg"
)

// arm is one run the engine trains. Owned by the Run goroutine (its trainer also by its
// goroutine of a round).
type arm struct {
	spec    ArmSpec
	name    string
	t       *train.Trainer
	history *History
	// owed: the arm's step of the last round was interrupted while other arms stepped; the
	// next round steps the arms that owe one, so that the race stays in lockstep.
	owed bool
	// forked: the refresh at the fork is still to be taken (it was interrupted).
	forked bool
	// recompute: a paused race's arm asked to recompute its basis (Recompute).
	recompute bool
	// log is what the arm recorded since the fork, in order: the lab's run when the race
	// ends with this arm, or its run directory when the race is written (WriteRace).
	log []logEntry
}

// logEntry is a step's metrics or an event.
type logEntry struct {
	m  *train.Metrics
	ev *train.Event
}

// raceState is the race in progress.
type raceState struct {
	all bool // commands act on every arm
	at  int  // the step the race forked at
	// specs of the arms, as asked.
	specs []ArmSpec
	base  train.Config // the settings in force at the fork (RaceView.Base)
	// spoolSteps and spoolEvents are what the lab's spool held at the fork: the run every
	// arm shares (a race ended and stepped back into in a lesson has added to it since).
	spoolSteps, spoolEvents int
}

// Race forks arms from the current state (the focused arm's, if a race is on, which then
// ends): each gets its own copy of θ, the optimizer state, the eigenbasis and the minibatch
// position, then its spec's settings and a refresh of its basis at the fork. The race starts
// paused if the lab is paused. An invalid race is refused with an error event.
func (e *Engine) Race(specs []ArmSpec) {
	specs = append([]ArmSpec(nil), specs...)
	e.interrupting("race", func() { e.startRace(specs) })
}

func (e *Engine) startRace(specs []ArmSpec) {
	if err := checkRace(specs); err != nil {
		e.log(train.EventError, "race: "+err.Error())
		return
	}
	base := e.t // the focused arm's, in a race (which then ends, keeping it)
	if base.Diverged() != nil {
		e.log(train.EventError, "race: training has diverged; roll back first")
		return
	}
	// Every arm holds a trainer of its own, and the base stays until they are built.
	if err := base.Footprint().Times(len(specs)+1).Check(fmt.Sprintf("a race of %d arms", len(specs)), train.MemoryLimit()); err != nil {
		e.log(train.EventError, "race: "+err.Error())
		return
	}
	if e.race != nil {
		e.endRace()
	}
	base = e.t
	cp, kept := base.Save(train.WhyRace), base.Kept()
	// Each arm builds its data and network anew (train.Restore): on MNIST a third of a
	// second each, so the arms are built in parallel.
	ts, errs := make([]*train.Trainer, len(specs)), make([]error, len(specs))
	train.Parallel(indices(len(specs)), func(i int) {
		t, err := e.restoreTrainer(cp, kept)
		if err == nil {
			c := t.Config()
			if err = specs[i].apply(&c, t.Model().NumParams()); err == nil {
				err = t.Apply(c)
			}
		}
		ts[i], errs[i] = t, err
	})
	arms := make([]*arm, 0, len(specs))
	for i, s := range specs {
		if errs[i] != nil {
			e.log(train.EventError, fmt.Sprintf("race: arm %s: %v", s, errs[i]))
			return
		}
		t := ts[i]
		a := &arm{spec: s, name: s.name(), t: t, history: e.history.Copy(), forked: true}
		c := t.Config()
		a.history.AddMark(Mark{Step: t.StepCount(), Kind: MarkUpdate, Label: c.Rule().Label()})
		e.armInterrupt(a)
		arms = append(arms, a)
	}
	if err := e.forward(); err != nil { // the base's events so far stay the lab's
		e.log(train.EventError, err.Error())
	}
	e.log(train.EventCommand, fmt.Sprintf("race of %s from step %d", FormatRace(specs), base.StepCount()))
	rs := &raceState{at: base.StepCount(), specs: specs, base: base.Config()}
	if e.spool != nil {
		rs.spoolSteps, rs.spoolEvents = e.spool.Steps(), e.spool.EventCount()
	}
	e.arms, e.roundSteps, e.race = arms, nil, rs
	e.setFocus(0)
	e.forkRefresh()
	if e.state == Diverged {
		e.state = Paused
	}
}

// checkRace refuses a race of fewer than 2 arms (nothing to compare), too many, or an arm
// twice.
func checkRace(specs []ArmSpec) error {
	if len(specs) < 2 || len(specs) > MaxArms {
		return fmt.Errorf("%d arms: a race has 2 to %d", len(specs), MaxArms)
	}
	for i, s := range specs {
		if _, err := train.ParseRule(s.Rule); err != nil {
			return fmt.Errorf("arm %d: %w", i+1, err)
		}
		for j := range i {
			if specs[j].String() == s.String() {
				return fmt.Errorf("arm %d (%s) is arm %d again", i+1, s, j+1)
			}
		}
	}
	return nil
}

// forkRefresh takes the refresh at the fork of every arm still owing it. One interrupted
// (by a command) has changed nothing and is taken again before the next round, or once the
// queue is empty when paused (refreshOwed).
func (e *Engine) forkRefresh() (canceled bool) {
	var idx []int
	for i, a := range e.arms {
		if a.forked {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return false
	}
	errs := make([]error, len(e.arms))
	train.Parallel(idx, func(i int) { errs[i] = e.arms[i].t.Refresh() })
	for _, i := range idx {
		a, err := e.arms[i], errs[i]
		switch {
		case errors.Is(err, linalg.ErrCanceled):
			canceled = true // nothing changed: taken again
			continue
		case err != nil:
			a.t.TakeEvents() // as an experiment arm: the error alone is logged
			e.keepArmEvent(a, train.Event{Step: a.t.StepCount(), Time: time.Now(), Kind: train.EventError, Text: err.Error()})
		}
		a.forked = false
	}
	if canceled {
		e.interrupted++
		e.refreshOwed = true
	}
	if err := e.forward(); err != nil {
		e.log(train.EventError, err.Error())
	}
	return canceled
}

// indices is 0, 1, …, n−1.
func indices(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// EndRace ends the race, keeping the focused arm as the lab's run (its steps since the fork
// go to the Recorder); the other arms are dropped.
func (e *Engine) EndRace() {
	e.interrupting("race", func() {
		if e.race != nil {
			e.endRace()
		}
	})
}

func (e *Engine) endRace() {
	a := e.arms[e.focus]
	e.install(a.t, a.history)
	a.t.SetInterrupt(e.beforeProduct)
	if a.forked { // its refresh at the fork was interrupted: the next step takes it
		a.t.RequestRefresh()
	}
	if e.opts.Recorder != nil {
		for _, x := range a.log {
			var err error
			if x.m != nil {
				err = e.opts.Recorder.Record(x.m)
			} else {
				err = e.opts.Recorder.Event(*x.ev)
			}
			if err != nil {
				e.log(train.EventError, "keeping the race's arm: "+err.Error())
				break
			}
		}
	}
	if e.state == Diverged && a.t.Diverged() == nil {
		e.state = Paused
	}
	if a.t.Diverged() != nil {
		e.state, e.stepBudget = Diverged, -1
	}
	e.log(train.EventCommand, fmt.Sprintf("race ended at step %d: the lab goes on with %s", a.t.StepCount(), a.name))
}

// FocusArm moves the focus (the arm the keys act on, drawn as the lab's run) to arm i.
func (e *Engine) FocusArm(i int) {
	e.enqueue("focus", func() {
		if e.race != nil && i >= 0 && i < len(e.arms) {
			e.setFocus(i)
		}
	})
}

// ActOnAll makes the setting commands act on every arm (on) or on the focused arm only.
func (e *Engine) ActOnAll(on bool) {
	e.enqueue("all", func() {
		if e.race != nil {
			e.race.all = on
		}
	})
}

func (e *Engine) setFocus(i int) {
	if i != e.focus {
		e.cancelDensity(true) // the density shown is the focused arm's
	}
	e.focus = i
	e.t, e.history = e.arms[i].t, e.arms[i].history
}

// targets are the arms a setting command acts on: the focused one, or all (ActOnAll).
func (e *Engine) targets() []*arm {
	if e.race != nil && e.race.all {
		return e.arms
	}
	return e.arms[e.focus : e.focus+1]
}

// round steps the arms once (train.Round: in parallel when racing) and records each step in
// arm order. It reports whether the round is complete: every live arm stepped (none owes a
// step after an interruption).
func (e *Engine) round() (complete bool, stepped []*train.Metrics, err error) {
	if e.race != nil && e.forkRefresh() {
		return false, nil, nil
	}
	owing := e.owing()
	ts := make([]*train.Trainer, len(e.arms))
	for i, a := range e.arms {
		ts[i] = a.t
	}
	res := train.Round(ts, func(i int) bool {
		a := e.arms[i]
		return a.t.Diverged() == nil && (!owing || a.owed)
	})
	if len(e.roundSteps) != len(e.arms) {
		e.roundSteps = make([]*train.Metrics, len(e.arms))
	}
	complete = true
	for i, r := range res {
		a := e.arms[i]
		if !r.Stepped {
			continue
		}
		if errors.Is(r.Err, linalg.ErrCanceled) {
			a.owed, complete = true, false
			continue
		}
		if r.Err != nil {
			return false, nil, fmt.Errorf("step %d: %w", a.t.StepCount()+1, r.Err)
		}
		a.owed, a.recompute = false, false
		m := r.Metrics
		e.roundSteps[i] = &m
		if err := e.recordStep(a, &m); err != nil {
			return false, nil, err
		}
	}
	if !complete {
		e.interrupted++
		if !slices.ContainsFunc(e.roundSteps, func(m *train.Metrics) bool { return m != nil }) {
			// No arm stepped: the round changed nothing and is simply taken again, after the
			// command that cut it (a new k restarts the refresh with it).
			for _, a := range e.arms {
				a.owed = false
			}
			e.roundSteps = nil
		}
		return false, nil, nil
	}
	stepped, e.roundSteps = e.roundSteps, nil // the round's steps, however many tries it took
	return true, stepped, nil
}

// owing reports whether a round was cut short: a live arm owes its step.
func (e *Engine) owing() bool {
	for _, a := range e.arms {
		if a.owed && a.t.Diverged() == nil {
			return true
		}
	}
	return false
}

// recordStep adds a step to its arm's history and records it (the lab's Recorder, or the
// arm's log in a race), then the arm's events; a divergence marks the arm ✗.
func (e *Engine) recordStep(a *arm, m *train.Metrics) error {
	a.history.Add(m)
	if e.race != nil {
		a.log = append(a.log, logEntry{m: m})
	} else if e.opts.Recorder != nil {
		if err := e.opts.Recorder.Record(m); err != nil {
			return fmt.Errorf("recording step %d: %w", m.Step, err)
		}
	}
	if e.race != nil {
		for _, ev := range a.t.TakeEvents() {
			e.keepArmEvent(a, ev)
		}
	} else if err := e.forward(); err != nil {
		return err
	}
	if a.t.Diverged() != nil {
		a.history.AddMark(Mark{Step: m.Step, Kind: MarkDivergence, Label: "✗"})
	}
	return nil
}

// keepArmEvent keeps an arm's event in its log and in the lab's, named by the arm.
func (e *Engine) keepArmEvent(a *arm, ev train.Event) {
	a.log = append(a.log, logEntry{ev: &ev})
	shown := ev
	shown.Text = a.name + ": " + ev.Text
	e.events = append(e.events, shown)
	if len(e.events) > maxEvents {
		e.events = append(e.events[:0], e.events[len(e.events)-maxEvents:]...)
	}
	e.version++
}

// allDiverged reports whether every arm has diverged.
func (e *Engine) allDiverged() bool {
	for _, a := range e.arms {
		if a.t.Diverged() == nil {
			return false
		}
	}
	return true
}

// raceView is the race part of a snapshot (nil without a race).
func (e *Engine) raceView() *RaceView {
	if e.race == nil {
		return nil
	}
	v := &RaceView{Focus: e.focus, All: e.race.all, At: e.race.at, Base: e.race.base}
	for _, a := range e.arms {
		run := e.state
		if a.t.Diverged() != nil {
			run = Diverged
		}
		var h *History
		if a != e.arms[e.focus] {
			h = a.history.Copy() // the focused arm's is the snapshot's own (snapshot)
		}
		v.Arms = append(v.Arms, ArmView{Spec: a.spec, Name: a.name, State: a.t.State(), Run: run, History: h})
	}
	return v
}

// raceSave is a race as a lesson step keeps it, to step back to.
type raceSave struct {
	race  raceState
	focus int
	arms  []armSave
}

// armSave is one arm of a raceSave.
type armSave struct {
	spec    ArmSpec
	cp      *train.Checkpoint
	kept    []*train.Checkpoint
	history *History
	log     []logEntry
	forked  bool
}

// keepRace saves the race in progress (nil: none).
func (e *Engine) keepRace() *raceSave {
	if e.race == nil {
		return nil
	}
	s := &raceSave{race: *e.race, focus: e.focus}
	s.race.specs = append([]ArmSpec(nil), e.race.specs...)
	for _, a := range e.arms {
		s.arms = append(s.arms, armSave{spec: a.spec, cp: a.t.Save(train.WhyLesson), kept: a.t.Kept(),
			history: a.history.Copy(), log: append([]logEntry(nil), a.log...), forked: a.forked})
	}
	return s
}

// restoreRace puts a saved race back in place of whatever runs now.
func (e *Engine) restoreRace(s *raceSave) error {
	arms := make([]*arm, 0, len(s.arms))
	for _, sa := range s.arms {
		t, err := e.restoreTrainer(sa.cp, sa.kept)
		if err != nil {
			return err
		}
		a := &arm{spec: sa.spec, name: sa.spec.name(), t: t, history: sa.history.Copy(),
			log: append([]logEntry(nil), sa.log...), forked: sa.forked}
		e.armInterrupt(a)
		arms = append(arms, a)
	}
	rs := s.race
	e.arms, e.roundSteps, e.race = arms, nil, &rs
	e.setFocus(s.focus)
	return nil
}

// armInterrupt sets an arm's interrupt hook for a race: its refresh stops for a command or
// the end of Run. It runs on the arm's goroutine during a round, so unlike beforeProduct it
// publishes nothing (a race's snapshots come between rounds).
func (e *Engine) armInterrupt(a *arm) {
	a.t.SetInterrupt(e.stopRefresh)
}
