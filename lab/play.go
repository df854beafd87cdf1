package lab

// Playing a lesson (sharpflat/lab/lesson) on the engine. A lesson step begins by applying its
// actions; then the engine keeps the state (for stepping back to it) and trains until the
// step's condition holds, where it pauses and waits for the user (or, with auto, goes on).
// Everything happens on the engine's goroutine, so every session of a classroom sees the same
// lesson in the same place.

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"sharpflat/internal/safetext"
	"sharpflat/lab/lesson"
	"sharpflat/lab/train"
)

// play is a lesson in progress. Owned by the Run goroutine.
type play struct {
	l      *lesson.Lesson
	i      int // the step shown
	tr     *lesson.Tracker
	begun  []*stepStart // per step, the state when it last began (nil: not yet)
	done   bool         // the step's condition has held (or given up): waiting to go on
	gaveUp bool
	over   bool // gone past the last step
	// fastForward: → was pressed while the step trained; it trains on to its condition, is
	// judged there, and the lesson goes on to the next step.
	fastForward bool
	results     []StepResult
	// freshErr says why the step's fresh start (preset, seed, setup) failed, "" if it did
	// not: the step then plays on the run in force, and its result says so.
	freshErr string
	perStep  time.Duration // the mean time of a training step lately (for the time left)
	lastStep time.Time     // when the last training step ended
}

// stepStart is what stepping back to a step restores.
type stepStart struct {
	cp      *train.Checkpoint
	kept    []*train.Checkpoint // the rollback targets then (a later step may roll back)
	history *History
	tracker *lesson.Tracker
	race    *raceSave // the race in progress then (nil: none)
	err     string    // why the step's fresh start failed then (play.freshErr)
}

// StepResult is how one lesson step ended: the claims of its caption as judged when its
// condition held.
type StepResult struct {
	Index   int // 0-based
	Title   string
	Trained int  // training steps the step took
	GaveUp  bool // its metric condition never held within max_steps
	Skipped bool // left before its condition held (→ twice): its claims are not judged
	// Error says why the step's fresh start (its preset, seed or setup) did not start: the
	// memory limit, a k or a batch too large for the new network or data. The step played
	// on the run in force, so its claims are not about what its caption says.
	Error  string
	Claims []Claim
}

// Claim is one claim of a step's caption and where it stands.
type Claim struct {
	Text    string // the claim in words
	Verdict lesson.Verdict
	Value   string // what was measured
}

// LessonView is the lesson's state for display.
type LessonView struct {
	Name, Title string
	Index       int // the step shown, 0-based
	Count       int
	StepTitle   string
	Next        string // the next step's title ("" after the last; "step N" when it has none)
	Caption     string
	Until       string  // the step's condition in words
	Trains      bool    // the step trains (otherwise it waits for the user from the start)
	Trained     int     // training steps since the step began
	Progress    float64 // of a step-count condition, in [0, 1]; NaN otherwise
	Done        bool    // the condition held: the lesson waits for space or →
	GaveUp      bool    // a metric condition did not hold within its max_steps
	Over        bool    // the lesson has ended
	// FastForward says the step trains on to its condition because → was pressed; it is
	// judged there and the lesson goes on (another → skips it without judging).
	FastForward bool
	// Left is the time the step's condition should take at the recent pace (0: unknown, or
	// not a step count).
	Left   time.Duration
	Claims []Claim
	// Error says why the step's fresh start (preset, seed, setup) did not start, "" if it
	// did (StepResult.Error): the step plays on the run in force.
	Error string
	// Show is the step's view of the spectrum panel (lesson.Step.Show: "density", "bars",
	// "neurons", "picture", or "" to leave it as it is).
	Show string
}

// LessonProgress is where a lesson played headless stands after a training step.
type LessonProgress struct {
	Index, Count int  // the step (0-based) of how many
	Trained      int  // training steps since the step began
	Target       int  // the step's until.steps, or for a metric condition its max_steps
	Metric       bool // the step waits for a metric: it may end before Target
}

// LessonConfig is the configuration a lesson starts from: its preset, with its seed.
func LessonConfig(l *lesson.Lesson) (train.Config, error) {
	c, err := train.Preset(l.Preset)
	if err != nil {
		return c, err
	}
	if l.Seed != 0 {
		c.Seed = l.Seed
	}
	return c, nil
}

