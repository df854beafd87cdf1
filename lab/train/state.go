package train

import (
	"slices"
	"time"
)

// State is a copy of the trainer's state for display: nothing in it is shared with the
// trainer, and the basis vectors are left out.
type State struct {
	Config      Config
	Data        string // the data sets, e.g. "gaussian (1000 train, 500 test)"
	Arch        string // e.g. "20-16-16-10 tanh"
	P           int    // parameters
	Step        int
	Rate        float64 // steps per second, recent
	Last        Metrics // the latest step (zero before the first)
	Basis       Eigenspace
	Diverged    *Divergence // nil unless training diverged
	Checkpoints []int       // steps of the checkpoints available for rollback
	RollbackTo  int         // the step Rollback returns to (-1: none)
	RollbackWhy string      // its checkpoint's Why: "manual", "auto", "start" (CheckpointName words it)
	Threshold   float64     // the stability threshold in force (NaN for Adam)
}

// State returns a copy of the state.
func (t *Trainer) State() State {
	s := State{
		Config: t.Config(), Data: t.dataDesc, Arch: t.model.String(), P: t.model.NumParams(),
		Step: t.step, Rate: t.rate.perSec(time.Now()), Last: t.last.Clone(), Basis: t.basis.WithoutVectors(),
		Checkpoints: t.Checkpoints(), RollbackTo: t.RollbackTarget(), RollbackWhy: t.RollbackWhy(), Threshold: t.cfg.StabilityThreshold(),
	}
	if t.diverged != nil {
		d := *t.diverged
		s.Diverged = &d
	}
	return s
}

// Clone returns a copy of m that shares no slice with it.
func (m Metrics) Clone() Metrics {
	m.Spectrum, m.Residuals = slices.Clone(m.Spectrum), slices.Clone(m.Residuals)
	m.GGNRayleigh, m.FuncRayleigh = slices.Clone(m.GGNRayleigh), slices.Clone(m.FuncRayleigh)
	return m
}
