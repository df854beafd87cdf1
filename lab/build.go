package lab

// Building and restoring the engine's trainers, in one place: every trainer the engine
// drives is set up the same way (λ_{k+1} for the felt curvature, the interrupt hook), and
// every rollback truncates and marks its history the same way.

import "sharpflat/lab/train"

// newTrainer builds a trainer for c, set up for the engine.
func (e *Engine) newTrainer(c train.Config) (*train.Trainer, error) {
	t, err := train.New(c)
	if err != nil {
		return nil, err
	}
	e.own(t)
	return t, nil
}

// restoreTrainer builds a trainer from cp, set up for the engine, with kept as its rollback
// targets (nil: cp alone, as train.Restore leaves it).
func (e *Engine) restoreTrainer(cp *train.Checkpoint, kept []*train.Checkpoint) (*train.Trainer, error) {
	t, err := train.Restore(cp)
	if err != nil {
		return nil, err
	}
	if kept != nil {
		t.SetKept(kept)
	}
	e.own(t)
	return t, nil
}

// DefaultBatchSharpnessEvery is the lab's period of batch sharpness on minibatches, in steps,
// when the Config sets none: 32 minibatch HVPs (64 under a projected update) every 10 steps,
// about 1% of a demo step's time (BENCHMARKS.md), for a felt curvature that is the update's
// batch curvature λ_d, the gauge that matters under SGD.
const DefaultBatchSharpnessEvery = 10

// own sets a trainer up for the engine: refreshes compute λ_{k+1} for the felt curvature,
// minibatch runs estimate batch sharpness (headless runs and experiments leave both off),
// and the engine may stop a refresh.
func (e *Engine) own(t *train.Trainer) {
	t.SetExtraPair(!e.opts.NoBulkTop)
	if !e.opts.NoBatchSharpness {
		t.SetBatchSharpnessEvery(DefaultBatchSharpnessEvery)
	}
	t.SetInterrupt(e.beforeProduct)
}

// install makes t, with its history h, the lab's one run; a race in progress ends without
// keeping any of its arms.
func (e *Engine) install(t *train.Trainer, h *History) {
	e.t, e.history = t, h
	e.arms, e.focus, e.race, e.roundSteps = []*arm{{t: t, history: h}}, 0, nil, nil
}

// rollback returns arm a to its checkpoint (see train.Trainer.Rollback): the history loses
// what came after and gains a rollback mark naming the update the new branch trains with.
// It reports whether the arm rolled back.
func (e *Engine) rollback(a *arm) bool {
	from := a.t.StepCount()
	if a.t.Rollback() != nil {
		return false
	}
	c := a.t.Config()
	a.history.Rollback(a.t.StepCount(), from, c.Rule().Label())
	a.owed = false
	if a.t == e.t {
		e.cancelDensity(true) // of a θ the run has left
	}
	return true
}