// StartLesson restarts the engine on the lesson's configuration and shows its first step.
func (e *Engine) StartLesson(l *lesson.Lesson) {
	e.interrupting("reset", func() {
		c, err := LessonConfig(l)
		if err != nil {
			e.log(train.EventError, err.Error())
			return
		}
		if !e.restart(c) {
			return
		}
		e.play = newPlay(l)
		e.logLesson()
		e.beginStep(0)
	})
}

// logLesson says in the event log which lesson begins and how many steps it trains.
func (e *Engine) logLesson() {
	l := e.play.l
	fixed, upTo := LessonSteps(l)
	more := ""
	if upTo > 0 {
		more = fmt.Sprintf(", and up to %d more waiting for a metric", upTo)
	}
	e.log(train.EventCommand, fmt.Sprintf("lesson: %s · %d training steps%s", safetext.Line(l.Title), fixed, more))
}

// LessonNext goes on to the lesson's next step (after the last, the lesson ends). While the
// step shown trains toward its condition, it fast-forwards instead: the step trains on (even
// from a pause) to its condition, its claims are judged there, where the lesson's test judges
// them, and the lesson goes on. A claim judged earlier could show a ✗ that the test would not.
// LessonNext during a fast-forward skips the step: it goes on at once, its claims not judged.
func (e *Engine) LessonNext() {
	e.interrupting("", func() {
		p := e.play
		if p == nil || p.over {
			return
		}
		st := &p.l.Steps[p.i]
		trains := st.Until.Trains() && !st.Do.Pause
		switch {
		case p.done || !trains || e.state == Diverged:
			e.nextStep()
		case !p.fastForward:
			p.fastForward = true
			e.state, e.stepBudget = Running, -1
			e.log(train.EventCommand, fmt.Sprintf("lesson step %d/%d: on to its end (%s), then the next step", p.i+1, len(p.l.Steps), lesson.DescribeUntil(st.Until)))
		default:
			p.done = true
			p.results = append(p.results, e.skipped())
			e.log(train.EventCommand, fmt.Sprintf("lesson step %d/%d skipped after %d steps: its claims are not judged", p.i+1, len(p.l.Steps), p.tr.Steps()))
			e.nextStep()
		}
	})
}

// skipped is the result of a step left before its condition held: no claim judged.
func (e *Engine) skipped() StepResult {
	p := e.play
	st := &p.l.Steps[p.i]
	r := StepResult{Index: p.i, Title: st.Title, Trained: p.tr.Steps(), Skipped: true, Error: p.freshErr}
	for _, x := range st.Expect {
		r.Claims = append(r.Claims, Claim{Text: lesson.Describe(x), Verdict: lesson.Skipped, Value: "not judged (skipped)"})
	}
	return r
}

// LessonBack returns to the previous step's beginning (from the first step, or after the
// end, to the beginning of the step shown): the state kept when it began comes back, with
// its charts, and the step plays again.
func (e *Engine) LessonBack() {
	e.interrupting("", func() {
		p := e.play
		if p == nil {
			return
		}
		to := p.i
		if !p.over && p.i > 0 {
			to = p.i - 1
		}
		s := p.begun[to]
		e.cancelDensity(true) // of a θ the lesson steps back from
		if s.race != nil {
			if err := e.restoreRace(s.race); err != nil {
				e.log(train.EventError, "stepping back: "+err.Error())
				return
			}
		} else {
			t, err := e.restoreTrainer(s.cp, s.kept)
			if err != nil {
				e.log(train.EventError, "stepping back: "+err.Error())
				return
			}
			e.install(t, s.history.Copy())
		}
		p.tr = s.tracker.Clone()
		p.i, p.over, p.done, p.gaveUp, p.fastForward, p.freshErr = to, false, false, false, false, s.err
		if e.state == Diverged { // the state come back is one from before the divergence
			e.state = Paused
		}
		p.results = p.results[:min(len(p.results), to)]
		e.log(train.EventCommand, fmt.Sprintf("lesson step %d/%d again: %s", to+1, len(p.l.Steps), safetext.Line(p.l.Steps[to].Title)))
		e.runStep()
	})
}

