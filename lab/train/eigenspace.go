package train

import (
	"fmt"
	"math"
	"slices"
	"time"

	"sharpflat/linalg"
)

// Eigenspace is the Dominant basis in use and what its refresh measured. It is replaced as a
// whole by each refresh and never modified, so it can be shared.
type Eigenspace struct {
	Step      int         // steps completed when it was computed (-1: none yet)
	Values    []float64   // λ₁ ≥ … ≥ λ_k of H on the Hessian set
	Vectors   [][]float64 // V = [v₁ … v_k], orthonormal, each of length P
	Residuals []float64   // ‖Hvᵢ − λᵢvᵢ‖
	Converged bool        // every residual met the tolerance
	Products  int         // Hessian-vector products the refresh spent (eigensolver, split, energies)
	MS        float64     // wall time of the refresh
	Overlap   float64     // ‖V_oldᵀV_new‖²_F / k with the basis it replaced; NaN for the first

	// Next is λ_{k+1}, the top of the Bulk (the largest eigenvalue of H outside V), and
	// NextVector its eigenvector, when the trainer computes the extra pair (SetExtraPair);
	// NaN and nil otherwise. NextVector only warm-starts the next refresh: V stays k vectors.
	Next       float64
	NextVector []float64

	// The G/F split vᵢᵀGvᵢ, vᵢᵀFvᵢ and the energies E_H, E_G, E_F are measured on some
	// refreshes only; these hold the latest, with the step they were measured at (-1: never).
	GGN, Functional []float64
	SplitStep       int
	Energy          [3]linalg.Estimate
	EnergyStep      int
}

// noBasis is the eigenspace before the first refresh: nothing measured yet.
func noBasis() Eigenspace {
	return Eigenspace{Step: -1, SplitStep: -1, EnergyStep: -1, Energy: NoEnergy(), Overlap: math.NaN(), Next: math.NaN()}
}

// Sharpness is λ₁, NaN before the first refresh.
func (b *Eigenspace) Sharpness() float64 {
	if len(b.Values) == 0 {
		return math.NaN()
	}
	return b.Values[0]
}

// Felt is the curvature the update d = w_dom P_dom g + w_bulk P_bulk g feels:
//
//	felt = max(w_dom·λ₁, w_bulk·λ_{k+1})
//
// On the quadratic model the step multiplies each eigendirection of H inside V by
// 1 − η w_dom λᵢ and each outside by 1 − η w_bulk λⱼ, so the largest of these curvatures
// decides stability: SGD (1, 1) feels λ₁; Dom-SGD (1, 0) feels λ₁; Bulk-SGD (0, 1) feels
// λ_{k+1}, the top of the Bulk, however sharp V is. The update is stable along the directions
// it moves while felt < 2/η (heavy-ball momentum β: (2+2β)/η).
//
// A term whose weight is 0 does not count (its eigenvalue need not be known); felt is NaN when
// a term that counts is NaN (not measured).
func Felt(wDom, wBulk, l1, lNext float64) float64 {
	f := math.Inf(-1)
	for _, term := range [2][2]float64{{wDom, l1}, {wBulk, lNext}} {
		if term[0] == 0 {
			continue
		}
		v := term[0] * term[1]
		if math.IsNaN(v) {
			return math.NaN()
		}
		f = math.Max(f, v)
	}
	if math.IsInf(f, -1) { // both weights 0: the update does not move
		return 0
	}
	return f
}

// WithoutVectors is a copy that shares nothing with b and leaves out V (k·P numbers):
// what a display needs.
func (b Eigenspace) WithoutVectors() Eigenspace {
	b.Vectors, b.NextVector = nil, nil
	b.Values, b.Residuals = slices.Clone(b.Values), slices.Clone(b.Residuals)
	b.GGN, b.Functional = slices.Clone(b.GGN), slices.Clone(b.Functional)
	return b
}

// SetExtraPair makes every refresh compute one pair more than k, the top of the Bulk
// λ_{k+1} (Eigenspace.Next, Metrics.BulkTop), at the cost of one more pair for the
// eigensolver. It changes nothing else that is recorded: with it off (the default, as in
// headless runs and experiments) the metrics are those of a trainer that never had it. The
// top k values of a refresh with it on agree with those without it to the solver's tolerance,
// not bit for bit. It takes effect at the next refresh.
func (t *Trainer) SetExtraPair(on bool) { t.extra = on }

// SetBatchSharpnessEvery makes the trainer estimate batch sharpness and the update's batch
// curvature every n steps when it trains on minibatches and its Config leaves
// BatchSharpnessEvery at 0: the lab's default (lab.DefaultBatchSharpnessEvery), so that the
// felt curvature under a minibatch is the update's batch curvature, not the full-batch λ.
// Headless runs and experiments leave it off, and their files are unchanged. Like
// SetExtraPair it is the trainer's, not a setting: the Config, config.json and a shared
// command do not change. 0 (the default): only what the Config asks.
func (t *Trainer) SetBatchSharpnessEvery(n int) { t.bsEvery = max(0, n) }

