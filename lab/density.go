package lab

// The engine's density job: the spectral density of the Hessian on the Hessian set, estimated
// by stochastic Lanczos quadrature (train.Density), at a snapshot of θ. A density costs
// probes × steps Hessian-vector products (800 by default: tens of refreshes of the demo), so
// it never runs on the step loop: it gets its own goroutine and its own nn.Bound on a copy of
// θ, while the engine trains and answers keys. It is cancelled when a newer request supersedes
// it, when the run is reset or another preset loaded, and when the engine stops; its result
// arrives as a command, so only the engine's goroutine ever touches the engine's state.

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"sharpflat/lab/train"
	"sharpflat/linalg"
	"sharpflat/nn"
)

// DefaultDensityEvery is the lab's density period in refreshes, while a screen shows the
// density (0 would be: only on request). A demo density costs 800 products, about forty
// per-step refreshes of the demo net: 0.36–0.46 s with the machine loaded (BenchmarkDensityDemo,
// load 4–8 on 2 cores, Zen 5; the mnist preset's 1.1 s). The demo trains at 50–95 steps/s with a
// refresh a step, so one density every 200 refreshes keeps the picture 2–4 s old at most and
// takes 10–20% of a core from training.
const DefaultDensityEvery = 200

// DensityView is a density the engine computed, for display. It shares nothing with the
// engine.
type DensityView struct {
	Step    int       // steps completed at the θ it was computed at
	Lambda  []float64 // the grid, ascending
	Density []float64 // the smoothed density on Lambda; its trapezoid integral is 1
	Width   float64   // the Gaussian's σ, in λ units
	// Nodes and Weights are each probe's Gauss quadrature (linalg.Quadrature): the density
	// before smoothing, (1/n_v) Σᵢ Σⱼ Weights[i][j] δ(λ − Nodes[i][j]).
	Nodes, Weights [][]float64
	// Lo and Hi are the extreme quadrature nodes: the estimate of λ_min and λ_max.
	Lo, Hi float64
	// Probes and Steps are n_v and m; Products the Hessian-vector products spent.
	Probes, Steps, Products int
	Wall                    time.Duration // its wall time, from θ's copy to the result, rests included (densityDuty)
}

// DensityState is what the snapshot says of the density job.
type DensityState struct {
	Last *DensityView // the latest density computed (nil: none yet, or the run was reset)
	// Busy says a density is being computed; Done counts the products it has spent so far.
	Busy bool
	Done int
	Err  string // why the last job failed ("" if it did not)
	// Every is the period in refreshes (0: only on request).
	Every int
}

// densityJob is the engine's side of the density: owned by the Run goroutine except where
// said.
type densityJob struct {
	every     atomic.Int64 // Options.DensityEvery, or SetDensityEvery's (any goroutine)
	refreshes int          // refreshes counted toward every
	gen       uint64
	cancel    *atomic.Bool  // the job in progress's (nil: none)
	done      *atomic.Int64 // the products of the job in progress, written by its goroutine
	last      *DensityView
	err       string
	wg        sync.WaitGroup // the job's goroutine (Run waits for it when it returns)
	// onProduct, if set, is called by a job's goroutine before every product with the job's
	// number and its products so far, before the cancellation is checked (tests).
	onProduct func(job uint64, n int)
}

// ComputeDensity asks for a density at the current θ (at the next step boundary), cancelling
// one in progress.
func (e *Engine) ComputeDensity() {
	e.enqueue("density", func() { e.startDensity() })
}

// SetDensityEvery sets the period of the scheduled densities in refreshes (0: only on
// request), from any goroutine, at once: it queues nothing.
func (e *Engine) SetDensityEvery(n int) { e.dens.every.Store(int64(max(0, n))) }

// WantDensity asks for (or stops asking for) the scheduled densities: the engine computes one
// every DensityEvery refreshes only while someone shows it.
func (s *Subscription) WantDensity(on bool) { s.density.Store(on) }

