package lab

// The engine: one goroutine drives a train.Trainer. Commands arrive in a queue, settings
// coalesced (the latest value of a setting replaces one still waiting), and run at the next
// step boundary; snapshots leave as immutable copies, coalesced per subscriber.

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"sharpflat/lab/lesson"
	"sharpflat/lab/rundir"
	"sharpflat/lab/train"
	"sharpflat/nn"
)

// RunState is what the engine is doing.
type RunState int

const (
	Running RunState = iota
	Paused
	Diverged // paused by a divergence; roll back or reset
	Stopped
)

func (s RunState) String() string {
	return [...]string{"running", "paused", "diverged", "stopped"}[s]
}

// Recorder receives every step's metrics and every event synchronously, in order, on the
// engine's goroutine (a spool that keeps the session's run). It must be quick; an error
// stops the engine.
type Recorder interface {
	Record(m *train.Metrics) error
	Event(e train.Event) error
}

// Options are the engine's settings besides the Config.
type Options struct {
	// MaxSteps stops Run after this many steps in total (0: run until the context ends).
	MaxSteps int
	// Recorder, if set, gets every step and every event.
	Recorder Recorder
	// StartPaused starts in the paused state.
	StartPaused bool
	// Lesson, if set, is played from its first step (the engine's configuration should be
	// LessonConfig's).
	Lesson *lesson.Lesson
	// LessonAuto plays the lesson without a user: each step goes on as soon as its condition
	// holds, and Run returns when the lesson is over (the headless test of a lesson).
	LessonAuto bool
	// LessonProgress, if set, is called on the engine's goroutine after every training step
	// of a lesson step (a progress line for lesson --check). It must be quick.
	LessonProgress func(LessonProgress)
	// From, if set, is the state the engine starts from (a checkpoint of a run or of an
	// experiment's switch) instead of a fresh initialisation of the Config; its own config
	// is the one in force.
	From *train.Checkpoint
	// NoBulkTop leaves λ_{k+1} uncomputed (as headless runs and experiments do): the extra
	// pair moves the top k values of a refresh within the solver's tolerance, so only without
	// it does a race match `experiment switch` arms bit for bit. The felt curvature of Bulk
	// updates is then unknown.
	NoBulkTop bool
	// NoBatchSharpness leaves batch sharpness unmeasured unless the Config asks for it
	// (as headless runs do); otherwise a run on minibatches measures it every
	// DefaultBatchSharpnessEvery steps (train.Trainer.SetBatchSharpnessEvery).
	NoBatchSharpness bool
	// Race, if set, starts a race of these arms once RaceAt steps are done (0: at once), as
	// Race would (the command line's --race and --race-at: what y shares during a race).
	Race   []ArmSpec
	RaceAt int
	// DensityEvery computes the Hessian's spectral density every this many refreshes of the
	// focused arm while a subscriber shows it (WantDensity); 0: only on request
	// (ComputeDensity). See DefaultDensityEvery.
	DensityEvery int
}

// maxQueued bounds the commands waiting for a step boundary (settings coalesce and do not
// count twice); beyond it a command is dropped and Dropped counts it.
const maxQueued = 64

// maxEvents bounds the event log kept in memory (all events still reach the Recorder).
const maxEvents = 200

// command is a queued request. Commands with the same key replace each other while they
// wait (a held key asks once); an empty key never coalesces.
type command struct {
	key       string
	run       func()
	interrupt bool   // stop a refresh in progress for it
	seq       uint64 // its sequence number (Seq)
}

