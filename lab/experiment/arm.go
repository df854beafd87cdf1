package experiment

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"sharpflat/lab/rundir"
	"sharpflat/lab/train"
)

// runWarmup trains group g's warm-up into its run directory and publishes it with the
// checkpoint at the switch.
func runWarmup(ctx context.Context, dir string, g *Group, prog *progress) (*train.Checkpoint, WarmupResult, error) {
	t0 := time.Now()
	path := armDir(dir, g.Name, "warmup")
	t, err := train.New(g.Config)
	if err != nil {
		return nil, WarmupResult{}, fmt.Errorf("group %s: %v", g.Name, err)
	}
	interruptOn(ctx, t)
	t.SetExtraPair(g.BulkTop)
	p, err := newPartial(path)
	if err != nil {
		return nil, WarmupResult{}, err
	}
	rd, err := rundir.Create(p.path, g.Config)
	if err != nil {
		return nil, WarmupResult{}, err
	}
	fail := func(err error) (*train.Checkpoint, WarmupResult, error) {
		rd.Close(nil, nil, 0)
		p.discard()
		return nil, WarmupResult{}, err
	}
	cost := stepCost(g.Config)
	var recErr error
	_, err = train.Drive(ctx, []*train.Trainer{t}, train.DriveOptions{
		Until: func(_ int, t *train.Trainer) bool { return t.StepCount() >= g.Warmup },
		Record: func(_ int, m *train.Metrics, ev []train.Event) error {
			recErr = record(rd, m, ev)
			return recErr
		},
		After: func(int, *train.Trainer, *train.Metrics) error { prog.addCost(cost); return nil },
	})
	switch {
	case ctx.Err() != nil:
		return fail(ctx.Err()) // a refresh stopped by a signal: the step changed nothing
	case err != nil && err == recErr:
		return fail(err)
	case err != nil:
		return fail(fmt.Errorf("group %s warm-up: %v", g.Name, err))
	}
	if t.Diverged() != nil {
		rd.Close(t.Model(), t.Theta(), t.StepCount())
		return nil, WarmupResult{}, fmt.Errorf("group %s: the warm-up diverged (see %s/events.jsonl): lower --lr", g.Name, p.path)
	}
	point, err := measurePoint(t, g.Probe)
	if ctx.Err() != nil {
		return fail(ctx.Err())
	}
	if err != nil {
		return fail(fmt.Errorf("group %s warm-up: %v", g.Name, err))
	}
	if err := rd.Close(t.Model(), t.Theta(), t.StepCount()); err != nil {
		return fail(err)
	}
	cp := t.Save(train.WhySwitch)
	if err := writeCheckpoint(p.path, cp); err != nil {
		return fail(err)
	}
	res := WarmupResult{Group: g.Name, Steps: g.Warmup, Point: point, WallS: time.Since(t0).Seconds()}
	if err := p.publish(res); err != nil {
		return fail(err)
	}
	return cp, res, nil
}

// interruptOn makes t's long computations (a refresh, a probe of the spectrum) stop within
// one Hessian-vector product of ctx's end: a signal to an experiment is answered within a
// product, not after a refresh that may take minutes (the Song protocol). An arm or warm-up
// so stopped is discarded whole and run again on the next invocation.
func interruptOn(ctx context.Context, t *train.Trainer) {
	t.SetInterrupt(func() bool { return ctx.Err() != nil })
}

// record writes a step and the events since the last one.
func record(rd *rundir.Writer, m *train.Metrics, ev []train.Event) error {
	if err := rd.Record(m); err != nil {
		return fmt.Errorf("recording step %d: %w", m.Step, err)
	}
	return rd.Events(ev)
}