// WantsDensity reports what WantDensity last said.
func (s *Subscription) WantsDensity() bool { return s.density.Load() }

// densityWanted reports whether a subscriber shows the density.
func (e *Engine) densityWanted() bool {
	e.subMu.Lock()
	defer e.subMu.Unlock()
	for s := range e.subs {
		if s.density.Load() {
			return true
		}
	}
	return false
}

// densityAfterRefresh counts a refresh of the focused arm and starts a scheduled density on
// every DensityEvery-th while one is wanted and none is in progress (a schedule never
// cancels a density: with a short period it would never finish).
func (e *Engine) densityAfterRefresh() {
	d := &e.dens
	every := int(d.every.Load())
	if every <= 0 {
		return
	}
	d.refreshes++
	if d.refreshes%every == 0 && d.cancel == nil && e.densityWanted() {
		e.startDensity()
	}
}

// cancelDensity stops the density in progress, if any; with forget, the last one goes too
// (the run it belonged to is gone).
func (e *Engine) cancelDensity(forget bool) {
	d := &e.dens
	if d.cancel != nil {
		d.cancel.Store(true)
		d.cancel, d.done = nil, nil
		d.gen++ // its result, if it still comes, is dropped
	}
	if forget {
		d.last, d.err, d.refreshes = nil, "", 0
	}
	e.version++
}

// densityFootprint estimates the job's memory: its Bound on the Hessian set and SLQ's Lanczos
// basis of m+1 vectors with two more of work, besides the trainers already counted.
func densityFootprint(m *nn.MLP, hess int, steps int) train.Footprint {
	f := train.FootprintOf(m.Widths, 0, []int{hess}, 0)
	p := float64(m.NumParams())
	f.Parameters = 8 * 2 * p // θ's copy and a product's output
	f.Eigenspace = 8 * p * float64(steps+3)
	return f
}

// densitySteps is the Lanczos steps a job takes (train.Density's default).
const densitySteps = 80

// startDensity cancels a density in progress and starts one at the focused arm's θ.
func (e *Engine) startDensity() {
	e.cancelDensity(false)
	d := &e.dens
	t := e.t
	_, _, h := t.Data()
	hess := *h // a copy of the header: a new Hessian set replaces the trainer's, never its slices
	need := densityFootprint(t.Model(), hess.N, densitySteps)
	all := t.Footprint().Times(len(e.arms)) // the runs in memory, and the density beside them
	all.Data += need.Data
	all.Parameters += need.Parameters
	all.Eigenspace += need.Eigenspace
	all.Activations += need.Activations
	if err := all.Check("the density with the runs in memory", train.MemoryLimit()); err != nil {
		d.err = err.Error()
		e.log(train.EventError, "density: "+err.Error())
		return
	}
	model, theta, step, seed, wd := t.Model(), t.Theta(), t.StepCount(), t.Config().Seed, t.Config().WeightDecay
	cancel, done := &atomic.Bool{}, &atomic.Int64{}
	d.cancel, d.done, d.err = cancel, done, ""
	gen := d.gen
	hook := d.onProduct
	stopping := &e.stopping
	start := time.Now()
	pace := newPacer(densityDuty, time.Now, time.Sleep)
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		view, err := computeDensity(model, theta, &hess, step, seed, wd, func() bool {
			n := done.Add(1) - 1
			if hook != nil {
				hook(gen, int(n))
			}
			if cancel.Load() || stopping.Load() {
				return true
			}
			pace.rest()
			return cancel.Load() || stopping.Load()
		})
		if err == nil {
			view.Wall = time.Since(start)
		}
		if errors.Is(err, linalg.ErrCanceled) || cancel.Load() {
			return // superseded, reset or stopped: nobody waits for it
		}
		e.push(command{run: func() { e.densityDone(gen, view, err) }})
	}()
}

