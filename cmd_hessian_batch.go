package main

// `hessian --batch-sharpness`: batch sharpness λ_B and the update's batch curvature λ_d of
// given weights (train.EstimateBatchSharpness), the curvature a minibatch step meets.

import (
	"flag"
	"fmt"
	"io"
	"math"

	"sharpflat/lab/train"
	"sharpflat/nn"
)

// batchSharpnessReport is the "batch_sharpness" object of `hessian --json`.
type batchSharpnessReport struct {
	Mean         train.Num `json:"mean"`          // λ_B = E_B[g_Bᵀ H_B g_B / ‖g_B‖²]
	Stderr       train.Num `json:"stderr"`        // its standard error over the batches
	UpdateMean   train.Num `json:"update_mean"`   // λ_d along d_B, the update's direction; null when d_B was 0 on every batch
	UpdateStderr train.Num `json:"update_stderr"` // its standard error
	Batch        int       `json:"batch"`         // B as used: N for the full batch
	Batches      int       `json:"batches"`       // M drawn (1 for the full batch: every batch is the same)
	Update       string    `json:"update"`        // the rule, as --update reads it: "sgd", "bulk", "alpha=0.3", …
	HVPs         int       `json:"hvps"`          // minibatch HVPs spent
	full         bool      // the batch is the whole pool (one sample)
}

// batchSharpnessFlags are the flags of `hessian --batch-sharpness`.
type batchSharpnessFlags struct {
	on      *bool
	batch   *int
	batches *int
	update  *string
	alpha   *float64
	fs      *flag.FlagSet
}

func addBatchSharpnessFlags(fs *flag.FlagSet) *batchSharpnessFlags {
	return &batchSharpnessFlags{
		fs:      fs,
		on:      fs.Bool("batch-sharpness", false, "also estimate batch sharpness λ_B = E_B[g_BᵀH_Bg_B/‖g_B‖²] and the update's batch curvature λ_d along d_B (one minibatch HVP a batch, two for a projected update)"),
		batch:   fs.Int("batch", 0, "with --batch-sharpness: minibatch size B (0: the run's with --run, else the full batch)"),
		batches: fs.Int("batches", train.DefaultBatchSharpnessBatches, "with --batch-sharpness: minibatches M to average over (1…10000)"),
		update:  fs.String("update", "", "with --batch-sharpness: the update d_B = d(g_B) along which λ_d is measured, projected on the top-k basis: sgd, dom, bulk, alpha=A, w=D/B, dom-damped (default: the run's with --run, else sgd)"),
		alpha:   fs.Float64("alpha", 0, "with --batch-sharpness: the update as the slider position α ∈ [0, 1] instead of --update (0 Dom-SGD, 0.5 SGD, 1 Bulk-SGD)"),
	}
}

// set reports whether the flag name was given.
func (f *batchSharpnessFlags) set(name string) bool { return flagGiven(f.fs, name) }

// check refuses bad values and the flags of --batch-sharpness without it.
func (f *batchSharpnessFlags) check() error {
	if !*f.on {
		for _, n := range []string{"batch", "batches", "update", "alpha"} {
			if f.set(n) {
				return usagef("hessian: --%s needs --batch-sharpness", n)
			}
		}
		return nil
	}
	if *f.batch < 0 {
		return usagef("hessian: --batch %d, want ≥ 0 (0: the run's batch size, or the full batch)", *f.batch)
	}
	if *f.batches < 1 || *f.batches > 10000 {
		return usagef("hessian: --batches %d, want 1…10000", *f.batches)
	}
	if f.set("update") && f.set("alpha") {
		return usagef("hessian: give --update or --alpha, not both")
	}
	if f.set("alpha") && !(*f.alpha >= 0 && *f.alpha <= 1) {
		return usagef("hessian: --alpha %g, want a number in [0, 1]", *f.alpha)
	}
	if f.set("update") {
		if _, err := train.ParseRule(*f.update); err != nil {
			return usagef("hessian: --update: %v", err)
		}
	}
	return nil
}

