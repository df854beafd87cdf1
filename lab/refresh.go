package lab

import (
	"fmt"
	"math"
	"time"

	"sharpflat/linalg"
)

// eigenspace is the Dominant basis in use and what its last refresh measured.
type eigenspace struct {
	vectors    [][]float64 // V, k orthonormal vectors of length P
	values     []float64   // λ₁ … λ_k
	residuals  []float64
	ggn, fun   []float64 // vᵢᵀGvᵢ, vᵢᵀFvᵢ (from the latest refresh that split)
	splitStep  int
	energy     [3]Estimate // E_H, E_G, E_F (latest estimate)
	energyStep int
	step       int // step at which V was computed
	products   int
	ms         float64
	overlap    float64 // with the previous basis; NaN for the first
	converged  bool
	fresh      bool // refreshed before the coming step
}

// noBasis is the eigenspace before the first refresh: nothing measured yet.
func noBasis() eigenspace {
	nan := Estimate{math.NaN(), math.NaN()}
	return eigenspace{step: -1, splitStep: -1, energyStep: -1, energy: [3]Estimate{nan, nan, nan}, overlap: math.NaN()}
}

// refresh recomputes the top-k eigenspace of the Hessian on S at the current θ, warm-started
// from the previous basis.
func (e *Engine) refresh(why string) error {
	c := &e.cfg
	t0 := time.Now()
	if err := e.bindAt(&e.hessBound, &e.hess); err != nil {
		return err
	}
	// Scheduled refreshes take the residuals from the Krylov–Schur relation (k products
	// fewer, a fifth of a per-step refresh); requested ones check them with explicit products.
	opt := CurvatureOptions{K: c.K, Tol: c.Tol, Seed: c.Seed, EstimateResiduals: !e.wantFresh}
	if len(e.basis.vectors) > 0 && len(e.basis.vectors[0]) == len(e.theta) {
		opt.Warm = e.basis.vectors
	}
	// The G/F split and the energies cost k and HutchSamples more products: they run on
	// every EnergyEvery-th refresh (and on requests), not on every one.
	heavy := e.wantFresh || (c.EnergyEvery > 0 && e.refreshes%c.EnergyEvery == 0)
	if heavy {
		opt.Split = true
		if c.EnergyEvery > 0 {
			opt.HutchSamples = c.HutchSamples
		}
	}
	r, err := Curvature(e.hessBound, opt)
	if err != nil {
		return fmt.Errorf("eigenspace refresh at step %d: %w", e.step, err)
	}
	prev := e.basis
	e.basis.vectors, e.basis.values, e.basis.residuals = r.Vectors, r.Values, r.Residuals
	e.basis.step, e.basis.products, e.basis.converged, e.basis.fresh = e.step, r.Products, r.Converged, true
	e.basis.overlap = math.NaN()
	if len(prev.vectors) > 0 && len(prev.vectors) == len(r.Vectors) {
		e.basis.overlap = linalg.Overlap(prev.vectors, r.Vectors)
	}
	if r.GGN != nil {
		e.basis.ggn, e.basis.fun, e.basis.splitStep = r.GGN, r.Functional, e.step
	}
	if opt.HutchSamples > 0 {
		e.basis.energy = [3]Estimate{r.EnergyH, r.EnergyG, r.EnergyF}
		e.basis.energyStep = e.step
	}
	e.basis.ms = float64(time.Since(t0).Microseconds()) / 1000
	e.refreshes++
	e.wantFresh = false
	if why != "scheduled" || !r.Converged {
		msg := fmt.Sprintf("eigenspace refreshed %s at step %d: λ₁ %.4g, %d HVPs, %.0f ms", why, e.step, first(r.Values), r.Products, e.basis.ms)
		if !r.Converged {
			msg += " (not converged to tol: residuals reported)"
		}
		e.event("refresh", msg)
	}
	return nil
}

// fillRefresh copies the refresh just made into the step's metrics.
func (e *Engine) fillRefresh(m *Metrics) {
	b := &e.basis
	m.Refreshed = true
	m.Spectrum = append([]float64(nil), b.values...)
	m.Residuals = append([]float64(nil), b.residuals...)
	if b.splitStep == e.step && b.ggn != nil {
		m.GGNRayleigh = append([]float64(nil), b.ggn...)
		m.FuncRayleigh = append([]float64(nil), b.fun...)
	}
	m.Overlap = Num(b.overlap)
	m.RefreshHVPs = b.products
	m.RefreshMS = Num(b.ms)
	if b.energyStep == e.step && !math.IsNaN(b.energy[0].Mean) {
		m.EnergyH, m.EnergyHStderr = Num(b.energy[0].Mean), Num(b.energy[0].Stderr)
		m.EnergyG, m.EnergyGStderr = Num(b.energy[1].Mean), Num(b.energy[1].Stderr)
		m.EnergyF, m.EnergyFStderr = Num(b.energy[2].Mean), Num(b.energy[2].Stderr)
	}
}

func first(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	return x[0]
}
