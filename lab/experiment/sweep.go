package experiment

import (
	"errors"
	"fmt"
	"math"

	"sharpflat/nn"
)

// Sweep holds the values an experiment sweeps. Zero values (nil lists, Warmup < 0, Steps 0)
// take the experiment's defaults (ExperimentDefaults).
type Sweep struct {
	Seeds     []uint64
	Losses    []nn.Loss
	LRs       []float64 // η of the arms
	Ks        []int
	Refreshes []int
	Batches   []int     // 0: full batch
	Alphas    []float64 // slider positions (alpha)
	WBulks    []float64 // extra arms (w_dom, w_bulk) = (0, w) and (1, w) for w > 1 (alpha)
	Warmup    int       // steps before the switch; < 0: default
	Steps     int       // steps of each arm; 0: default
	Target    float64   // alpha: loss target as a fraction of the loss at the switch; 0: default
	Quick     bool      // defaults of the fast variant
	BulkTop   bool      // compute λ_{k+1} at every refresh, as the lab does (Group.BulkTop)
}

// fill replaces the zero fields of s by d's.
func (s Sweep) fill(d Sweep) Sweep {
	if s.Seeds == nil {
		s.Seeds = d.Seeds
	}
	if s.Losses == nil {
		s.Losses = d.Losses
	}
	if s.LRs == nil {
		s.LRs = d.LRs
	}
	if s.Ks == nil {
		s.Ks = d.Ks
	}
	if s.Refreshes == nil {
		s.Refreshes = d.Refreshes
	}
	if s.Batches == nil {
		s.Batches = d.Batches
	}
	if s.Alphas == nil {
		s.Alphas = d.Alphas
	}
	if s.WBulks == nil {
		s.WBulks = d.WBulks
	}
	if s.Warmup < 0 {
		s.Warmup = d.Warmup
	}
	if s.Steps == 0 {
		s.Steps = d.Steps
	}
	if s.Target == 0 {
		s.Target = d.Target
	}
	return s
}

func (s *Sweep) validate() error {
	for _, l := range s.Losses {
		if l != nn.CrossEntropy && l != nn.MSE {
			return fmt.Errorf("--losses: %q (allowed: ce, mse)", l)
		}
	}
	for _, v := range s.LRs {
		if !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("--lrs: %v, want > 0", v)
		}
	}
	for _, k := range s.Ks {
		if k < 1 || k > 1000 {
			return fmt.Errorf("--ks: %d, want 1…1000", k)
		}
	}
	for _, t := range s.Refreshes {
		if t < 0 {
			return fmt.Errorf("--refreshes: %d, want ≥ 0 (0: only at the switch)", t)
		}
	}
	for _, b := range s.Batches {
		if b < 0 {
			return fmt.Errorf("--batches: %d, want ≥ 0 (0: full batch)", b)
		}
	}
	for _, a := range s.Alphas {
		if !(a >= 0 && a <= 1) {
			return fmt.Errorf("--alphas: %v, want in [0, 1]", a)
		}
	}
	for _, w := range s.WBulks {
		if !(w > 1 && w <= 10) {
			return fmt.Errorf("--w-bulks: %v, want in (1, 10]", w)
		}
	}
	if s.Steps < 1 {
		return fmt.Errorf("--steps %d: want ≥ 1", s.Steps)
	}
	if s.Warmup < 0 {
		return fmt.Errorf("--warmup %d: want ≥ 0", s.Warmup)
	}
	if s.Target != 0 && !(s.Target > 0 && s.Target < 1) {
		return fmt.Errorf("--target %v: want in (0, 1)", s.Target)
	}
	if len(s.Seeds) == 0 {
		return errors.New("--seeds: empty")
	}
	return nil
}