// Engine trains one network in the background. Create it with New, start Run in a goroutine,
// steer it with its methods (safe from any goroutine, never blocking), and watch it with
// Subscribe.
type Engine struct {
	opts Options
	done chan struct{} // closed when Run returns

	qmu     sync.Mutex
	queue   []command
	dropped int
	wake    chan struct{} // one slot: the queue has something

	// interrupt asks a refresh in progress to stop: set by a command that must not wait
	// for it (a new k, a recompute, pause, reset, rollback, …) and by the end of Run's
	// context. The trainer checks it before every Hessian-vector product.
	interrupt atomic.Bool
	// stopping is set when Run's context ends, and when Run ends; catchingUp while Run finishes a round a
	// command cut short, which only stopping may then interrupt (stopRefresh).
	stopping, catchingUp atomic.Bool

	subMu sync.Mutex
	subs  map[*Subscription]struct{}

	seq atomic.Uint64 // the sequence number of the latest command queued (Seq)

	// Owned by the Run goroutine.
	t           *train.Trainer // the focused arm's trainer
	state       RunState
	stepBudget  int      // rounds left before pausing again (StepN); -1 unlimited
	history     *History // the focused arm's history
	arms        []*arm   // the runs trained in lockstep: one in a normal lab, more in a race
	focus       int      // index in arms of the arm the keys act on
	race        *raceState
	roundSteps  []*train.Metrics // the steps of a round cut short so far, by arm (round)
	racedAt     bool             // Options.Race has been started
	applied     uint64           // the sequence number of the latest command applied
	events      []train.Event
	interrupted int       // refreshes interrupted by a command or a stop
	refreshOwed bool      // a paused engine's recompute was interrupted: take it again
	version     uint64    // counts changes, so publish knows who has seen what
	products    int       // Hessian-vector products of the step in progress (its refresh)
	stepStart   time.Time // when the step in progress began

	spool *rundir.Writer // see NewSpooled

	play *play // the lesson being played (nil: none)

	painter    *Painter // the picture of what the network learned (see paint)
	picture    *Picture
	paintedAt  time.Time
	paintedFor *train.Trainer // the trainer painted (a reset or a step back replaces it)
	held       bool           // Hold: no training whatever the state (a classroom without its teacher)

	dens densityJob // the spectral density, computed off the step loop (density.go)
}

// New builds the engine's trainer from the config (or from Options.From).
func New(cfg train.Config, opts Options) (*Engine, error) {
	e := &Engine{
		opts:       opts,
		done:       make(chan struct{}),
		wake:       make(chan struct{}, 1),
		subs:       map[*Subscription]struct{}{},
		stepBudget: -1,
	}
	e.SetDensityEvery(opts.DensityEvery)
	var t *train.Trainer
	var err error
	if opts.From != nil {
		t, err = e.restoreTrainer(opts.From, nil)
	} else {
		t, err = e.newTrainer(cfg)
	}
	if err != nil {
		return nil, err
	}
	e.install(t, NewHistory())
	if opts.Lesson != nil {
		e.play = newPlay(opts.Lesson)
		e.logLesson()
		e.beginStep(0)
	}
	if opts.StartPaused {
		e.state = Paused
	}
	return e, nil
}

// Run trains until ctx ends (or MaxSteps), executing commands between steps. It returns nil
// when stopped by the context or MaxSteps, or the error that stopped it. A panic inside the
// engine (a bug, or a Recorder's) stops this engine only: Run returns it as an error, with
// the stack, and the subscribers get their final snapshot.
func (e *Engine) Run(ctx context.Context) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("engine panic at step %d: %v\n%s", e.t.StepCount(), p, debug.Stack())
			e.log(train.EventError, fmt.Sprintf("engine stopped by a panic: %v", p))
		}
		// Stopping, however Run ends: the AfterFunc below may not have run (its stop, deferred
		// too, keeps it from running once Run has returned on ctx.Done first).
		e.stopping.Store(true)
		e.stopDensity()
		e.state = Stopped
		e.version++
		e.subMu.Lock()
		close(e.done) // under subMu: Subscribe sees either done or a live engine
		e.subMu.Unlock()
		e.publish()
	}()
	stopInterrupting := context.AfterFunc(ctx, func() { e.stopping.Store(true); e.interrupt.Store(true) })
	defer stopInterrupting()
	for {
		if ctx.Err() == nil {
			e.interrupt.Store(false) // before draining: a command queued after it sets it again
		}
		// A round a command cut short (an arm's refresh interrupted while the others stepped)
		// is finished before any command runs, whatever the state: commands, snapshots of the
		// race (w, a lesson's step) and pauses always see the arms in lockstep. Only the end
		// of ctx interrupts it; a command waits for one arm's step.
		if e.owing() && ctx.Err() == nil {
			e.catchingUp.Store(true)
			err := e.step()
			e.catchingUp.Store(false)
			if err != nil {
				return err
			}
			e.publish()
		}
		if err := e.drain(); err != nil {
			return err
		}
		if e.opts.MaxSteps > 0 && e.t.StepCount() >= e.opts.MaxSteps {
			return nil
		}
		if len(e.opts.Race) > 0 && !e.racedAt && e.t.StepCount() >= e.opts.RaceAt {
			e.racedAt = true
			e.startRace(e.opts.Race)
			e.version++
			if err := e.forward(); err != nil {
				return err
			}
			continue // the commands that came during the fork's refresh first
		}
		if e.opts.LessonAuto && e.play != nil && e.play.over {
			return nil
		}
		if e.refreshOwed && e.state != Running && ctx.Err() == nil {
			e.products, e.stepStart = 0, time.Now()
			e.refreshPaused()
			e.products = 0
			e.version++
			continue // commands that came meanwhile first, then (if owed again) once more
		}
		if e.state != Running || e.held {
			var retry <-chan time.Time
			if e.publish() {
				retry = time.After(time.Second / MaxHz)
			}
			select {
			case <-ctx.Done():
				return nil
			case <-e.wake:
			case <-retry:
			}
			continue
		}
		if ctx.Err() != nil {
			return nil
		}
		if err := e.step(); err != nil {
			return err
		}
		e.publish()
	}
}