// ExtraPair reports whether refreshes compute λ_{k+1} (SetExtraPair).
func (t *Trainer) ExtraPair() bool { return t.extra }

// RequestRefresh asks for a refresh before the next step, off the schedule; it is a
// requested one (see Refresh).
func (t *Trainer) RequestRefresh() { t.pending = true }

// Refresh recomputes the top-k eigenspace of the Hessian on S at the current θ, warm-started
// from the previous basis.
//
// A refresh stopped by the interrupt (SetInterrupt) returns an error wrapping
// linalg.ErrCanceled and changes nothing.
//
// A requested refresh (the first, after k or S changed, or after RequestRefresh) checks the
// residuals with explicit products and measures the G/F split and, when energy_every > 0,
// the energies. A scheduled one takes the residuals from the Krylov–Schur relation (k products
// fewer, a fifth of a per-step refresh; they agree to rounding) and measures the split and
// energies on every energy_every-th refresh only.
func (t *Trainer) Refresh() error {
	c := &t.cfg
	t0 := time.Now()
	if err := t.bindAt(&t.hessBound, &t.hess); err != nil {
		return err
	}
	opt := CurvatureOptions{K: c.K, Tol: c.Tol, Seed: c.Seed, EstimateResiduals: !t.pending, Solver: &t.solver, Cancel: t.interrupt,
		Next: t.extra}
	if len(t.basis.Vectors) > 0 && len(t.basis.Vectors[0]) == len(t.theta) {
		opt.Warm = t.basis.Vectors
		if t.extra && len(t.basis.NextVector) == len(t.theta) && len(t.basis.Vectors) == c.K {
			opt.Warm = append(slices.Clip(t.basis.Vectors), t.basis.NextVector)
		}
	}
	heavy := t.pending || (c.EnergyEvery > 0 && t.refreshes%c.EnergyEvery == 0)
	if heavy {
		opt.Split = true
		if c.EnergyEvery > 0 {
			opt.HutchSamples = c.HutchSamples
		}
	}
	r, err := Curvature(t.hessBound, opt)
	if err != nil {
		return fmt.Errorf("eigenspace refresh at step %d: %w", t.step, err)
	}
	prev := t.basis
	b := Eigenspace{
		Step: t.step, Values: r.Values, Vectors: r.Vectors, Residuals: r.Residuals, Converged: r.Converged,
		Products: r.Products, Overlap: math.NaN(), Next: r.Next, NextVector: r.NextVector,
		GGN: prev.GGN, Functional: prev.Functional, SplitStep: prev.SplitStep,
		Energy: prev.Energy, EnergyStep: prev.EnergyStep,
	}
	if len(prev.Vectors) > 0 && len(prev.Vectors) == len(r.Vectors) {
		b.Overlap = linalg.Overlap(prev.Vectors, r.Vectors)
	}
	if r.GGN != nil {
		b.GGN, b.Functional, b.SplitStep = r.GGN, r.Functional, t.step
	}
	if opt.HutchSamples > 0 {
		b.Energy, b.EnergyStep = r.Energy, t.step
	}
	b.MS = float64(time.Since(t0).Microseconds()) / 1000
	t.basis = b
	t.refreshes++
	requested := t.pending
	t.pending = false
	if requested || !r.Converged {
		why := "on schedule"
		if requested {
			why = "on request"
		}
		msg := fmt.Sprintf("eigenspace refreshed %s at step %d: λ₁ %.4g, %d HVPs, %.0f ms", why, t.step, b.Sharpness(), r.Products, b.MS)
		if !r.Converged {
			msg += " (not converged to tol: residuals reported)"
		}
		t.event(EventRefresh, msg)
	}
	return nil
}

// fillMetrics copies the refresh just made into a step's metrics.
func (b *Eigenspace) fillMetrics(m *Metrics) {
	m.Refreshed = true
	m.Spectrum = slices.Clone(b.Values)
	m.Residuals = slices.Clone(b.Residuals)
	if b.SplitStep == b.Step && b.GGN != nil {
		m.GGNRayleigh = slices.Clone(b.GGN)
		m.FuncRayleigh = slices.Clone(b.Functional)
	}
	m.Overlap = Num(b.Overlap)
	m.RefreshHVPs = b.Products
	m.RefreshMS = Num(b.MS)
	if b.EnergyStep == b.Step && !math.IsNaN(b.Energy[0].Mean) {
		m.EnergyH, m.EnergyHStderr = Num(b.Energy[0].Mean), Num(b.Energy[0].StdErr)
		m.EnergyG, m.EnergyGStderr = Num(b.Energy[1].Mean), Num(b.Energy[1].StdErr)
		m.EnergyF, m.EnergyFStderr = Num(b.Energy[2].Mean), Num(b.Energy[2].StdErr)
	}
}
