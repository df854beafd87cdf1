package lab

// The engine's commands. Each returns at once; the work happens on the engine's goroutine at
// the next step boundary. Settings coalesce: a setting asked for again before the boundary
// replaces the value still waiting, so a held key never queues work.

import (
	"errors"
	"fmt"
	"math"

	"sharpflat/lab/train"
	"sharpflat/linalg"
)

// setting queues a change of the settings, coalesced under key. It takes effect at the next
// step boundary: a refresh in progress finishes first (the change does not affect it).
func (e *Engine) setting(key string, change func(c *train.Config)) {
	e.enqueue(key, e.applying(change))
}

// interruptingSetting is a setting that changes the refresh itself (k, the Hessian set): a
// refresh in progress stops and starts again with it.
func (e *Engine) interruptingSetting(key string, change func(c *train.Config)) {
	e.interrupting(key, e.applying(change))
}

// applying is a setting's change, acting on the focused arm (or on every arm of a race, see
// ActOnAll).
func (e *Engine) applying(change func(c *train.Config)) func() {
	return func() {
		for _, a := range e.targets() {
			c := a.t.Config()
			old := c
			change(&c)
			if err := a.t.Apply(c); err != nil {
				e.log(train.EventError, err.Error())
				continue
			}
			if !train.SameRule(c.Rule(), old.Rule()) {
				a.history.AddMark(Mark{Step: a.t.StepCount(), Kind: MarkUpdate, Label: c.Rule().Label()})
			}
		}
	}
}

// SetAlpha moves the slider: (w_dom, w_bulk) = Weights(α).
func (e *Engine) SetAlpha(alpha float64) {
	e.setting("weights", func(c *train.Config) {
		d, b := train.Weights(alpha)
		c.SetRule(train.Blend{Dom: d, Bulk: b})
	})
}

// SetWeights sets (w_dom, w_bulk) directly (each clamped to [0, 10]).
func (e *Engine) SetWeights(wDom, wBulk float64) {
	e.setting("weights", func(c *train.Config) { c.SetRule(train.Blend{Dom: clamp(wDom, 0, 10), Bulk: clamp(wBulk, 0, 10)}) })
}

// SetLR sets η (> 0; other values are ignored).
func (e *Engine) SetLR(lr float64) {
	if !(lr > 0) || math.IsInf(lr, 0) {
		return
	}
	e.setting("lr", func(c *train.Config) { c.LR = lr })
}

// SetMomentum sets β (clamped to [0, 0.999]).
func (e *Engine) SetMomentum(beta float64) {
	e.setting("momentum", func(c *train.Config) { c.Momentum = clamp(beta, 0, 0.999) })
}

// SetOptimizer switches between SGD (heavy ball) and Adam; the optimizer state restarts.
func (e *Engine) SetOptimizer(kind train.Optimizer) {
	e.setting("optimizer", func(c *train.Config) { c.Optimizer = kind })
}

// SetBatch sets the minibatch size (0: full batch).
func (e *Engine) SetBatch(n int) {
	e.setting("batch", func(c *train.Config) { c.Batch = max(0, n) })
}

// MaxK is the largest subspace size the lab's commands set. The eigensolver's dense step
// grows as k³ and cannot be interrupted between products (at k ≈ 450 on the demo net it takes
// 0.2–0.45 s), so a held K must stop well before P for the lab to stay live; the Dominant
// subspace of interest is about the number of classes. A larger k can still be given on the
// command line.
const MaxK = 100

// SetK sets the Dominant subspace size (clamped to 1…min(MaxK, P−1)) and refreshes at the
// next step.
func (e *Engine) SetK(k int) {
	e.interruptingSetting("k", func(c *train.Config) { c.K = max(1, min(k, MaxK, e.t.Model().NumParams()-1)) })
}

// SetRefresh sets the refresh period T (0: only on request).
func (e *Engine) SetRefresh(t int) {
	e.setting("refresh", func(c *train.Config) { c.RefreshEvery = max(0, t) })
}

// SetHessianSet sets |S| (0: all of the training set up to 2048) and refreshes at the next
// step.
func (e *Engine) SetHessianSet(n int) {
	e.interruptingSetting("hessian-set", func(c *train.Config) { c.HessianSet = max(0, n) })
}

// Recompute refreshes the eigenspace (a requested refresh: explicit residuals, the G/F
// split) before the next step, or at once when the engine is not running.
func (e *Engine) Recompute() {
	e.interrupting("recompute", func() {
		for _, a := range e.targets() {
			a.t.RequestRefresh()
			a.recompute = e.state != Running
		}
		if e.state == Running {
			return
		}
		e.refreshPaused()
	})
}

