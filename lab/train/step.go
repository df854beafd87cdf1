package train

import (
	"errors"
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/floats"

	"sharpflat/linalg"
	"sharpflat/nn"
)

// newMetrics is a step's metrics with every optional field unmeasured.
func newMetrics(step int) Metrics {
	na := OptNum(math.NaN())
	return Metrics{Step: step, BulkTop: na, BatchSharpness: na, BatchSharpnessStderr: na, UpdateSharpness: na,
		UpdateSharpnessStderr: na, TrainLoss: NA, TrainAcc: NA, TestLoss: NA, TestAcc: NA,
		ChiFullGrad: NA, Overlap: NA, RefreshMS: NA, EnergyH: NA, EnergyHStderr: NA,
		EnergyG: NA, EnergyGStderr: NA, EnergyF: NA, EnergyFStderr: NA}
}

// Step runs one step and returns its metrics:
//
//  1. refresh the eigenspace if due (every T steps) or asked for;
//  2. batch sharpness and the update's batch curvature if due (every
//     batch_sharpness_every steps; measureBatchSharpness);
//  3. the minibatch gradient g at θ (the next minibatch of a seeded epoch order);
//  4. d from g by the update rule in force (Config.Rule: the blend
//     w_dom P_dom g + w_bulk P_bulk g unless Update names another), and χ = ‖P_dom g‖/‖g‖;
//  5. on eval steps, the full-train and test loss at the same θ;
//  6. θ ← θ − η d through the optimizer;
//  7. the divergence check (NaN/Inf, or a minibatch loss above diverge_factor × the first
//     full-train loss): training stops, Diverged says why, and Step returns ErrDiverged
//     until Rollback;
//  8. an automatic checkpoint every keep_every steps while the training loss is within
//     twice its best.
//
// A failed refresh is logged as an error event and the step goes on with the basis it had; a
// refresh stopped by the interrupt (SetInterrupt) ends the step before anything changed, with
// an error wrapping linalg.ErrCanceled.
func (t *Trainer) Step() (Metrics, error) {
	if t.diverged != nil {
		return Metrics{}, ErrDiverged
	}
	c := &t.cfg
	m := newMetrics(t.step + 1)

	due := c.RefreshEvery > 0 && t.step%c.RefreshEvery == 0
	if due || t.pending {
		if err := t.Refresh(); errors.Is(err, linalg.ErrCanceled) {
			return Metrics{}, err // nothing has changed: the step can be taken again
		} else if err != nil {
			t.event(EventError, err.Error())
		} else {
			t.basis.fillMetrics(&m)
		}
	}

	every := c.BatchSharpnessEvery
	if every == 0 && c.Batch > 0 && c.Batch < t.train.N {
		every = t.bsEvery
	}
	if every > 0 && t.step%every == 0 {
		t.measureBatchSharpness(&m)
	}

	// Minibatch gradient at θ.
	batch := &t.train
	if idx := t.nextBatch(); idx != nil {
		t.batchData = t.train.Subset(idx)
		batch = &t.batchData
	}
	if err := t.bindAt(&t.batchBound, batch); err != nil {
		return Metrics{}, err
	}
	g := t.batchBound.Grad() // of the objective: ∇L_B + λθ under weight decay
	m.Loss = Num(t.batchBound.DataLoss())
	m.GradNorm = Num(floats.Norm(g, 2))

	rule := c.Rule()
	chi := rule.Direction(t.dir, g, Subspace{Vectors: t.basis.Vectors, Values: t.basis.Values, Edge: c.StabilityThreshold()})
	m.ChiGrad, m.BulkShare = NA, NA
	if len(t.basis.Vectors) > 0 {
		m.ChiGrad, m.BulkShare = Num(chi), Num(1-chi*chi)
	}

	// Full-train and test metrics on the schedule, at θ before the update (the same point
	// as the minibatch loss).
	if t.step%c.EvalEvery == 0 {
		if err := t.evaluate(&m); err != nil {
			return Metrics{}, err
		}
	}

	t.opt.step(t.theta, t.dir, c)
	t.step++

	m.Sharpness = Num(t.basis.Sharpness())
	if t.extra {
		m.BulkTop = OptNum(t.basis.Next)
	}
	m.BasisStep = t.basis.Step
	m.StabilityThreshold = Num(c.StabilityThreshold())
	// The weights the rule put on v₁ and on the Bulk: a blend's own (w_dom, w_bulk); for a
	// rule that weighs each direction, its weight on v₁, so the felt curvature can be read
	// off the line.
	m.WDom, m.WBulk = rule.Weights(t.basis.Sharpness(), c.StabilityThreshold())
	m.Update = c.Update
	m.Alpha = Num(AlphaOf(m.WDom, m.WBulk))
	m.LR, m.Momentum, m.Optimizer = c.LR, c.Momentum, c.Optimizer
	m.Batch, m.K, m.Refresh = c.Batch, c.K, c.RefreshEvery
	now := time.Now()
	t.rate.tick(now)
	m.StepsPerSec = Num(t.rate.perSec(now))
	m.WallSec = now.Sub(t.start).Seconds()
	t.last = m

	if t.checkDivergence(&m) {
		return m, nil
	}
	if m.TrainLoss.Valid() {
		t.lastTrain = float64(m.TrainLoss)
		if t.bestTrain == 0 || t.lastTrain < t.bestTrain {
			t.bestTrain = t.lastTrain
		}
	}
	// Automatic checkpoints are the "last good" states a rollback returns to: skip them while
	// the training loss is more than twice the best seen (training is going astray).
	if t.step%c.KeepEvery == 0 && t.lastTrain <= 2*t.bestTrain {
		t.keep(WhyAuto)
	}
	return m, nil
}