// EndLesson leaves the lesson: the lab goes on as it is, without captions or conditions.
func (e *Engine) EndLesson() {
	e.enqueue("", func() { e.endLesson() })
}

func (e *Engine) endLesson() {
	if e.play != nil {
		e.log(train.EventCommand, "left the lesson: "+safetext.Line(e.play.l.Title))
		e.play = nil
	}
}

// LessonResults returns how each lesson step ended so far; only safe after Done (or inside
// Do).
func (e *Engine) LessonResults() []StepResult {
	if e.play == nil {
		return nil
	}
	return e.play.results
}

func newPlay(l *lesson.Lesson) *play {
	return &play{l: l, tr: lesson.NewTracker(), begun: make([]*stepStart, len(l.Steps))}
}

// nextStep leaves the step shown for the next one, or ends the lesson.
func (e *Engine) nextStep() {
	p := e.play
	if p.over {
		return
	}
	if !p.done {
		p.results = append(p.results, e.judge(true))
	}
	if p.i+1 >= len(p.l.Steps) {
		p.over, p.done = true, true
		e.state, e.stepBudget = Paused, -1
		e.log(train.EventCommand, "lesson over: "+safetext.Line(p.l.Title))
		return
	}
	e.beginStep(p.i + 1)
}

// beginStep applies step i's actions, keeps the state for stepping back, and starts it.
func (e *Engine) beginStep(i int) {
	p := e.play
	p.i, p.done, p.gaveUp, p.over, p.fastForward, p.freshErr = i, false, false, false, false, ""
	st := &p.l.Steps[i]
	e.log(train.EventCommand, fmt.Sprintf("lesson step %d/%d: %s", i+1, len(p.l.Steps), safetext.Line(st.Title)))
	e.act(&st.Do)
	p.tr.Begin()
	if len(st.Do.Race) > 0 && e.race != nil {
		var names []string
		for _, a := range e.arms {
			names = append(names, a.spec.String())
		}
		p.tr.StartRace(names)
	}
	p.tr.SetChiRandom(e.t.Config().K, e.t.Model().NumParams())
	p.begun[i] = &stepStart{cp: e.t.Save(train.WhyLesson), kept: e.t.Kept(), history: e.history.Copy(), tracker: p.tr.Clone(), race: e.keepRace(), err: p.freshErr}
	e.runStep()
}

// runStep sets the engine running if the step shown trains, paused otherwise.
func (e *Engine) runStep() {
	st := &e.play.l.Steps[e.play.i]
	e.stepBudget = -1
	trains := st.Until.Trains() && !st.Do.Pause
	if trains && e.state == Diverged && e.opts.LessonAuto { // nothing can train: judge it here
		e.play.done = true
		e.play.results = append(e.play.results, e.judge(true))
		e.nextStep()
		return
	}
	switch {
	case trains && e.state != Diverged:
		e.state = Running
	case e.state == Running:
		e.state = Paused
	}
	if !trains && e.opts.LessonAuto {
		e.nextStep() // nobody reads the caption: go on
	}
}

// act applies a step's actions in their documented order.
func (e *Engine) act(a *lesson.Actions) {
	p := e.play
	fresh := func(c train.Config) bool {
		if e.restart(c) {
			p.tr.Forget()
			return true
		}
		return false
	}
	if a.Fresh() {
		e.freshStart(a, fresh)
	}
	if a.Race != nil && e.race != nil {
		e.endRace() // race = [], or another race: the focused arm goes on as the lab's run
	}
	if a.Rollback && e.rollback(e.arms[e.focus]) {
		if e.state == Diverged {
			e.state = Paused
		}
		p.tr.Forget()
	}
	e.applying(func(c *train.Config) { applySettings(c, a, e.t.Model().NumParams()) })()
	if a.Recompute {
		e.t.RequestRefresh()
		if !e.play.l.Steps[p.i].Until.Trains() || a.Pause {
			e.refreshPaused() // nothing trains: show it now
		}
	}
	if a.Checkpoint {
		e.t.Checkpoint()
	}
	if len(a.Race) > 0 {
		specs := make([]ArmSpec, 0, len(a.Race))
		for _, s := range a.Race {
			spec, err := ParseArm(s)
			if err != nil { // the lesson's parser checked it: a bug if it happens
				e.log(train.EventError, fmt.Sprintf("lesson race: %v", err))
				return
			}
			specs = append(specs, spec)
		}
		e.startRace(specs)
	}
}