// beforeProduct is the trainer's interrupt hook, called before every Hessian-vector product of
// a refresh: it counts the products and, during a long refresh, publishes the progress, so
// that a screen stays live (at most MaxHz a second) while one step takes seconds. It reports
// whether the refresh must stop.
func (e *Engine) beforeProduct() bool {
	e.products++
	if e.products%8 == 0 && e.longStep() {
		e.version++
		e.publish()
	}
	return e.stopRefresh()
}

// stopRefresh reports whether a refresh in progress must stop: a command asked for it (not
// while a cut round is being finished), or the engine is stopping. It is the trainers'
// interrupt hook (called from the goroutines of a round) and must stay safe for that.
func (e *Engine) stopRefresh() bool {
	return e.stopping.Load() || (e.interrupt.Load() && !e.catchingUp.Load())
}

// longRefresh is how long a step must have run before its progress is shown: a per-step
// refresh of a few ms is not news.
const longRefresh = 250 * time.Millisecond

// longStep reports whether the step in progress has run longer than longRefresh.
func (e *Engine) longStep() bool {
	return e.products > 0 && time.Since(e.stepStart) > longRefresh
}

// step runs one round (one training step of every arm: train.Round) and records it. A step
// whose refresh was interrupted has changed nothing and is simply not counted: the loop runs
// the commands and takes it again (in a race, only the arms that owe it).
func (e *Engine) step() error {
	e.refreshOwed = false // the step's refresh takes the one asked for
	e.products, e.stepStart = 0, time.Now()
	complete, stepped, err := e.round()
	e.products = 0
	if err != nil {
		return err
	}
	e.version++
	if !complete {
		return nil
	}
	m := stepped[e.focus] // the lessons follow the focused arm
	if m != nil && m.Refreshed {
		e.densityAfterRefresh()
	}
	switch {
	case e.race == nil && e.t.Diverged() != nil:
		e.state, e.stepBudget = Diverged, -1
		e.lessonDiverged(m)
		return nil
	case e.race != nil && e.allDiverged():
		e.state, e.stepBudget = Diverged, -1
		if e.play != nil && !e.play.over && !e.play.done {
			for i, am := range stepped {
				if am != nil {
					e.play.tr.ObserveArm(e.arms[i].spec.String(), am)
				}
			}
		}
		last := e.t.Last()
		e.lessonDiverged(&last)
		return nil
	case e.stepBudget > 0:
		e.stepBudget--
		if e.stepBudget == 0 {
			e.state, e.stepBudget = Paused, -1
		}
	}
	switch {
	case e.race != nil:
		last := e.t.Last() // the focused arm's step, or its last before it stopped
		e.afterStep(&last, stepped)
	case m != nil && e.t.Diverged() == nil:
		e.afterStep(m, nil)
	}
	return nil
}

