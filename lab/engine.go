package lab

// The engine: one goroutine owns the model, the optimizer, the eigenspace and the RNG.
// Commands arrive on a channel as functions over the engine's state and run at the next step
// boundary; snapshots leave as immutable copies, coalesced per subscriber.

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"time"

	"sharpflat/nn"
)

// State is what the engine is doing.
type State int

const (
	Running State = iota
	Paused
	Diverged // paused by a divergence; roll back or reset
	Stopped
)

func (s State) String() string {
	return [...]string{"running", "paused", "diverged", "stopped"}[s]
}

// Recorder receives every step's metrics and every event synchronously, in order, on the
// engine's goroutine (the headless writer). It must be quick; an error stops the run.
type Recorder interface {
	Record(m *Metrics) error
	Event(e Event) error
}

// Options are the engine's non-config settings.
type Options struct {
	// MaxSteps stops Run after this many steps in total (0: run until the context ends).
	MaxSteps int
	// Recorder, if set, gets every step.
	Recorder Recorder
	// StartPaused starts in the paused state.
	StartPaused bool
	// SwitchAt > 0 sets (w_dom, w_bulk) to (SwitchWDom, SwitchWBulk) once SwitchAt steps are
	// done: the protocol of Song et al. (train with SGD, then switch to Dom- or Bulk-SGD).
	SwitchAt                int
	SwitchWDom, SwitchWBulk float64
}

// Engine trains one network in the background. Create it with New, start Run in a goroutine,
// steer it with its methods (safe from any goroutine), and watch it with Subscribe.
type Engine struct {
	opts Options
	cmds chan func()
	done chan struct{} // closed when Run returns

	subMu sync.Mutex
	subs  map[*Subscription]struct{}

	// Owned by the Run goroutine.
	cfg        Config
	model      *nn.MLP
	theta      []float64
	train      nn.Dataset
	test       nn.Dataset
	hess       nn.Dataset
	dataDesc   string
	opt        *optimizer
	rng        *rand.Rand
	pcg        *rand.PCG
	perm       []int
	pos        int
	step       int
	state      State
	stepBudget int // steps left before pausing again (Step command); -1 unlimited
	basis      eigenspace
	wantFresh  bool
	refreshes  int
	last       Metrics
	history    *History
	events     []Event
	checkpts   []checkpoint
	start      time.Time
	rate       rateMeter
	batchData  nn.Dataset
	batchBound *nn.Bound
	hessBound  *nn.Bound
	trainBound *nn.Bound
	dir        []float64 // the update direction d
	version    uint64    // counts changes, so publish knows who has seen what
	divergedAt int       // step of the latest divergence (0: none)
	refLoss    float64   // the first full-train loss: the scale of "exploding"
	lastTrain  float64   // the latest full-train loss
	bestTrain  float64   // the lowest full-train loss so far (0: none yet)

	stopOnDiverge func()  // headless runs end at a divergence
	spool         *RunDir // see NewSpooled
}

// New builds the engine's data, model and optimizer from the config.
func New(cfg Config, opts Options) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Engine{
		opts: opts,
		cmds: make(chan func(), 64),
		done: make(chan struct{}),
		subs: map[*Subscription]struct{}{},
	}
	if err := e.reset(cfg); err != nil {
		return nil, err
	}
	if opts.StartPaused {
		e.state = Paused
	}
	return e, nil
}

// reset (re)builds everything from cfg.
func (e *Engine) reset(cfg Config) error {
	train, test, err := loadData(&cfg)
	if err != nil {
		return err
	}
	m, theta, err := buildModel(&cfg, &train)
	if err != nil {
		return err
	}
	e.cfg, e.model, e.theta, e.train, e.test = cfg, m, theta, train, test
	e.hess = hessianSet(&e.train, cfg.HessianSet, cfg.Seed)
	e.dataDesc = describeData(&cfg, &train, &test)
	e.opt = newOptimizer(cfg.Optimizer, m.NumParams())
	e.pcg = rand.NewPCG(cfg.Seed, 0xba7c4)
	e.rng = rand.New(e.pcg)
	e.perm, e.pos = nil, 0
	if e.state != Paused { // a reset while paused stays paused; otherwise it trains
		e.state = Running
	}
	e.step, e.stepBudget = 0, -1
	e.refLoss, e.divergedAt, e.lastTrain, e.bestTrain = 0, 0, 0, 0
	e.basis = noBasis()
	e.wantFresh, e.refreshes = true, 0
	e.last = Metrics{}
	e.history = NewHistory()
	e.checkpts = nil
	e.start = time.Now()
	e.rate = rateMeter{}
	e.batchBound, e.hessBound, e.trainBound = nil, nil, nil
	e.dir = make([]float64, len(theta))
	e.version++
	e.keep("start")
	return nil
}