// applySettings applies a step's settings (the weights, lr, momentum, batch, k, refresh) to
// c, for a network of p parameters (k stays below p).
func applySettings(c *train.Config, a *lesson.Actions, p int) {
	if a.Alpha != nil || a.WDom != nil || a.WBulk != nil {
		// The weights of a blend: a rule in force that is not one (Dom-damped) gives way.
		w := train.Blend{Dom: c.WDom, Bulk: c.WBulk}
		if a.Alpha != nil {
			w.Dom, w.Bulk = train.Weights(*a.Alpha)
		}
		if a.WDom != nil {
			w.Dom = *a.WDom
		}
		if a.WBulk != nil {
			w.Bulk = *a.WBulk
		}
		c.SetRule(w)
	}
	if a.LR != nil {
		c.LR = *a.LR
	}
	if a.Momentum != nil {
		c.Momentum = *a.Momentum
	}
	if a.Batch != nil {
		c.Batch = *a.Batch
	}
	if a.K != nil {
		c.K = min(*a.K, p-1)
	}
	if a.Refresh != nil {
		c.RefreshEvery = *a.Refresh
	}
}

// freshConfig is the configuration of a step's fresh start (preset, seed, setup) from c, the
// configuration in force.
func freshConfig(c train.Config, a *lesson.Actions) (train.Config, error) {
	if a.Preset != "" {
		var err error
		if c, err = train.Preset(a.Preset); err != nil {
			return c, err
		}
	}
	if a.Seed != nil {
		c.Seed = *a.Seed
	}
	for _, s := range a.Setup {
		if err := s.Apply(&c); err != nil { // the lesson's parser checked it
			return c, fmt.Errorf("lesson setup: %w", err)
		}
	}
	// The step's own batch and k are for the new network and data: they are built with them
	// (k below the new P, as applySettings keeps it), not with the old run's.
	if a.Batch != nil {
		c.Batch = *a.Batch
	}
	if a.K != nil {
		c.K = *a.K
		if p, err := train.NumParams(&c); err == nil {
			c.K = min(c.K, p-1)
		}
	}
	return c, nil
}

// freshStart begins a step's fresh run: the preset's configuration (or the current one),
// with the step's seed, then its setup keys in the order written. A setup is logged, as a
// preset chosen in the lab is. A fresh run that cannot start (the memory limit, k ≥ P) is
// logged as an error, the run in force goes on, and the step's result says why (freshErr).
func (e *Engine) freshStart(a *lesson.Actions, fresh func(train.Config) bool) {
	failed := func(msg string) {
		e.log(train.EventError, msg)
		e.play.freshErr = msg
	}
	c, err := freshConfig(e.t.Config(), a)
	if err != nil {
		failed(err.Error())
		return
	}
	if !fresh(c) {
		// restart logged why, as the last event
		msg := "the step's fresh run did not start"
		if n := len(e.events); n > 0 && e.events[n-1].Kind == train.EventError {
			msg += ": " + e.events[n-1].Text
		}
		e.play.freshErr = strings.Join(strings.Fields(msg), " ") // one line: the error lists its problems on lines of their own
		return
	}
	if len(a.Setup) > 0 {
		e.log(train.EventCommand, "lesson setup: "+safetext.Line(lesson.DescribeSetup(a.Setup))+" (a fresh run)")
	}
}