// refreshPaused refreshes the basis of a paused engine now. A refresh stopped by a command
// queued behind it has changed nothing; it is taken again once the queue is empty (Run),
// so a key pressed during it never loses the recompute.
func (e *Engine) refreshPaused() {
	e.refreshOwed = false
	if e.race != nil && e.forkRefresh() {
		return
	}
	for _, a := range e.arms {
		if e.race != nil && !a.recompute {
			continue // in a race, the arms asked to (one stopped midway is taken again)
		}
		err := a.t.Refresh()
		switch {
		case errors.Is(err, linalg.ErrCanceled):
			e.interrupted++
			e.refreshOwed = true
			return
		case err != nil:
			e.log(train.EventError, err.Error())
		}
		a.recompute = false
	}
}

// Pause stops training at the next step boundary.
func (e *Engine) Pause() {
	e.interrupting("", func() {
		if e.state == Running {
			e.state = Paused
			e.log(train.EventCommand, fmt.Sprintf("paused at step %d", e.t.StepCount()))
		}
	})
}

// Resume continues training after a pause (not after a divergence: roll back first).
func (e *Engine) Resume() {
	e.enqueue("", func() {
		if e.state == Paused {
			e.state, e.stepBudget = Running, -1
			e.log(train.EventCommand, "resumed")
		}
	})
}

// TogglePause pauses a running engine and resumes a paused one.
func (e *Engine) TogglePause() {
	e.interrupting("", func() {
		switch e.state {
		case Running:
			e.state = Paused
			e.log(train.EventCommand, fmt.Sprintf("paused at step %d", e.t.StepCount()))
		case Paused:
			e.state, e.stepBudget = Running, -1
			e.log(train.EventCommand, "resumed")
		}
	})
}

// Hold stops training while on, whatever the state (which it keeps): a classroom's engine
// is held while no teacher is connected.
func (e *Engine) Hold(on bool) {
	// Never dropped, whatever the queue holds: a class must not train without its teacher.
	e.push(command{run: func() {
		if e.held != on {
			e.held = on
			word := "released: training may go on"
			if on {
				word = "held: no training until someone who may steer connects"
			}
			e.log(train.EventCommand, word)
		}
	}, interrupt: true})
}

// StepN runs n steps and pauses (from the paused state).
func (e *Engine) StepN(n int) {
	e.enqueue("", func() {
		if e.state == Paused && n > 0 {
			e.state, e.stepBudget = Running, n
		}
	})
}

// Reset restarts training from a fresh initialisation with the current settings and the
// given seed (0 keeps the current seed). A paused engine stays paused.
func (e *Engine) Reset(seed uint64) {
	e.interrupting("reset", func() {
		c := e.t.Config()
		if seed != 0 {
			c.Seed = seed
		}
		if e.restart(c) {
			e.endLesson() // a fresh start is not the lesson's run any more
			e.log(train.EventCommand, fmt.Sprintf("reset (seed %d)", c.Seed))
		}
	})
}

// LoadPreset switches to another preset and restarts.
func (e *Engine) LoadPreset(name string) {
	e.interrupting("reset", func() {
		c, err := train.Preset(name)
		if err != nil {
			e.log(train.EventError, err.Error())
			return
		}
		if e.restart(c) {
			e.endLesson()
			e.log(train.EventCommand, "preset "+name)
		}
	})
}

// Setup starts a fresh run of c: the setup panel's enter, a configuration edited as a whole
// (data, network, optimizer). Like a preset it ends a lesson and a race; a configuration
// New refuses (a bad setting, data it cannot build, more memory than the limit) is logged
// and the run in force goes on.
func (e *Engine) Setup(c train.Config) {
	e.interrupting("reset", func() {
		if e.restart(c) {
			e.endLesson()
			e.log(train.EventCommand, "setup: a fresh run of "+c.Preset+" with the panel's settings")
		}
	})
}

// restart replaces the trainer by a new one for c; on failure it logs the error and keeps
// the old one.
func (e *Engine) restart(c train.Config) bool {
	t, err := e.newTrainer(c)
	if err != nil {
		e.log(train.EventError, err.Error())
		return false
	}
	e.install(t, NewHistory())
	// The density belonged to the run replaced.
	e.cancelDensity(true)
	if e.state != Paused { // a reset while paused stays paused; otherwise it trains
		e.state = Running
	}
	e.stepBudget = -1
	return true
}

// Checkpoint keeps the current state for a later Rollback.
func (e *Engine) Checkpoint() {
	e.interrupting("", func() {
		for _, a := range e.targets() {
			a.t.Checkpoint()
		}
	})
}

// Rollback returns to the user's newest checkpoint at or before the current step, else to
// the newest checkpoint taken before the current step (or the newest of all if none is
// older), pausing the engine there. The settings in force stay. The history loses what came
// after and gains a rollback mark at the step returned to.
func (e *Engine) Rollback() {
	e.interrupting("", func() {
		for _, a := range e.targets() {
			if e.rollback(a) {
				e.state, e.stepBudget = Paused, -1
			}
		}
	})
}

func clamp(x, lo, hi float64) float64 {
	if math.IsNaN(x) {
		return lo
	}
	return math.Max(lo, math.Min(hi, x))
}