// Run trains until ctx ends (or MaxSteps), executing commands between steps. It returns nil
// when stopped by the context or MaxSteps, or the error that stopped it. A panic inside the
// engine (a bug, or a Recorder's) stops this engine only: Run returns it as an error, with
// the stack, and the subscribers get their final snapshot.
func (e *Engine) Run(ctx context.Context) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("engine panic at step %d: %v\n%s", e.step, p, debug.Stack())
			e.events = append(e.events, Event{Step: e.step, Time: time.Now(), Kind: "error", Text: fmt.Sprintf("engine stopped by a panic: %v", p)})
		}
		e.state = Stopped
		e.version++
		e.subMu.Lock()
		close(e.done) // under subMu: Subscribe sees either done or a live engine
		e.subMu.Unlock()
		e.publish()
	}()
	for {
		// Commands first, so they take effect at this step boundary.
		for drained := false; !drained; {
			select {
			case f := <-e.cmds:
				f()
				e.version++
			default:
				drained = true
			}
		}
		if e.opts.MaxSteps > 0 && e.step >= e.opts.MaxSteps {
			return nil
		}
		if e.state != Running {
			var retry <-chan time.Time
			if e.publish() {
				retry = time.After(time.Second / MaxHz)
			}
			select {
			case <-ctx.Done():
				return nil
			case f := <-e.cmds:
				f()
				e.version++
			case <-retry:
			}
			continue
		}
		if ctx.Err() != nil {
			return nil
		}
		if err := e.trainStep(); err != nil {
			return err
		}
		if e.stepBudget > 0 {
			e.stepBudget--
			if e.stepBudget == 0 {
				e.state, e.stepBudget = Paused, -1
			}
		}
		e.version++
		e.publish()
	}
}

// Done is closed when Run has returned.
func (e *Engine) Done() <-chan struct{} { return e.done }

// do sends a command to the engine; it is dropped if the engine has stopped.
func (e *Engine) do(f func()) {
	select {
	case e.cmds <- f:
	case <-e.done:
	}
}

// Model returns the network (its architecture does not change while the engine lives,
// except by Reset with another preset).
func (e *Engine) Model() *nn.MLP { return e.model }

// Config returns the settings in force; only safe before Run or after Done.
func (e *Engine) Config() Config { return e.cfg }

// Theta returns a copy of θ; only safe before Run or after Done.
func (e *Engine) Theta() []float64 { return append([]float64(nil), e.theta...) }

// Step returns the steps completed; only safe before Run or after Done.
func (e *Engine) Step() int { return e.step }

// setting records a command as an event.
func (e *Engine) setting(format string, a ...any) {
	e.event("command", fmt.Sprintf(format, a...))
}

// SetAlpha moves the slider: (w_dom, w_bulk) = Weights(α).
func (e *Engine) SetAlpha(alpha float64) {
	e.do(func() {
		e.cfg.WDom, e.cfg.WBulk = Weights(alpha)
		e.setting("α = %.2f (w_dom %.2f, w_bulk %.2f)", alpha, e.cfg.WDom, e.cfg.WBulk)
	})
}

// SetWeights sets (w_dom, w_bulk) directly (each clamped to [0, 10]).
func (e *Engine) SetWeights(wDom, wBulk float64) {
	e.do(func() {
		e.cfg.WDom, e.cfg.WBulk = clamp(wDom, 0, 10), clamp(wBulk, 0, 10)
		e.setting("w_dom %.2f, w_bulk %.2f", e.cfg.WDom, e.cfg.WBulk)
	})
}

// SetLR sets η (> 0).
func (e *Engine) SetLR(lr float64) {
	e.do(func() {
		if lr > 0 && !math.IsInf(lr, 0) {
			e.cfg.LR = lr
			e.setting("η = %.4g (2/η = %.4g)", lr, 2/lr)
		}
	})
}

// SetMomentum sets β ∈ [0, 1).
func (e *Engine) SetMomentum(beta float64) {
	e.do(func() {
		e.cfg.Momentum = clamp(beta, 0, 0.999)
		e.setting("momentum β = %.3g", e.cfg.Momentum)
	})
}

// SetOptimizer switches between "sgd" (heavy ball) and "adam"; the optimizer state restarts.
func (e *Engine) SetOptimizer(kind string) {
	e.do(func() {
		if kind != "sgd" && kind != "adam" {
			e.event("error", fmt.Sprintf("unknown optimizer %q (allowed: sgd, adam)", kind))
			return
		}
		e.cfg.Optimizer = kind
		e.opt = newOptimizer(kind, len(e.theta))
		e.setting("optimizer %s", kind)
	})
}