// densityDuty is the share of the time the density job works: it rests the remainder between
// products, so that beside a training engine on two cores it does not keep the screen and the
// keys waiting for a core. Measured in one run (BenchmarkKeyToScreen and …Density, Zen 5, load
// 3): key to screen p50/p95 of the demo 18/50 ms without a density, 69/111 ms (an earlier run,
// against 17/35) with densities computed back to back at full duty, 24/46 ms at ½; mnist
// 22/101 ms without, 21/43 ms at ½. A density takes twice as long: the demo's about 0.5 s.
const densityDuty = 0.5

// pacer makes a loop work a share duty of the time: rest, called between pieces of work,
// sleeps once the work since the last rest passes pacerSlice, for as long as keeps the share.
type pacer struct {
	duty  float64
	now   func() time.Time
	sleep func(time.Duration)
	since time.Time // the end of the last rest
}

// pacerSlice is how much work goes between rests: a few products, so that a rest is long
// enough for the scheduler to hand the core over.
const pacerSlice = 4 * time.Millisecond

func newPacer(duty float64, now func() time.Time, sleep func(time.Duration)) *pacer {
	return &pacer{duty: duty, now: now, sleep: sleep, since: now()}
}

// pacerMaxRest caps a rest. The work is measured in wall time, which counts the time the job
// was descheduled on a busy machine: uncapped, a long stall would make an uninterruptible
// sleep as long, and quitting waits for the job (found by review).
const pacerMaxRest = 100 * time.Millisecond

// rest sleeps work·(1 − duty)/duty after every pacerSlice of work, at most pacerMaxRest.
func (p *pacer) rest() {
	if p.duty >= 1 {
		return
	}
	work := p.now().Sub(p.since)
	if work < pacerSlice {
		return
	}
	p.sleep(min(pacerMaxRest, time.Duration(float64(work)*(1-p.duty)/p.duty)))
	p.since = p.now()
}

// densityDone installs a job's result, unless a newer job or a reset has come since.
func (e *Engine) densityDone(gen uint64, v *DensityView, err error) {
	d := &e.dens
	if gen != d.gen {
		return
	}
	d.cancel, d.done = nil, nil
	if err != nil {
		d.err = err.Error()
		e.log(train.EventError, "density: "+err.Error())
		return
	}
	d.last = v
}

// computeDensity binds a network at θ on the Hessian set and estimates the density of H
// (+ wd·I, the run's weight decay) with the default probes and steps; cancel is called
// before every product.
func computeDensity(m *nn.MLP, theta []float64, hess *nn.Dataset, step int, seed uint64, wd float64, cancel func() bool) (*DensityView, error) {
	b, err := m.Bind(theta, hess)
	if err != nil {
		return nil, fmt.Errorf("density at step %d: %w", step, err)
	}
	b.SetWeightDecay(wd)
	r, err := train.Density(b, nn.Hessian, train.DensityOptions{Steps: densitySteps, Seed: seed, Cancel: cancel})
	if err != nil {
		return nil, fmt.Errorf("density at step %d: %w", step, err)
	}
	lo, hi := r.Quad.Range()
	return &DensityView{
		Step: step, Lambda: r.Lambda, Density: r.Density, Width: r.Width, Lo: lo, Hi: hi,
		Nodes: r.Quad.Nodes, Weights: r.Quad.Weights,
		Probes: r.Probes, Steps: r.Steps, Products: r.Products,
	}, nil
}

// densityState is the density's part of a snapshot.
func (e *Engine) densityState() DensityState {
	d := &e.dens
	s := DensityState{Last: d.last, Busy: d.cancel != nil, Err: d.err, Every: int(d.every.Load())}
	if d.done != nil {
		s.Done = int(d.done.Load())
	}
	return s
}

// stopDensity cancels the job and waits for its goroutine (Run's end).
func (e *Engine) stopDensity() {
	e.cancelDensity(false)
	e.dens.wg.Wait()
}
