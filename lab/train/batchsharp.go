package train

// Batch sharpness: the curvature a minibatch step meets along its own direction. Under SGD
// it is this, and not λ₁ of the full Hessian, that settles at the edge 2/η (Andreyev &
// Beneventano, "Edge of Stochastic Stability", arXiv 2412.20553).

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"

	"sharpflat/linalg"
	"sharpflat/nn"
)

// BatchSharpnessOptions configures EstimateBatchSharpness.
type BatchSharpnessOptions struct {
	// Batch is the minibatch size B; 0 or ≥ N is the full batch. Batches is how many fresh
	// minibatches M are drawn (≥ 1).
	Batch, Batches int
	// Seed seeds the draw of the minibatches.
	Seed uint64
	// Rule is the update in force (nil: SGD); its Direction turns g_B into d_B.
	Rule Rule
	// Basis, Values and Edge are what Rule.Direction sees (Subspace): the Dominant basis the
	// rule projects on (nil: none yet, and the Bulk is everything), its eigenvalues, and the
	// stability threshold (Config.StabilityThreshold).
	Basis  [][]float64
	Values []float64
	Edge   float64
	// WeightDecay is λ of the run's L2 penalty (Config.WeightDecay): g_B and H_B are those of
	// L_B + (λ/2)‖θ‖² (nn.Bound.SetWeightDecay), as the step's are. 0: none.
	WeightDecay float64
	// Cancel is called before every pass and product; true stops the estimate with an error
	// wrapping linalg.ErrCanceled.
	Cancel func() bool
}

// BatchSharpness is the estimate of EstimateBatchSharpness.
type BatchSharpness struct {
	// Batch is E_B[g_Bᵀ H_B g_B / ‖g_B‖²]: mean and standard error over the minibatches
	// whose gradient is not zero (Samples of them).
	Batch linalg.Estimate
	// Update is E_B[d_Bᵀ H_B d_B / ‖d_B‖²] along the update in force, over the minibatches
	// whose d_B is not zero (Samples of them; Mean NaN when there are none).
	Update linalg.Estimate
	// Products counts the minibatch HVPs spent: one per batch, two when d_B ∦ g_B.
	Products int
}

// EstimateBatchSharpness estimates the batch sharpness of the network m at θ on data,
//
//	λ_B = E_B[ g_Bᵀ H_B g_B / ‖g_B‖² ],
//
// the curvature of the minibatch Hessian H_B along its own minibatch gradient g_B, and the
// update's batch curvature
//
//	λ_d = E_B[ d_Bᵀ H_B d_B / ‖d_B‖² ],   d_B = Rule.Direction(g_B)
//
// along the update actually taken: d_B = g_B for SGD, P_dom g_B for Dom-SGD, P_bulk g_B for
// Bulk-SGD, the blend for α. Why: Andreyev & Beneventano (arXiv 2412.20553, "Edge of
// Stochastic Stability") show that under minibatch SGD it is λ_B, not λ_max of the full
// Hessian, that rises to 2/η and stays there; for a projected rule the step moves along d_B,
// so λ_d is the analogue to hold against the edge.
//
// The minibatches: each of the M is a fresh sample of B examples without replacement
// (a seeded partial Fisher–Yates shuffle; examples may recur across batches), independent
// of the trainer's epoch order. With B = 0 or B ≥ N every batch would be the whole set:
// it is evaluated once (Samples 1), and λ_B is then the full-batch Rayleigh quotient
// gᵀHg/‖g‖².
//
// The standard error is the sample standard deviation over √M, 0 with a single sample (as
// linalg.Estimate elsewhere). A batch whose g_B is zero adds to neither mean; one whose d_B
// is zero (all of g_B in the subspace a rule leaves out) adds to λ_B only.
//
// Cost: per batch one forward–backward pass and one minibatch HVP, a second HVP when d_B is
// not parallel to g_B (a projected rule); nothing of size P×P. One nn.Bound is rebound for
// every batch.
func EstimateBatchSharpness(m *nn.MLP, theta []float64, data *nn.Dataset, opt BatchSharpnessOptions) (BatchSharpness, error) {
	var s batchSharpener
	var b *nn.Bound
	return s.estimate(&b, m, theta, data, opt)
}