// SetBatch sets the minibatch size (0: full batch).
func (e *Engine) SetBatch(n int) {
	e.do(func() {
		e.cfg.Batch = max(0, n)
		e.perm, e.pos = nil, 0
		e.setting("batch %d", e.cfg.Batch)
	})
}

// SetK sets the Dominant subspace size and refreshes at the next step.
func (e *Engine) SetK(k int) {
	e.do(func() {
		k = max(1, min(k, 1000, len(e.theta)))
		if k != e.cfg.K {
			e.cfg.K, e.wantFresh = k, true
			e.setting("k = %d", k)
		}
	})
}

// SetRefresh sets the refresh period T (0: only on request).
func (e *Engine) SetRefresh(t int) {
	e.do(func() {
		e.cfg.RefreshEvery = max(0, t)
		e.setting("refresh every %d steps", e.cfg.RefreshEvery)
	})
}

// SetHessianSet sets |S| (0: all of the training set) and refreshes at the next step.
func (e *Engine) SetHessianSet(n int) {
	e.do(func() {
		e.cfg.HessianSet = max(0, n)
		e.hess = hessianSet(&e.train, e.cfg.HessianSet, e.cfg.Seed)
		e.hessBound, e.wantFresh = nil, true
		e.setting("Hessian set %d examples", e.hess.N)
	})
}

// Recompute refreshes the eigenspace at the next step boundary (at once when paused).
func (e *Engine) Recompute() {
	e.do(func() {
		if e.state == Running {
			e.wantFresh = true
			return
		}
		if err := e.refresh("on request"); err != nil {
			e.event("error", err.Error())
		}
	})
}

// Pause stops training at the next step boundary.
func (e *Engine) Pause() {
	e.do(func() {
		if e.state == Running {
			e.state = Paused
			e.setting("paused at step %d", e.step)
		}
	})
}

// Resume continues training after a pause (not after a divergence: roll back first).
func (e *Engine) Resume() {
	e.do(func() {
		if e.state == Paused {
			e.state, e.stepBudget = Running, -1
			e.setting("resumed")
		}
	})
}

// TogglePause pauses a running engine and resumes a paused one.
func (e *Engine) TogglePause() {
	e.do(func() {
		switch e.state {
		case Running:
			e.state = Paused
			e.setting("paused at step %d", e.step)
		case Paused:
			e.state, e.stepBudget = Running, -1
			e.setting("resumed")
		}
	})
}

// StepN runs n steps and pauses (from the paused state).
func (e *Engine) StepN(n int) {
	e.do(func() {
		if e.state == Paused && n > 0 {
			e.state, e.stepBudget = Running, n
		}
	})
}

// Reset restarts training from a fresh initialisation with the current settings and the
// given seed (0 keeps the current seed).
func (e *Engine) Reset(seed uint64) {
	e.do(func() {
		c := e.cfg
		if seed != 0 {
			c.Seed = seed
		}
		if err := e.reset(c); err != nil {
			e.event("error", err.Error())
			return
		}
		e.setting("reset (seed %d)", c.Seed)
	})
}

// LoadPreset switches to another preset and restarts.
func (e *Engine) LoadPreset(name string) {
	e.do(func() {
		c, err := Preset(name)
		if err != nil {
			e.event("error", err.Error())
			return
		}
		if err := e.reset(c); err != nil {
			e.event("error", err.Error())
			return
		}
		e.setting("preset %s", name)
	})
}

// Checkpoint keeps the current state for a later Rollback.
func (e *Engine) Checkpoint() {
	e.do(func() { e.keep("manual") })
}

// Rollback returns to the newest checkpoint taken before the current step (or the newest of
// all if none is older), pausing the engine there.
func (e *Engine) Rollback() {
	e.do(func() { e.rollback() })
}

// Do runs f on the engine's goroutine at the next step boundary with a read-only view of the
// state, and waits for it (or for the engine to stop). It is how a caller takes a consistent
// copy of θ, e.g. to write a run directory.
func (e *Engine) Do(f func(v View)) {
	ch := make(chan struct{})
	e.do(func() {
		defer close(ch)
		f(View{e})
	})
	select {
	case <-ch:
	case <-e.done:
	}
}

// View is a read-only window on the engine's state, valid only inside Do.
type View struct{ e *Engine }

func (v View) Config() Config    { return v.e.cfg }
func (v View) Model() *nn.MLP    { return v.e.model }
func (v View) Theta() []float64  { return append([]float64(nil), v.e.theta...) }
func (v View) Step() int         { return v.e.step }
func (v View) Events() []Event   { return append([]Event(nil), v.e.events...) }
func (v View) History() *History { return v.e.history.Copy() }

func clamp(x, lo, hi float64) float64 {
	if math.IsNaN(x) {
		return lo
	}
	return math.Max(lo, math.Min(hi, x))
}
