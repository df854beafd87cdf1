package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"text/tabwriter"

	"gonum.org/v1/gonum/floats"

	"sharpflat/lab/train"
	"sharpflat/linalg"
	"sharpflat/nn"
)

// hessianReport is the --json output of `sharpflat hessian`: exactly these keys.
type hessianReport struct {
	P                  int       `json:"P"`
	Loss               float64   `json:"loss"`
	GradNorm           float64   `json:"grad_norm"`
	Eigenvalues        []float64 `json:"eigenvalues"`
	Residuals          []float64 `json:"residuals"`
	GGNRayleigh        []float64 `json:"ggn_rayleigh"`
	FunctionalRayleigh []float64 `json:"functional_rayleigh"`
	AlignmentFullGrad  float64   `json:"alignment_full_grad"`
	EnergyH            train.Num `json:"energy_H"`
	EnergyHStderr      train.Num `json:"energy_H_stderr"`
	EnergyG            train.Num `json:"energy_G"`
	EnergyGStderr      train.Num `json:"energy_G_stderr"`
	EnergyF            train.Num `json:"energy_F"`
	EnergyFStderr      train.Num `json:"energy_F_stderr"`
	HVPs               int       `json:"hvps"`
	// WeightDecay is λ of --weight-decay (or the run's), only when set: then eigenvalues,
	// G Rayleigh quotients, energies and the gradient are those of L + (λ/2)‖θ‖², and loss
	// stays the data loss.
	WeightDecay float64 `json:"weight_decay,omitempty"`

	// Only with --batch-sharpness (cmd_hessian_batch.go) and --density
	// (cmd_hessian_density.go): without them the keys above, exactly. The density of one
	// operator is "density", of several "densities" keyed by H, G, F.
	BatchSharpness *batchSharpnessReport     `json:"batch_sharpness,omitempty"`
	Density        *densityReport            `json:"density,omitempty"`
	Densities      map[string]*densityReport `json:"densities,omitempty"`
	Outliers       *outliersReport           `json:"outliers,omitempty"`
}