// forward moves the trainers' new events into the log and to the Recorder (in a race, to
// their arms' logs).
func (e *Engine) forward() error {
	if e.race != nil {
		for _, a := range e.arms {
			for _, ev := range a.t.TakeEvents() {
				e.keepArmEvent(a, ev)
			}
		}
		return nil
	}
	for _, ev := range e.t.TakeEvents() {
		if err := e.keepEvent(ev); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) keepEvent(ev train.Event) error {
	e.events = append(e.events, ev)
	if len(e.events) > maxEvents {
		e.events = append(e.events[:0], e.events[len(e.events)-maxEvents:]...)
	}
	e.version++
	if e.race != nil {
		// In a race the lab's run waits at the fork: the event belongs to every arm's run
		// (the one the race ends with, and each one w writes).
		for _, a := range e.arms {
			a.log = append(a.log, logEntry{ev: &ev})
		}
		return nil
	}
	if e.opts.Recorder != nil {
		return e.opts.Recorder.Event(ev)
	}
	return nil
}

// log records an event of the engine's own (pause, resume, reset, …).
func (e *Engine) log(kind train.EventKind, text string) {
	_ = e.keepEvent(train.Event{Step: e.t.StepCount(), Time: time.Now(), Kind: kind, Text: text})
}

// drain runs the queued commands in order.
func (e *Engine) drain() error {
	for {
		e.qmu.Lock()
		q := e.queue
		e.queue = nil
		e.qmu.Unlock()
		if len(q) == 0 {
			return nil
		}
		var last uint64
		for _, c := range q {
			e.products, e.stepStart = 0, time.Now() // a command may refresh (e, k) and show its progress
			c.run()
			e.products = 0
			e.version++
			last = max(last, c.seq)
			if err := e.forward(); err != nil {
				return err
			}
		}
		// Every command queued before the batch was taken has run: a coalesced one keeps its
		// place in the queue with a newer number, so only the batch's end is a safe echo.
		e.applied = max(e.applied, last)
	}
}

// Seq is the sequence number of the latest command queued, safe from any goroutine: read
// after queuing a command, it is that command's number (or a later one's), and a snapshot
// whose Seq is at least it shows the command applied.
func (e *Engine) Seq() uint64 { return e.seq.Load() }

// enqueue queues a command for the next step boundary without waiting; see enqueueCmd.
func (e *Engine) enqueue(key string, run func()) bool {
	return e.enqueueCmd(command{key: key, run: run})
}

// interrupting queues a command that stops a refresh in progress, so that it runs at once.
func (e *Engine) interrupting(key string, run func()) bool {
	return e.enqueueCmd(command{key: key, run: run, interrupt: true})
}

// enqueueCmd queues a command for the next step boundary without waiting. A command with the
// key of one still queued replaces it (in its place). It reports false if the queue was full
// and the command dropped.
func (e *Engine) enqueueCmd(c command) bool {
	key, run := c.key, c.run
	e.qmu.Lock()
	c.seq = e.seq.Add(1)
	ok := true
	replaced := false
	if key != "" {
		for i := range e.queue {
			if e.queue[i].key == key {
				e.queue[i].run, e.queue[i].seq, replaced = run, c.seq, true
				break
			}
		}
	}
	if !replaced {
		if len(e.queue) >= maxQueued {
			e.dropped++
			ok = false
		} else {
			e.queue = append(e.queue, c)
		}
	}
	e.qmu.Unlock()
	if ok && c.interrupt {
		e.interrupt.Store(true)
	}
	select {
	case e.wake <- struct{}{}:
	default:
	}
	return ok
}

// push queues a command whatever the queue's length (for callers that wait on it).
func (e *Engine) push(c command) {
	e.qmu.Lock()
	c.seq = e.seq.Add(1)
	e.queue = append(e.queue, c)
	e.qmu.Unlock()
	if c.interrupt {
		e.interrupt.Store(true)
	}
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Dropped is the number of commands dropped because the queue was full.
func (e *Engine) Dropped() int {
	e.qmu.Lock()
	defer e.qmu.Unlock()
	return e.dropped
}

// Done is closed when Run has returned.
func (e *Engine) Done() <-chan struct{} { return e.done }

// Model returns the network (fixed while the engine lives, except by LoadPreset); only safe
// before Run, after Done, or inside Do.
func (e *Engine) Model() *nn.MLP { return e.t.Model() }

// Config returns the settings in force; only safe before Run, after Done, or inside Do.
func (e *Engine) Config() train.Config { return e.t.Config() }

// Theta returns a copy of θ; only safe before Run, after Done, or inside Do.
func (e *Engine) Theta() []float64 { return e.t.Theta() }

// Step returns the steps completed; only safe before Run, after Done, or inside Do.
func (e *Engine) Step() int { return e.t.StepCount() }

// Do runs f on the engine's goroutine at the next step boundary with the trainer, and waits
// for it (or for the engine to stop). It is how a caller takes a consistent copy of the
// state, e.g. to write a run directory. f must not keep the trainer.
func (e *Engine) Do(f func(t *train.Trainer)) {
	ch := make(chan struct{})
	e.push(command{run: func() {
		defer close(ch)
		f(e.t)
	}, interrupt: true})
	select {
	case <-ch:
	case <-e.done:
	}
}
