package train

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"sharpflat/linalg"
	"sharpflat/nn"
)

// Trainer trains one network, one synchronous step at a time. It owns the model, θ, the
// optimizer, the minibatch order and the Dominant eigenspace; whoever drives it (a headless
// loop, an experiment arm, the lab's Engine) calls Step and decides what to do with the
// metrics. It starts no goroutines of its own (nn splits each pass across cores inside the
// call) and is not safe for concurrent use.
//
// Determinism: the same Config gives the same metrics, bit for bit, on any number of cores
// (wall-clock fields aside).
type Trainer struct {
	cfg      Config
	model    *nn.MLP
	theta    []float64
	train    nn.Dataset
	test     nn.Dataset
	hess     nn.Dataset
	dataDesc string

	opt  optimizerState
	pcg  *rand.PCG
	rng  *rand.Rand
	perm []int // the epoch's minibatch order
	pos  int

	step      int
	basis     Eigenspace
	pending   bool // the next refresh was asked for: the first, after k or S changed, or by hand
	refreshes int
	extra     bool // refreshes compute λ_{k+1} too (SetExtraPair)
	bsEvery   int  // batch sharpness period when the Config leaves it at 0 (SetBatchSharpnessEvery)
	last      Metrics
	diverged  *Divergence
	refLoss   float64 // the first full-train loss: the scale of "exploding"
	lastTrain float64 // the latest full-train loss
	bestTrain float64 // the lowest full-train loss so far (0: none yet)
	checkpts  []*Checkpoint
	events    []Event // not yet taken by TakeEvents

	solver    linalg.Eigensolver // keeps its Krylov basis from one refresh to the next
	interrupt func() bool        // see SetInterrupt

	start      time.Time
	rate       rateMeter
	batchData  nn.Dataset
	batchBound *nn.Bound
	hessBound  *nn.Bound
	trainBound *nn.Bound
	dir        []float64 // the update direction d
	sharpener  batchSharpener
}

// ErrDiverged is returned by Step after a divergence, until Rollback.
var ErrDiverged = errors.New("training has diverged: roll back or start again")

// SetInterrupt sets a function the eigenspace refresh calls before every Hessian-vector
// product (nil: none). When it returns true the refresh stops at once, and Refresh and Step
// return an error wrapping linalg.ErrCanceled having changed nothing: the step can simply
// be taken again. The lab's engine uses it to answer a command or a stop in the middle of a
// long refresh.
func (t *Trainer) SetInterrupt(f func() bool) { t.interrupt = f }

// New builds the data, the model, its seeded initialisation and the optimizer of cfg.
func New(cfg Config) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Hidden = slices.Clone(cfg.Hidden)
	cfg.normalizeRule()
	if err := dataFootprint(&cfg).Check("data "+cfg.Data, MemoryLimit()); err != nil {
		return nil, err
	}
	train, test, err := loadData(&cfg)
	if err != nil {
		return nil, err
	}
	if err := checkSizes(&cfg, &train, params(widthsOf(&cfg, &train))); err != nil {
		return nil, err
	}
	hess := hessianSet(&train, cfg.HessianSet, cfg.Seed)
	if err := footprint(&cfg, &train, &test, &hess).Check("this configuration", MemoryLimit()); err != nil {
		return nil, err
	}
	m, theta, err := BuildModel(&cfg, &train)
	if err != nil {
		return nil, err
	}
	t := &Trainer{cfg: cfg, model: m, theta: theta, train: train, test: test, hess: hess}
	t.dataDesc = describeData(&cfg, &train, &test)
	t.opt = newOptimizerState(cfg.Optimizer, m.NumParams())
	t.pcg = newPCG(cfg.Seed)
	t.rng = rand.New(t.pcg)
	t.basis = noBasis()
	t.pending = true
	t.start = time.Now()
	t.dir = make([]float64, len(theta))
	t.keep(WhyStart)
	return t, nil
}

// Config returns the settings in force.
func (t *Trainer) Config() Config {
	c := t.cfg
	c.Hidden = slices.Clone(c.Hidden)
	return c
}

// Model returns the network (fixed for the Trainer's life).
func (t *Trainer) Model() *nn.MLP { return t.model }

// Theta returns a copy of θ.
func (t *Trainer) Theta() []float64 { return slices.Clone(t.theta) }

// StepCount returns the number of steps completed.
func (t *Trainer) StepCount() int { return t.step }

// Diverged returns the divergence that stopped training, or nil.
func (t *Trainer) Diverged() *Divergence { return t.diverged }

// Data returns the training, test and Hessian sets (shared, not copies: do not modify).
func (t *Trainer) Data() (train, test, hess *nn.Dataset) { return &t.train, &t.test, &t.hess }

// Basis returns the eigenspace in use. Its slices are shared and never modified: a refresh
// replaces the whole value.
func (t *Trainer) Basis() Eigenspace { return t.basis }

// TakeEvents returns the events since the last call, oldest first.
func (t *Trainer) TakeEvents() []Event {
	ev := t.events
	t.events = nil
	return ev
}

func (t *Trainer) event(kind EventKind, text string) {
	t.events = append(t.events, Event{Step: t.step, Time: time.Now(), Kind: kind, Text: text})
}