func runHessian(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("hessian", "(--data FILE.csv --weights FILE.safetensors | --run DIR) [flags]", stdout, stderr)
	data := fs.String("data", "", "data set CSV (header row, a 'label' column, numeric features)")
	weights := fs.String("weights", "", "weights in safetensors, PyTorch nn.Linear layout layers.{i}.weight/bias")
	runDir := fs.String("run", "", "a run directory instead: its weights, on its Hessian set rebuilt from config.json (act and loss from it too)")
	actName := fs.String("act", "tanh", "activation of the hidden layers: tanh, relu, gelu, softplus, identity")
	lossName := fs.String("loss", "ce", "loss: ce (softmax cross-entropy) or mse (½‖f−y‖², one-hot for labels)")
	k := fs.Int("k", 10, "number of top eigenpairs (with --run: the run's k unless given); the Dominant basis --batch-sharpness projects on")
	tol := fs.Float64("tol", 1e-10, "eigensolver tolerance on the relative residual ‖Hv−λv‖/|λ₁|")
	samples := fs.Int("hutch-samples", 64, fmt.Sprintf("Rademacher probes for the energy fractions (0: skip them; at most %d)", train.MaxHutchSamples))
	maxS := fs.Int("hessian-set", 0, "use a seeded subsample of this many examples (0: all)")
	decay := fs.Float64("weight-decay", 0, "weight decay λ: the curvature of L + (λ/2)‖θ‖², every eigenvalue raised by λ (with --run: the run's unless given)")
	seed := fs.Uint64("seed", 1, "seed of the start vector, the probes, the subsample and the minibatches of --batch-sharpness")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a table")
	bsf := addBatchSharpnessFlags(fs)
	df := addDensityFlags(fs)
	memoryFlag(fs)
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if err := bsf.check(); err != nil {
		return err
	}
	if err := df.check(); err != nil {
		return err
	}
	useRun, useFiles := *runDir != "", *data != "" || *weights != ""
	if useRun == useFiles || (useFiles && (*data == "" || *weights == "")) {
		return usagef("hessian: give --data and --weights, or --run DIR (see 'sharpflat hessian --help')")
	}
	if *k < 1 {
		return usagef("hessian: --k %d, want ≥ 1", *k)
	}
	if !(*tol > 0 && *tol < 1) || *samples < 0 || *samples == 1 || *samples > train.MaxHutchSamples {
		return usagef("hessian: want 0 < --tol < 1 and --hutch-samples 0 or 2…%d", train.MaxHutchSamples)
	}
	var ds nn.Dataset
	// pool is what --batch-sharpness draws its minibatches from: the run's training set, or
	// the whole CSV (before --hessian-set). runCfg is the run's config (nil without --run).
	var pool nn.Dataset
	var runCfg *train.Config
	dataName := *data
	if useRun {
		cfg, err := train.LoadConfigFile(filepath.Join(*runDir, "config.json"))
		if err != nil {
			return err
		}
		runCfg = &cfg
		if !flagGiven(fs, "k") {
			*k = cfg.K // the basis the run's update projects on
		}
		if !flagGiven(fs, "weight-decay") {
			*decay = cfg.WeightDecay // the objective the run trained on
		}
		*actName, *lossName, *weights = cfg.Act.String(), cfg.Loss.String(), filepath.Join(*runDir, "weights.safetensors")
		dataName = fmt.Sprintf("the Hessian set of %s", *runDir)
		if pool, _, ds, err = train.RunData(&cfg); err != nil {
			return err
		}
	}
	if !(*decay >= 0 && *decay <= maxHessianDecay) {
		return usagef("hessian: --weight-decay %g, want 0…%g", *decay, maxHessianDecay)
	}
	act, err := nn.ParseActivation(*actName)
	if err != nil {
		return usagef("hessian: --act: %v", err)
	}
	loss, err := nn.ParseLoss(*lossName)
	if err != nil {
		return usagef("hessian: --loss: %v", err)
	}
	if !useRun {
		if ds, err = nn.LoadCSV(*data); err != nil {
			return err
		}
		pool = ds
	}
	if err := checkFileSize(*weights); err != nil {
		return err
	}
	m, theta, err := nn.LoadMLP(*weights, act, loss)
	if err != nil {
		return err
	}
	if *maxS < 0 || *maxS > ds.N {
		return usagef("hessian: --hessian-set %d, but %s has %d examples (0: all of them)", *maxS, dataName, ds.N)
	}
	if *maxS > 0 && *maxS < ds.N {
		ds = train.Subsample(&ds, *maxS, *seed)
	}
	if *k >= m.NumParams() {
		return usagef("hessian: --k %d, but %s has %d parameters: want k < P", *k, *weights, m.NumParams())
	}
	if m.Widths[0] != ds.D {
		return fmt.Errorf("%s takes %d inputs; %s has %d features", *weights, m.Widths[0], dataName, ds.D)
	}
	sets, dataFloats := []int{ds.N}, float64(ds.N)*float64(ds.D+ds.OutputDim())
	if *bsf.on {
		b := bsf.size(runCfg, pool.N)
		sets = append(sets, b)
		dataFloats += float64(b) * float64(ds.D+ds.OutputDim())
		if useRun {
			dataFloats += float64(pool.N) * float64(pool.D+pool.OutputDim())
		}
	}
	foot := train.FootprintOf(m.Widths, *k, sets, dataFloats)
	if *df.on {
		foot.Eigenspace += df.memory(m.NumParams())
	}
	if err := foot.Check(fmt.Sprintf("the Hessian of %s on %d examples", m, ds.N), train.MemoryLimit()); err != nil {
		return memoryError(err)
	}
	b, err := m.Bind(theta, &ds)
	if err != nil {
		return fmt.Errorf("%s with %s: %w", *weights, dataName, err)
	}
	b.SetWeightDecay(*decay)
	if l := b.Loss(); math.IsNaN(l) || math.IsInf(l, 0) {
		return fmt.Errorf("the loss of %s on %s is %v: %s", *weights, dataName, l, overflowCause(&ds))
	}
	// Ctrl-C or SIGTERM stops the computation within one curvature product.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// --density also computes λ_{k+1}, the pair below the top k, for the outliers' rule.
	r, err := train.Curvature(b, train.CurvatureOptions{K: *k, Tol: *tol, Seed: *seed, Split: true, HutchSamples: *samples,
		Next: *df.on, Cancel: func() bool { return ctx.Err() != nil }})
	if errors.Is(err, linalg.ErrCanceled) {
		return fmt.Errorf("interrupted; nothing to report (%w)", err)
	}
	if errors.Is(err, linalg.ErrNotFinite) {
		return fmt.Errorf("the curvature products of %s on %s overflow float64: %s", *weights, dataName, overflowCause(&ds))
	}
	if err != nil {
		return err
	}
	rep := hessianReport{
		P: m.NumParams(), Loss: b.DataLoss(), WeightDecay: *decay, GradNorm: floats.Norm(b.Grad(), 2),
		Eigenvalues: r.Values, Residuals: r.Residuals, GGNRayleigh: r.GGN, FunctionalRayleigh: r.Functional,
		AlignmentFullGrad: linalg.Alignment(r.Vectors, b.Grad()),
		EnergyH:           train.Num(r.Energy[0].Mean), EnergyHStderr: train.Num(r.Energy[0].StdErr),
		EnergyG: train.Num(r.Energy[1].Mean), EnergyGStderr: train.Num(r.Energy[1].StdErr),
		EnergyF: train.Num(r.Energy[2].Mean), EnergyFStderr: train.Num(r.Energy[2].StdErr),
		HVPs: r.Products,
	}
	if *bsf.on {
		rep.BatchSharpness, err = bsf.estimate(m, theta, &pool, runCfg, r, *seed, *decay, func() bool { return ctx.Err() != nil })
		if errors.Is(err, linalg.ErrCanceled) {
			return fmt.Errorf("interrupted; nothing to report (%w)", err)
		}
		if err != nil {
			return err
		}
	}
	var dens []densityReport
	if *df.on {
		dens, err = df.estimate(b, *seed, func() bool { return ctx.Err() != nil })
		if errors.Is(err, linalg.ErrCanceled) {
			return fmt.Errorf("interrupted; nothing to report (%w)", err)
		}
		if err != nil {
			return err
		}
		if len(dens) == 1 {
			rep.Density = &dens[0]
		} else {
			rep.Densities = map[string]*densityReport{}
			for i := range dens {
				rep.Densities[dens[i].Of] = &dens[i]
			}
		}
		rep.Outliers = outliers(r.Values, r.Next)
	}
	if !r.Converged {
		fmt.Fprintf(stderr, "sharpflat: warning: eigensolver did not reach --tol %g; residuals are reported\n", *tol)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		return enc.Encode(rep)
	}
	fmt.Fprintf(stdout, "network   %s, loss %s, P = %d\n", m, m.Loss, rep.P)
	fmt.Fprintf(stdout, "data      %s: %d examples\n", dataName, ds.N)
	if *decay != 0 {
		fmt.Fprintf(stdout, "decay     λ = %g: the curvature of L + (λ/2)‖θ‖², every eigenvalue and vᵢᵀGvᵢ raised by λ, vᵢᵀFvᵢ unchanged\n", *decay)
	}
	fmt.Fprintf(stdout, "loss      %.6g    ‖∇L‖ %.4g    alignment ‖Vᵀg‖/‖g‖ %.4f (random direction: %.4f)\n",
		rep.Loss, rep.GradNorm, rep.AlignmentFullGrad, math.Sqrt(float64(len(r.Values))/float64(rep.P)))
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "i\tλᵢ\tvᵢᵀGvᵢ\tvᵢᵀFvᵢ\tresidual\t")
	for i, l := range r.Values {
		fmt.Fprintf(tw, "%d\t%.6g\t%.6g\t%.4g\t%.2e\t\n", i+1, l, r.GGN[i], r.Functional[i], r.Residuals[i])
	}
	tw.Flush()
	if *samples > 0 {
		fmt.Fprintf(stdout, "energy in the top-%d subspace, ‖VᵀAV‖²_F/‖A‖²_F (± std. err., %d probes):\n", len(r.Values), *samples)
		fmt.Fprintf(stdout, "  H %.4f ± %.4f    G %.4f ± %.4f    F %.4f ± %.4f\n",
			r.Energy[0].Mean, r.Energy[0].StdErr, r.Energy[1].Mean, r.Energy[1].StdErr, r.Energy[2].Mean, r.Energy[2].StdErr)
	}
	if *df.on {
		printDensities(stdout, dens, rep.Outliers)
	}
	if rep.BatchSharpness != nil {
		edge, edgeName := math.NaN(), "2/η"
		if runCfg != nil {
			edge, edgeName = runCfg.StabilityThreshold(), runCfg.ThresholdName()
		}
		printBatchSharpness(stdout, rep.BatchSharpness, edge, edgeName)
	}
	total, parts := rep.HVPs, ""
	for _, d := range dens {
		total += d.HVPs
		parts += fmt.Sprintf(", density of %s %d", d.Of, d.HVPs)
	}
	if rep.BatchSharpness != nil {
		total += rep.BatchSharpness.HVPs
		parts += fmt.Sprintf(", batch sharpness %d (minibatch)", rep.BatchSharpness.HVPs)
	}
	if parts != "" {
		parts = fmt.Sprintf(" (eigenpairs, split and energies %d%s)", rep.HVPs, parts)
	}
	fmt.Fprintf(stdout, "%d curvature-vector products%s\n", total, parts)
	return nil
}