// batchSharpener holds the buffers of the estimate from one call to the next, so a trainer
// that estimates every few steps allocates them once.
type batchSharpener struct {
	idx   []int      // a permutation of 0…N−1, partially reshuffled for every batch
	batch nn.Dataset // the minibatch, its slices reused
	d, hv []float64  // d_B and H_B x (P each)
}

// estimate is EstimateBatchSharpness binding *bound (nil: a new Bound is made and stored).
func (s *batchSharpener) estimate(bound **nn.Bound, m *nn.MLP, theta []float64, data *nn.Dataset, opt BatchSharpnessOptions) (BatchSharpness, error) {
	var res BatchSharpness
	if opt.Batches < 1 {
		return res, fmt.Errorf("batch sharpness: %d batches, want at least 1", opt.Batches)
	}
	if opt.Batch < 0 {
		return res, fmt.Errorf("batch sharpness: batch size %d, want ≥ 0 (0: the full batch)", opt.Batch)
	}
	if data.N == 0 {
		return res, errors.New("batch sharpness: no examples")
	}
	rule := opt.Rule
	if rule == nil {
		rule = Blend{1, 1}
	}
	canceled := func() error {
		if opt.Cancel != nil && opt.Cancel() {
			return fmt.Errorf("batch sharpness: %w", linalg.ErrCanceled)
		}
		return nil
	}
	full := opt.Batch == 0 || opt.Batch >= data.N
	batches := opt.Batches
	if full {
		batches = 1
	}
	p := m.NumParams()
	if len(s.d) != p {
		s.d = make([]float64, p)
	}
	if len(s.hv) != p {
		s.hv = make([]float64, p)
	}
	var rng *rand.Rand
	if !full {
		rng = rand.New(rand.NewPCG(opt.Seed, 0xba7c5a4b5e55))
		if len(s.idx) != data.N {
			s.idx = make([]int, data.N)
		}
		for i := range s.idx {
			s.idx[i] = i
		}
	}
	sub := Subspace{Vectors: opt.Basis, Values: opt.Values, Edge: opt.Edge}
	var accB, accD linalg.Welford
	for range batches {
		on := data
		if !full {
			s.draw(rng, data, opt.Batch)
			on = &s.batch
		}
		if err := canceled(); err != nil {
			return res, err
		}
		if *bound == nil {
			b, err := m.Bind(theta, on)
			if err != nil {
				return res, err
			}
			*bound = b
			b.SetWeightDecay(opt.WeightDecay)
		} else {
			(*bound).SetWeightDecay(opt.WeightDecay)
			if err := (*bound).Rebind(theta, on); err != nil {
				return res, err
			}
		}
		b := *bound
		g := b.Grad() // the Bound's own, unchanged by its products
		gg := floats.Dot(g, g)
		if gg == 0 || math.IsNaN(gg) || math.IsInf(gg, 0) {
			continue
		}
		if err := canceled(); err != nil {
			return res, err
		}
		b.HVP(s.hv, g)
		res.Products++
		qg := floats.Dot(g, s.hv) / gg
		accB.Add(qg)

		rule.Direction(s.d, g, sub)
		dd := floats.Dot(s.d, s.d)
		if dd == 0 {
			continue
		}
		if parallel(s.d, g, dd, gg) {
			accD.Add(qg)
			continue
		}
		if err := canceled(); err != nil {
			return res, err
		}
		b.HVP(s.hv, s.d)
		res.Products++
		accD.Add(floats.Dot(s.d, s.hv) / dd)
	}
	res.Batch, res.Update = estimate(&accB), estimate(&accD)
	return res, nil
}