// runArm runs arm a of group g from the warm-up's checkpoint cp into its run directory and
// publishes it with its summary.
//
// At the switch the arm's settings come into force (Trainer.Apply: a new batch size starts a
// new epoch order, a new k asks for a requested refresh) and the basis is recomputed for
// them at the switch point (Trainer.Refresh); the first step then refreshes again if it is
// on the schedule.
func runArm(ctx context.Context, dir string, g *Group, a *Arm, cp *train.Checkpoint, start PointResult, prog *progress) (ArmResult, error) {
	t0 := time.Now()
	name := g.Name + "/" + a.Name
	t, err := train.Restore(cp)
	if err != nil {
		return ArmResult{}, fmt.Errorf("arm %s: %v", name, err)
	}
	interruptOn(ctx, t)
	t.SetExtraPair(g.BulkTop)
	if err := t.Apply(a.Config); err != nil {
		return ArmResult{}, fmt.Errorf("arm %s: %v", name, err)
	}
	p, err := newPartial(armDir(dir, g.Name, a.Name))
	if err != nil {
		return ArmResult{}, err
	}
	rd, err := rundir.Create(p.path, a.Config)
	if err != nil {
		return ArmResult{}, err
	}
	fail := func(err error) (ArmResult, error) {
		rd.Close(nil, nil, 0)
		p.discard()
		return ArmResult{}, err
	}
	if err := t.Refresh(); ctx.Err() != nil {
		return fail(ctx.Err())
	} else if err != nil {
		t.TakeEvents()
		rd.Event(train.Event{Step: t.StepCount(), Time: time.Now(), Kind: train.EventError, Text: err.Error()})
	}
	if err := rd.Events(t.TakeEvents()); err != nil {
		return fail(err)
	}
	var st armStats
	st.reset()
	cost := stepCost(a.Config)
	end := t.StepCount() + a.Steps
	var dens []densityPoint
	densityAt := func() error {
		step := t.StepCount() - g.Warmup
		if !slices.Contains(a.DensityAt, step) || t.Diverged() != nil || !finite(t.Theta()) {
			return nil
		}
		pt, err := measureDensity(t, step, func() bool { return ctx.Err() != nil })
		if err != nil {
			return fmt.Errorf("density at step %d: %w", step, err)
		}
		dens = append(dens, pt)
		return nil
	}
	if err := densityAt(); ctx.Err() != nil {
		return fail(ctx.Err())
	} else if err != nil {
		return fail(fmt.Errorf("arm %s: %w", name, err))
	}
	var recErr error
	_, err = train.Drive(ctx, []*train.Trainer{t}, train.DriveOptions{
		Until: func(_ int, t *train.Trainer) bool { return t.StepCount() >= end },
		Record: func(_ int, m *train.Metrics, ev []train.Event) error {
			recErr = record(rd, m, ev)
			return recErr
		},
		After: func(_ int, _ *train.Trainer, m *train.Metrics) error {
			st.add(m)
			prog.addCost(cost)
			return densityAt()
		},
	})
	switch {
	case ctx.Err() != nil:
		return fail(ctx.Err()) // a refresh stopped by a signal: the step changed nothing
	case err != nil && err == recErr:
		return fail(err)
	case err != nil:
		return fail(fmt.Errorf("arm %s: %v", name, err))
	}
	if len(dens) > 0 {
		if err := writeDensity(p.path, dens); err != nil {
			return fail(err)
		}
	}
	res := ArmResult{Group: g.Name, Arm: *a, Seed: g.Config.Seed, Loss: g.Config.Loss.String(), Start: start,
		Steps: t.StepCount() - g.Warmup, P: t.Model().NumParams()}
	if d := t.Diverged(); d != nil {
		res.Diverg = d.Step
	}
	res.End, err = measurePoint(t, a.Probe)
	if err != nil {
		return fail(fmt.Errorf("arm %s: %v", name, err))
	}
	if err := rd.Close(t.Model(), t.Theta(), t.StepCount()); err != nil {
		return fail(err)
	}
	res.MaxTrainLoss = train.Num(nanMax(st.maxTrain, float64(res.End.TrainLoss)))
	res.MaxBatchLoss = train.Num(st.maxBatch)
	res.MeanChi = train.NA
	if st.chiN > 0 {
		res.MeanChi = train.Num(st.chiSum / float64(st.chiN))
	}
	res.FinalSharpness, res.MaxSharpness = train.Num(st.lastSharp), train.Num(st.maxSharp)
	res.WallS = time.Since(t0).Seconds()
	if err := p.publish(res); err != nil {
		return fail(err)
	}
	return res, nil
}

// armStats are the running summaries of an arm's steps.
type armStats struct {
	maxTrain, maxBatch  float64
	chiSum              float64
	chiN                int
	lastSharp, maxSharp float64
}

func (s *armStats) reset() {
	nan := math.NaN()
	*s = armStats{maxTrain: nan, maxBatch: nan, lastSharp: nan, maxSharp: nan}
}

func (s *armStats) add(m *train.Metrics) {
	if m.Loss.Valid() {
		s.maxBatch = nanMax(s.maxBatch, float64(m.Loss))
	}
	if m.TrainLoss.Valid() {
		s.maxTrain = nanMax(s.maxTrain, float64(m.TrainLoss))
	}
	if m.Refreshed && m.ChiGrad.Valid() {
		s.chiSum += float64(m.ChiGrad)
		s.chiN++
	}
	if m.Sharpness.Valid() {
		s.lastSharp = float64(m.Sharpness)
		s.maxSharp = nanMax(s.maxSharp, s.lastSharp)
	}
}

func nanMax(a, b float64) float64 {
	if math.IsNaN(a) || b > a || math.IsInf(b, 1) {
		return b
	}
	return a
}

// measurePoint evaluates θ on the training and test sets and, if probe > 0, the top-probe
// eigenvalues of the Hessian on the Hessian set (a cold Lanczos run).
func measurePoint(t *train.Trainer, probe int) (PointResult, error) {
	pr := PointResult{Step: t.StepCount(), TrainLoss: train.NA, TestLoss: train.NA, TrainAcc: train.NA, TestAcc: train.NA}
	trainLoss, trainAcc, testLoss, testAcc, err := t.Evaluate()
	if err != nil {
		return pr, err
	}
	pr.TrainLoss, pr.TrainAcc = train.Num(trainLoss), train.Num(trainAcc)
	pr.TestLoss, pr.TestAcc = train.Num(testLoss), train.Num(testAcc)
	if probe > 0 && finite(t.Theta()) && !math.IsNaN(trainLoss) && !math.IsInf(trainLoss, 0) {
		pr.Spectrum, pr.Residuals, err = t.Probe(probe)
		if err != nil {
			return pr, err
		}
	}
	return pr, nil
}

func finite(x []float64) bool {
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// stepCost is a rough relative cost of one step, for the ETA: a refresh costs about k·|S|/64
// batch-32 gradients (the warm-started solver's products on the Hessian set).
func stepCost(c train.Config) float64 {
	hess := float64(c.HessianSet)
	if hess == 0 {
		hess = float64(c.N) * (1 - c.TestFrac)
	}
	batch := float64(c.Batch)
	if batch == 0 {
		batch = hess
	}
	cost := batch / 32
	if c.RefreshEvery > 0 {
		cost += 0.5 * float64(c.K) * hess / 32 / float64(c.RefreshEvery)
	}
	return cost
}