// maxHessianDecay is the largest --weight-decay, the bound a run's weight_decay has.
const maxHessianDecay = 10.0

// checkFileSize refuses a weights file whose contents alone would exceed the memory limit
// (it is read whole), before reading it; and anything that is not a regular file.
func checkFileSize(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	if need := 2 * float64(st.Size()); need > float64(train.MemoryLimit()) { // the bytes, and θ from them
		return fmt.Errorf("%s is %s: reading it needs about %s; the limit is %s (--max-memory)", path,
			train.Bytes(float64(st.Size())), train.Bytes(need), train.Bytes(float64(train.MemoryLimit())))
	}
	return nil
}

// overflowCause words why a loss or a product is not finite when the weights are finite (the
// loader refuses NaN weights): the largest input, if it is large enough to overflow.
func overflowCause(ds *nn.Dataset) string {
	big, at := 0.0, 0
	for i, v := range ds.X {
		if a := math.Abs(v); a > big {
			big, at = a, i
		}
	}
	if big > 1e30 {
		return fmt.Sprintf("the inputs overflow (example %d, feature x%d is %g): rescale the features", at/ds.D+1, at%ds.D, ds.X[at])
	}
	return fmt.Sprintf("the largest input is %g; the weights are too large for float64 at this point", big)
}