// afterStep follows a training step: the tracker takes its metrics and, when the step's
// condition holds, the lesson waits for the user (or goes on by itself).
//
// In a race, arms holds each arm's step of the round (nil: it did not step); the tracker
// takes every arm's under its name, then m, the focused arm's (its last if it stopped).
func (e *Engine) afterStep(m *train.Metrics, arms []*train.Metrics) {
	p := e.play
	if p == nil || p.over {
		return
	}
	if e.race != nil {
		for i, am := range arms {
			if am != nil {
				p.tr.ObserveArm(e.arms[i].spec.String(), am)
			}
		}
	}
	p.tr.Observe(m)
	p.pace()
	if p.done {
		return
	}
	st := &p.l.Steps[p.i]
	if f := e.opts.LessonProgress; f != nil {
		target := st.Until.Steps
		if st.Until.Metric != "" {
			target = cmp.Or(st.Until.MaxSteps, lesson.DefaultMaxSteps)
		}
		f(LessonProgress{Index: p.i, Count: len(p.l.Steps), Trained: p.tr.Steps(), Target: target, Metric: st.Until.Metric != ""})
	}
	met, gaveUp := p.tr.Met(st.Until)
	if !met && !gaveUp {
		return
	}
	ff := p.fastForward
	p.fastForward = false
	p.done, p.gaveUp = true, gaveUp
	p.results = append(p.results, e.judge(true))
	e.state, e.stepBudget = Paused, -1
	if gaveUp {
		e.log(train.EventError, fmt.Sprintf("lesson step %d: %s did not happen within %d steps", p.i+1, lesson.DescribeUntil(st.Until), p.tr.Steps()))
	}
	if st.Until.Auto || e.opts.LessonAuto || ff {
		e.nextStep()
	}
}

// pace follows the time a training step takes (a mean over about the last 20 steps, from
// the end of one to the end of the next while training runs on), for the time left.
func (p *play) pace() {
	now := time.Now()
	if !p.lastStep.IsZero() {
		if d := now.Sub(p.lastStep); d < 10*time.Second { // longer: a pause came between
			if p.perStep == 0 {
				p.perStep = d
			} else {
				p.perStep += (d - p.perStep) / 20
			}
		}
	}
	p.lastStep = now
}

// lessonDiverged ends the lesson step in progress at a divergence: its claims are judged
// there (a step may claim that the loss blows up), and the lesson waits for the user (a
// later step rolls back), or goes on by itself when played without one.
func (e *Engine) lessonDiverged(m *train.Metrics) {
	p := e.play
	if p == nil || p.over || p.done {
		return
	}
	p.tr.Observe(m)
	p.done = true
	p.results = append(p.results, e.judge(true))
	ff := p.fastForward
	p.fastForward = false
	if p.l.Steps[p.i].Until.Auto || e.opts.LessonAuto || ff {
		e.nextStep()
	}
}

// judge weighs the step's claims now; ended says the step is over.
func (e *Engine) judge(ended bool) StepResult {
	p := e.play
	st := &p.l.Steps[p.i]
	r := StepResult{Index: p.i, Title: st.Title, Trained: p.tr.Steps(), GaveUp: p.gaveUp, Error: p.freshErr}
	for _, x := range st.Expect {
		v, val := p.tr.Check(x, ended)
		r.Claims = append(r.Claims, Claim{Text: lesson.Describe(x), Verdict: v, Value: val})
	}
	return r
}

// lessonView is the lesson part of a snapshot (nil without a lesson).
func (e *Engine) lessonView() *LessonView {
	p := e.play
	if p == nil {
		return nil
	}
	st := &p.l.Steps[p.i]
	v := &LessonView{
		Name: p.l.Name, Title: p.l.Title, Index: p.i, Count: len(p.l.Steps),
		StepTitle: st.Title, Caption: st.Caption, Until: lesson.DescribeUntil(st.Until),
		Trains: st.Until.Trains() && !st.Do.Pause, Trained: p.tr.Steps(), Progress: p.tr.Progress(st.Until),
		Done: p.done, GaveUp: p.gaveUp, Over: p.over, FastForward: p.fastForward, Show: st.Show,
		Error: p.freshErr,
	}
	if p.i+1 < len(p.l.Steps) {
		v.Next = cmp.Or(p.l.Steps[p.i+1].Title, fmt.Sprintf("step %d", p.i+2))
	}
	if st.Until.Steps > 0 && !p.done && p.perStep > 0 {
		v.Left = time.Duration(max(0, st.Until.Steps-p.tr.Steps())) * p.perStep
	}
	if p.done && len(p.results) > p.i {
		v.Claims = append([]Claim(nil), p.results[p.i].Claims...)
	} else {
		v.Claims = e.judge(false).Claims
	}
	return v
}