// draw fills s.batch with B examples of data sampled without replacement: the first B
// places of s.idx after a partial Fisher–Yates shuffle (uniform whatever order s.idx was
// left in).
func (s *batchSharpener) draw(rng *rand.Rand, data *nn.Dataset, b int) {
	n := data.N
	for i := range b {
		j := i + rng.IntN(n-i)
		s.idx[i], s.idx[j] = s.idx[j], s.idx[i]
	}
	d := &s.batch
	d.Name, d.N, d.D, d.Classes, d.Out = data.Name, b, data.D, data.Classes, data.Out
	d.X = resize(d.X, b*data.D)
	for r, i := range s.idx[:b] {
		copy(d.X[r*data.D:(r+1)*data.D], data.X[i*data.D:(i+1)*data.D])
	}
	if data.Classes > 0 {
		if cap(d.Labels) < b {
			d.Labels = make([]int, b)
		}
		d.Labels, d.Y = d.Labels[:b], nil
		for r, i := range s.idx[:b] {
			d.Labels[r] = data.Labels[i]
		}
		return
	}
	d.Y, d.Labels = resize(d.Y, b*data.Out), nil
	for r, i := range s.idx[:b] {
		copy(d.Y[r*data.Out:(r+1)*data.Out], data.Y[i*data.Out:(i+1)*data.Out])
	}
}

func resize(x []float64, n int) []float64 {
	if cap(x) < n {
		return make([]float64, n)
	}
	return x[:n]
}

// parallel reports whether d is a multiple of g up to rounding, ‖d − c g‖² ≤ 1e-24 ‖d‖²
// with c = dᵀg/‖g‖²: then d's Rayleigh quotient is g's (to 1e-12 relative) and needs no
// second product. SGD's blend (1, 1) and any rule without a basis give such a d.
func parallel(d, g []float64, dd, gg float64) bool {
	c := floats.Dot(d, g) / gg
	var r float64
	for i, x := range d {
		e := x - c*g[i]
		r += e * e
	}
	return r <= 1e-24*dd
}

// estimate is w's Estimate, with Mean NaN when there was no sample (no minibatch had a
// non-zero direction).
func estimate(w *linalg.Welford) linalg.Estimate {
	e := w.Estimate()
	if e.Samples == 0 {
		e.Mean = math.NaN()
	}
	return e
}

// measureBatchSharpness fills m's batch sharpness and update curvature at θ before the
// step's update, with the rule and basis in force, from Config.SharpnessBatches() minibatches
// of the run's batch size, seeded by the run's seed and the step (so the measurement draws
// nothing from the trainer's minibatch order). It rebinds the step's own minibatch Bound
// (the same batch size) and the step's direction buffer (which the step then overwrites),
// so it needs no memory beyond the batch's examples and one vector of P (H_B x). An
// estimate stopped by the interrupt is left out of the step (the step goes on); another
// error is logged as an error event.
func (t *Trainer) measureBatchSharpness(m *Metrics) {
	c := &t.cfg
	t.sharpener.d = t.dir
	res, err := t.sharpener.estimate(&t.batchBound, t.model, t.theta, &t.train, BatchSharpnessOptions{
		Batch: c.Batch, Batches: c.SharpnessBatches(), Seed: c.Seed ^ (uint64(t.step)+1)*0x9e3779b97f4a7c15,
		Rule: c.Rule(), Basis: t.basis.Vectors, Values: t.basis.Values, Edge: c.StabilityThreshold(),
		WeightDecay: c.WeightDecay, Cancel: t.interrupt,
	})
	switch {
	case errors.Is(err, linalg.ErrCanceled):
		return
	case err != nil:
		t.event(EventError, err.Error())
		return
	}
	m.BatchSharpnessMinibatch = c.Batch > 0 && c.Batch < t.train.N
	if res.Batch.Samples > 0 {
		m.BatchSharpness, m.BatchSharpnessStderr = OptNum(res.Batch.Mean), OptNum(res.Batch.StdErr)
	}
	if res.Update.Samples > 0 {
		m.UpdateSharpness, m.UpdateSharpnessStderr = OptNum(res.Update.Mean), OptNum(res.Update.StdErr)
	}
}