// Last returns the metrics of the latest step (zero before the first).
func (t *Trainer) Last() Metrics { return t.last }

// nextBatch returns the indices of the next minibatch: epochs of a seeded permutation,
// nil (the full batch) when Batch is 0 or at least N.
func (t *Trainer) nextBatch() []int {
	n := t.train.N
	b := t.cfg.Batch
	if b == 0 || b >= n {
		return nil
	}
	if t.perm == nil || t.pos+b > len(t.perm) {
		t.perm, t.pos = t.rng.Perm(n), 0
	}
	idx := t.perm[t.pos : t.pos+b]
	t.pos += b
	return idx
}

// bindAt evaluates the network at the current θ on data into *slot, reusing the Bound's
// buffers from the previous call. The Bound answers for the run's objective, weight decay
// included, so the step's gradient and every curvature measured on it carry the + λθ and
// the + λI.
func (t *Trainer) bindAt(slot **nn.Bound, data *nn.Dataset) error {
	if *slot == nil {
		b, err := t.Bind(t.theta, data)
		*slot = b
		return err
	}
	(*slot).SetWeightDecay(t.cfg.WeightDecay)
	return (*slot).Rebind(t.theta, data)
}

// Bind evaluates the network at θ on data as the run's objective: the data loss plus the
// penalty of Config.WeightDecay (nn.Bound.SetWeightDecay). Whoever measures curvature for a
// trainer binds through here, so the eigenvalues, energies and densities include the λI.
func (t *Trainer) Bind(theta []float64, data *nn.Dataset) (*nn.Bound, error) {
	b, err := t.model.Bind(theta, data)
	if err != nil {
		return nil, err
	}
	b.SetWeightDecay(t.cfg.WeightDecay)
	return b, nil
}

// evaluate fills the full-train and test metrics and χ of the full-train gradient.
func (t *Trainer) evaluate(m *Metrics) error {
	if err := t.bindAt(&t.trainBound, &t.train); err != nil {
		return err
	}
	m.TrainLoss, m.TrainAcc = Num(t.trainBound.DataLoss()), NA
	if t.train.Classes > 0 {
		m.TrainAcc = Num(t.trainBound.Accuracy())
	}
	if len(t.basis.Vectors) > 0 {
		m.ChiFullGrad = Num(linalg.Alignment(t.basis.Vectors, t.trainBound.Grad()))
	}
	if t.test.N > 0 {
		l, a, err := t.model.Evaluate(t.theta, &t.test)
		if err != nil {
			return err
		}
		m.TestLoss = Num(l)
		if t.test.Classes > 0 {
			m.TestAcc = Num(a)
		}
	}
	return nil
}

// checkDivergence looks for a NaN/Inf or exploding loss or a non-finite θ after the step;
// on divergence it records why and emits an event with the numbers.
func (t *Trainer) checkDivergence(m *Metrics) bool {
	l := float64(m.Loss)
	if t.refLoss == 0 && m.TrainLoss.Valid() {
		t.refLoss = float64(m.TrainLoss) // the first full-train loss of the run
	}
	var reason string
	switch {
	case math.IsNaN(l) || math.IsInf(l, 0):
		reason = "non-finite loss"
	case t.refLoss > 0 && l > t.cfg.DivergeFactor*t.refLoss:
		reason = fmt.Sprintf("loss above %g× the first training loss %.4g", t.cfg.DivergeFactor, t.refLoss)
	case !finite(t.theta):
		reason = "non-finite θ"
	default:
		return false
	}
	d := &Divergence{Step: m.Step, Loss: m.Loss, Sharpness: m.Sharpness, Threshold: m.StabilityThreshold,
		ThresholdName: t.cfg.ThresholdName(), Reason: reason}
	t.diverged = d
	t.events = append(t.events, Event{Step: t.step, Time: time.Now(), Kind: EventDivergence,
		Text: d.Summary() + " (" + reason + ")", Divergence: d})
	return true
}

func finite(x []float64) bool {
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// Evaluate returns the loss and accuracy (NaN for regression) of the current θ on the
// training and the test set.
func (t *Trainer) Evaluate() (trainLoss, trainAcc, testLoss, testAcc float64, err error) {
	trainAcc, testLoss, testAcc = math.NaN(), math.NaN(), math.NaN()
	l, a, err := t.model.Evaluate(t.theta, &t.train)
	if err != nil {
		return l, trainAcc, testLoss, testAcc, err
	}
	trainLoss = l
	if t.train.Classes > 0 {
		trainAcc = a
	}
	if t.test.N > 0 {
		l, a, err := t.model.Evaluate(t.theta, &t.test)
		if err != nil {
			return trainLoss, trainAcc, testLoss, testAcc, err
		}
		testLoss = l
		if t.test.Classes > 0 {
			testAcc = a
		}
	}
	return trainLoss, trainAcc, testLoss, testAcc, nil
}

// Probe computes the top-k eigenvalues of H on the Hessian set at the current θ by a cold
// Lanczos run (independent of the basis in use), with their residuals; H + λI under weight
// decay, as every curvature of the run.
func (t *Trainer) Probe(k int) (values, residuals []float64, err error) {
	b, err := t.Bind(t.theta, &t.hess)
	if err != nil {
		return nil, nil, err
	}
	r, err := Curvature(b, CurvatureOptions{K: k, Tol: t.cfg.Tol, Seed: t.cfg.Seed, Cancel: t.interrupt})
	return r.Values, r.Residuals, err
}