// rule is the update in force: --update, --alpha, else the run's (cfg non-nil), else SGD.
// edge is the run's stability threshold (NaN without a run), which Dom-damped needs.
func (f *batchSharpnessFlags) rule(cfg *train.Config, edge float64) (train.Rule, error) {
	var r train.Rule = train.Blend{Dom: 1, Bulk: 1}
	switch {
	case f.set("update"):
		r, _ = train.ParseRule(*f.update) // checked
	case f.set("alpha"):
		d, b := train.Weights(*f.alpha)
		r = train.Blend{Dom: d, Bulk: b}
	case cfg != nil:
		r = cfg.Rule()
	}
	if _, ok := r.(train.Blend); !ok && math.IsNaN(edge) {
		return nil, usagef("hessian: --update %s needs the stability threshold 2/η of an SGD run: use --run DIR of one", r)
	}
	return r, nil
}

// size is B as the estimate uses it: --batch, else the run's, else the full batch; N when
// that is 0 or at least N.
func (f *batchSharpnessFlags) size(cfg *train.Config, n int) int {
	b := *f.batch
	if b == 0 && cfg != nil {
		b = cfg.Batch
	}
	if b == 0 || b > n {
		return n
	}
	return b
}

// estimate runs train.EstimateBatchSharpness on pool with the top-k basis r.
func (f *batchSharpnessFlags) estimate(m *nn.MLP, theta []float64, pool *nn.Dataset, cfg *train.Config, r train.CurvatureReport,
	seed uint64, decay float64, cancel func() bool) (*batchSharpnessReport, error) {
	edge := math.NaN()
	if cfg != nil {
		edge = cfg.StabilityThreshold()
	}
	rule, err := f.rule(cfg, edge)
	if err != nil {
		return nil, err
	}
	b := f.size(cfg, pool.N)
	batches := *f.batches
	if b == pool.N {
		batches = 1 // every batch would be the same
	}
	res, err := train.EstimateBatchSharpness(m, theta, pool, train.BatchSharpnessOptions{
		Batch: b, Batches: *f.batches, Seed: seed, Rule: rule,
		Basis: r.Vectors, Values: r.Values, Edge: edge, WeightDecay: decay, Cancel: cancel})
	if err != nil {
		return nil, err
	}
	num := func(e float64, n int) train.Num {
		if n == 0 {
			return train.NA
		}
		return train.Num(e)
	}
	return &batchSharpnessReport{
		Mean: num(res.Batch.Mean, res.Batch.Samples), Stderr: num(res.Batch.StdErr, res.Batch.Samples),
		UpdateMean: num(res.Update.Mean, res.Update.Samples), UpdateStderr: num(res.Update.StdErr, res.Update.Samples),
		Batch: b, Batches: batches, Update: rule.String(), HVPs: res.Products, full: b == pool.N,
	}, nil
}

// printBatchSharpness is the table's lines for the estimate, with the run's threshold (NaN:
// none) named edgeName.
func printBatchSharpness(w io.Writer, r *batchSharpnessReport, edge float64, edgeName string) {
	fmt.Fprintf(w, "batch sharpness λ_B %.4g ± %.2g    update (%s) λ_d %.4g ± %.2g", float64(r.Mean), float64(r.Stderr),
		r.Update, float64(r.UpdateMean), float64(r.UpdateStderr))
	if !math.IsNaN(edge) {
		fmt.Fprintf(w, "    %s %.4g", edgeName, edge)
	}
	if r.full {
		fmt.Fprintf(w, "\n  on the full batch of %d, %d HVPs\n", r.Batch, r.HVPs)
		return
	}
	fmt.Fprintf(w, "\n  over %d minibatches of %d, %d HVPs\n", r.Batches, r.Batch, r.HVPs)
}