// Apply puts new settings in force from the next step: everything that can change while
// training (optimizer and its constants, η, batch size, the update weights, k, T, the
// Hessian set, the schedules). The settings that define the run (data, network, seed) cannot
// change; Apply refuses them. A new batch size starts a new epoch order; a new optimizer
// starts from zero state; a new k or Hessian set asks for a refresh before the next step.
// Each change is logged as an event that carries it as a Change. A blend written in Update
// is moved into w_dom and w_bulk (Config.SetRule).
func (t *Trainer) Apply(c Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	c.normalizeRule()
	old := t.cfg
	fixed := old
	fixed.Preset = c.Preset
	for _, f := range fields {
		if settable[f.Name] {
			fixed.setFrom(&c, f)
		}
	}
	if f := firstDifference(&fixed, &c); f != "" {
		return fmt.Errorf("%s cannot change during a run: start a new one", f)
	}
	if err := checkSizes(&c, &t.train, float64(len(t.theta))); err != nil {
		return err
	}
	if c.K > old.K || c.HessianSet != old.HessianSet || c.Batch != old.Batch {
		hess := hessianSet(&t.train, c.HessianSet, c.Seed)
		if err := footprint(&c, &t.train, &t.test, &hess).Check("this configuration", MemoryLimit()); err != nil {
			return err
		}
	}
	c.Hidden = slices.Clone(c.Hidden)
	t.cfg = c
	if c.Optimizer != old.Optimizer {
		t.opt = newOptimizerState(c.Optimizer, len(t.theta))
		t.changed("optimizer", &old, fmt.Sprintf("optimizer %s", c.Optimizer))
	}
	if c.Batch != old.Batch {
		t.perm, t.pos = nil, 0
		t.changed("batch", &old, fmt.Sprintf("batch %d", c.Batch))
	}
	if c.LR != old.LR {
		t.changed("lr", &old, fmt.Sprintf("η = %.4g (2/η = %.4g)", c.LR, 2/c.LR))
	}
	if c.Momentum != old.Momentum {
		t.changed("momentum", &old, fmt.Sprintf("momentum β = %.3g", c.Momentum))
	}
	if r := c.Rule(); !SameRule(r, old.Rule()) {
		t.changed("update", &old, fmt.Sprintf("update %s (%s)", r.Name(), r.Detail()))
	}
	if c.K != old.K {
		t.pending = true
		t.changed("k", &old, fmt.Sprintf("k = %d", c.K))
	}
	if c.RefreshEvery != old.RefreshEvery {
		t.changed("refresh", &old, fmt.Sprintf("eigenspace refresh %s (T %s)", RefreshName(c.RefreshEvery), RefreshT(c.RefreshEvery)))
	}
	if c.HessianSet != old.HessianSet {
		t.hess = hessianSet(&t.train, c.HessianSet, c.Seed)
		t.hessBound, t.pending = nil, true
		t.changed("hessian-set", &old, fmt.Sprintf("Hessian set %d examples", t.hess.N))
	}
	return nil
}

// changed logs the change of a setting (by flag name) from old to the settings in force: the
// text for people, the Change for code.
func (t *Trainer) changed(setting string, old *Config, text string) {
	ch := &Change{Setting: setting, Old: math.NaN(), New: math.NaN()}
	if setting == "update" {
		ch.From, ch.To = old.Rule().String(), t.cfg.Rule().String()
	} else {
		f, ok := FieldByName(setting)
		if !ok {
			panic("train: no setting " + setting)
		}
		ch.Old, ch.New, ch.From, ch.To = f.Number(old), f.Number(&t.cfg), f.Get(old), f.Get(&t.cfg)
	}
	t.events = append(t.events, Event{Step: t.step, Time: time.Now(), Kind: EventCommand, Text: text, Change: ch})
}

// settable lists the flag names of the fields Apply may change.
var settable = map[string]bool{
	"optimizer": true, "lr": true, "momentum": true, "beta2": true, "eps": true, "batch": true,
	"w-dom": true, "w-bulk": true, "update": true, "k": true, "refresh": true, "hessian-set": true, "tol": true,
	"eval-every": true, "energy-every": true, "hutch-samples": true, "diverge-factor": true,
	"keep-every": true, "batch-sharpness-every": true, "batch-sharpness-batches": true,
}

func (c *Config) setFrom(src *Config, f Field) { f.value(c).Set(f.value(src)) }

// firstDifference names the first field (by JSON name) where a and b differ, or "".
func firstDifference(a, b *Config) string {
	for _, f := range fields {
		if f.Get(a) != f.Get(b) {
			return f.JSON
		}
	}
	return ""
}

// UpdateName names the blend d = w_dom P_dom g + w_bulk P_bulk g: "SGD", "Dom-SGD",
// "Bulk-SGD", or "α = 0.25" on the slider's path, else "(w_dom, w_bulk)" (Blend.Name).
func UpdateName(wDom, wBulk float64) string { return Blend{wDom, wBulk}.Name() }

// RefreshName says when the eigenspace is recomputed: "every step", "every 5 steps",
// "only on request".
func RefreshName(every int) string {
	switch every {
	case 0:
		return "only on request"
	case 1:
		return "every step"
	}
	return fmt.Sprintf("every %d steps", every)
}

// RefreshT is the refresh period as the lab's header writes it: "manual" for 0 (only on
// request), else the number of steps.
func RefreshT(every int) string {
	if every == 0 {
		return "manual"
	}
	return fmt.Sprint(every)
}

// rateMeter is an exponentially weighted steps-per-second over about the last second.
type rateMeter struct {
	last time.Time
	rate float64
}

func (r *rateMeter) tick(now time.Time) {
	if !r.last.IsZero() {
		dt := now.Sub(r.last).Seconds()
		if dt > 0 {
			inst := 1 / dt
			w := min(1, dt) // time constant ≈ 1 s
			if r.rate == 0 {
				r.rate = inst
			} else {
				r.rate += w * (inst - r.rate)
			}
		}
	}
	r.last = now
}

// perSec is the recent rate, 0 once no step came for two seconds (paused or stalled).
func (r *rateMeter) perSec(now time.Time) float64 {
	if !r.last.IsZero() && now.Sub(r.last) > 2*time.Second {
		return 0
	}
	return r.rate
}
