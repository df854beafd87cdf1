package lab

import (
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/floats"

	"sharpflat/linalg"
	"sharpflat/nn"
)

// nextBatch returns the indices of the next minibatch: epochs of a seeded permutation,
// a full batch when Batch is 0 or at least N.
func (e *Engine) nextBatch() []int {
	n := e.train.N
	b := e.cfg.Batch
	if b == 0 || b >= n {
		return nil
	}
	if e.perm == nil || e.pos+b > len(e.perm) {
		e.perm, e.pos = e.rng.Perm(n), 0
	}
	idx := e.perm[e.pos : e.pos+b]
	e.pos += b
	return idx
}

// trainStep runs one step: refresh if due, minibatch gradient, projected update, metrics.
func (e *Engine) trainStep() error {
	c := &e.cfg
	m := Metrics{Step: e.step + 1, TrainLoss: NA, TrainAcc: NA, TestLoss: NA, TestAcc: NA,
		ChiFullGrad: NA, Overlap: NA, RefreshMS: NA, EnergyH: NA, EnergyHStderr: NA,
		EnergyG: NA, EnergyGStderr: NA, EnergyF: NA, EnergyFStderr: NA}

	if e.opts.SwitchAt > 0 && e.step == e.opts.SwitchAt {
		c.WDom, c.WBulk = e.opts.SwitchWDom, e.opts.SwitchWBulk
		e.setting("switched at step %d to w_dom %.3g, w_bulk %.3g", e.step, c.WDom, c.WBulk)
	}
	due := c.RefreshEvery > 0 && e.step%c.RefreshEvery == 0
	if due || e.wantFresh {
		why := "scheduled"
		if e.wantFresh {
			why = "on request"
		}
		if err := e.refresh(why); err != nil {
			e.event("error", err.Error())
		} else {
			e.fillRefresh(&m)
		}
	}

	// Minibatch gradient at θ.
	batch := &e.train
	if idx := e.nextBatch(); idx != nil {
		e.batchData = e.train.Subset(idx)
		batch = &e.batchData
	}
	if err := e.bindAt(&e.batchBound, batch); err != nil {
		return err
	}
	g := e.batchBound.Grad()
	m.Loss = Num(e.batchBound.Loss())
	m.GradNorm = Num(floats.Norm(g, 2))

	chi := direction(e.dir, g, e.basis.vectors, c.WDom, c.WBulk)
	m.ChiGrad, m.BulkShare = NA, NA
	if len(e.basis.vectors) > 0 {
		m.ChiGrad, m.BulkShare = Num(chi), Num(1-chi*chi)
	}

	// Full-train and test metrics on the schedule, at θ before the update (same point as
	// the minibatch loss).
	if e.step%c.EvalEvery == 0 {
		if err := e.evaluate(&m); err != nil {
			return err
		}
	}

	e.opt.step(e.theta, e.dir, c)
	e.step++

	m.Sharpness = NA
	if len(e.basis.values) > 0 {
		m.Sharpness = Num(e.basis.values[0])
	}
	m.StabilityThreshold = Num(c.StabilityThreshold())
	m.Alpha = Num(c.Alpha())
	m.WDom, m.WBulk, m.LR, m.Momentum, m.Optimizer = c.WDom, c.WBulk, c.LR, c.Momentum, c.Optimizer
	m.Batch, m.K, m.Refresh = c.Batch, c.K, c.RefreshEvery
	e.rate.tick(time.Now())
	m.StepsPerSec = Num(e.rate.perSec())
	m.WallSec = time.Since(e.start).Seconds()

	e.last = m
	e.history.Add(&m)
	if e.opts.Recorder != nil {
		if err := e.opts.Recorder.Record(&m); err != nil {
			return fmt.Errorf("recording step %d: %w", m.Step, err)
		}
	}
	if e.diverged(&m) {
		return nil
	}
	if m.TrainLoss.Valid() {
		e.lastTrain = float64(m.TrainLoss)
		if e.bestTrain == 0 || e.lastTrain < e.bestTrain {
			e.bestTrain = e.lastTrain
		}
	}
	// Automatic checkpoints are the "last good" states a rollback returns to: skip them while
	// the training loss is more than twice the best seen (training is going astray).
	if e.step%c.KeepEvery == 0 && e.lastTrain <= 2*e.bestTrain {
		e.keep("auto")
	}
	return nil
}

// bindAt evaluates the network at the current θ on data into *slot, reusing the Bound's
// buffers from the previous call.
func (e *Engine) bindAt(slot **nn.Bound, data *nn.Dataset) error {
	if *slot == nil {
		b, err := e.model.Bind(e.theta, data)
		*slot = b
		return err
	}
	return (*slot).Rebind(e.theta, data)
}

// evaluate fills the full-train and test metrics and χ of the full-train gradient.
func (e *Engine) evaluate(m *Metrics) error {
	if err := e.bindAt(&e.trainBound, &e.train); err != nil {
		return err
	}
	m.TrainLoss, m.TrainAcc = Num(e.trainBound.Loss()), NA
	if e.train.Classes > 0 {
		m.TrainAcc = Num(e.trainBound.Accuracy())
	}
	if len(e.basis.vectors) > 0 {
		m.ChiFullGrad = Num(linalg.Alignment(e.basis.vectors, e.trainBound.Grad()))
	}
	if e.test.N > 0 {
		l, a, err := e.model.Evaluate(e.theta, &e.test)
		if err != nil {
			return err
		}
		m.TestLoss = Num(l)
		if e.test.Classes > 0 {
			m.TestAcc = Num(a)
		}
	}
	return nil
}

// diverged checks the step for a NaN/Inf or exploding loss or non-finite θ; on divergence it
// pauses the engine and emits an event naming the step, λ₁ and 2/η.
func (e *Engine) diverged(m *Metrics) bool {
	l := float64(m.Loss)
	if e.refLoss == 0 && m.TrainLoss.Valid() {
		e.refLoss = float64(m.TrainLoss) // the first full-train loss of the run
	}
	bad := math.IsNaN(l) || math.IsInf(l, 0) || (e.refLoss > 0 && l > e.cfg.DivergeFactor*e.refLoss)
	if !bad {
		for _, v := range e.theta {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				bad = true
				break
			}
		}
	}
	if !bad {
		return false
	}
	e.state, e.divergedAt = Diverged, m.Step
	if e.stopOnDiverge != nil {
		e.stopOnDiverge()
	}
	e.event("divergence", fmt.Sprintf("diverged at step %d: loss %.4g, λ₁ %.4g, %s %.4g — press u to roll back",
		m.Step, l, float64(m.Sharpness), e.cfg.ThresholdName(), float64(m.StabilityThreshold)))
	return true
}
