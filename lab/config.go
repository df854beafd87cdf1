package lab

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	"sharpflat/nn"
)

// Config is everything that defines a run. A preset fills it; flags or a JSON config file
// override single fields. The same Config and Seed give bit-identical runs.
type Config struct {
	Preset string `json:"preset"`

	// Data: a synthetic name (gaussian, moons, spirals, circles, xor, teacher), "mnist" (the
	// embedded subset, 28×28), "mnist14" (the subset downsampled to 14×14), or a CSV path.
	Data     string  `json:"data"`
	N        int     `json:"n"`         // examples generated for synthetic data (train + test)
	TestFrac float64 `json:"test_frac"` // share held out as the test set (synthetic and CSV)

	Hidden []int  `json:"hidden"` // hidden widths; input and output widths come from the data
	Act    string `json:"act"`
	Loss   string `json:"loss"`
	Init   string `json:"init"`
	Seed   uint64 `json:"seed"`

	Optimizer string  `json:"optimizer"` // "sgd" (heavy-ball momentum) or "adam"
	LR        float64 `json:"lr"`
	Momentum  float64 `json:"momentum"` // β of heavy ball; β₁ of Adam
	Beta2     float64 `json:"beta2"`    // Adam
	Eps       float64 `json:"eps"`      // Adam
	Batch     int     `json:"batch"`    // 0: full batch (gradient descent)
	WDom      float64 `json:"w_dom"`    // d = w_dom P_dom g + w_bulk P_bulk g
	WBulk     float64 `json:"w_bulk"`

	K            int     `json:"k"`             // Dominant subspace size
	RefreshEvery int     `json:"refresh_every"` // T: refresh every T steps; 0 only on request
	HessianSet   int     `json:"hessian_set"`   // |S|; 0: all of the training set up to 2048 examples
	Tol          float64 `json:"tol"`           // eigensolver relative residual tolerance

	EvalEvery     int     `json:"eval_every"`     // full-train and test loss every this many steps
	EnergyEvery   int     `json:"energy_every"`   // Hutchinson energies on every this-many-th refresh (0: never)
	HutchSamples  int     `json:"hutch_samples"`  // Rademacher probes per energy estimate
	DivergeFactor float64 `json:"diverge_factor"` // a minibatch loss above this × the initial training loss counts as divergence
	KeepEvery     int     `json:"keep_every"`     // automatic checkpoint every this many steps
}

// Alpha maps the weights back to the slider: α = w_bulk/2 when w_dom = 1, 1 − w_dom/2 when
// w_bulk = 1; NaN for a pair off the slider's path.
func (c *Config) Alpha() float64 { return AlphaOf(c.WDom, c.WBulk) }

// Weights returns (w_dom, w_bulk) for the slider position α ∈ [0, 1]:
//
//	w_dom = min(1, 2(1−α)),  w_bulk = min(1, 2α)   (α=0 Dom-SGD, α=½ SGD, α=1 Bulk-SGD)
func Weights(alpha float64) (wDom, wBulk float64) {
	alpha = math.Max(0, math.Min(1, alpha))
	return math.Min(1, 2*(1-alpha)), math.Min(1, 2*alpha)
}

// AlphaOf inverts Weights; NaN when (wDom, wBulk) is not on the slider's path.
func AlphaOf(wDom, wBulk float64) float64 {
	switch {
	case wDom == 1 && wBulk >= 0 && wBulk <= 1:
		return wBulk / 2
	case wBulk == 1 && wDom >= 0 && wDom <= 1:
		return 1 - wDom/2
	}
	return math.NaN()
}

// StabilityThreshold is 2/η for gradient descent, (2+2β)/η with heavy-ball momentum, and
// NaN for Adam (whose threshold depends on the preconditioner).
func (c *Config) StabilityThreshold() float64 {
	if c.Optimizer == "adam" {
		return math.NaN()
	}
	return (2 + 2*c.Momentum) / c.LR
}

// ThresholdName is how the stability threshold is written: "2/η", or "(2+2β)/η" with
// momentum.
func (c *Config) ThresholdName() string {
	if c.Momentum > 0 {
		return "(2+2β)/η"
	}
	return "2/η"
}

var presets = map[string]Config{}

func init() {
	base := Config{
		N: 1500, TestFrac: 1.0 / 3, Act: "tanh", Loss: "ce", Init: "pytorch", Seed: 1,
		Optimizer: "sgd", LR: 0.1, Beta2: 0.999, Eps: 1e-8, Batch: 32, WDom: 1, WBulk: 1,
		K: 10, RefreshEvery: 1, HessianSet: 0, Tol: 1e-6,
		EvalEvery: 10, EnergyEvery: 20, HutchSamples: 16, DivergeFactor: 20, KeepEvery: 100,
	}
	with := func(name string, f func(c *Config)) {
		c := base
		c.Preset = name
		c.Hidden = []int{16, 16}
		f(&c)
		presets[name] = c
	}
	// The calibration set of DESIGN.md: 10-class Gaussian mixture in 20 dimensions, 1000
	// training examples, MLP 20-16-16-10 tanh (P = 778), per-step refresh of the top 10.
	with("demo", func(c *Config) { c.Data = "gaussian" })
	with("mnist", func(c *Config) {
		c.Data, c.Hidden, c.Batch, c.HessianSet, c.RefreshEvery = "mnist14", []int{32, 32}, 64, 1024, 10
	})
	// Progressive sharpening to 2/η under full-batch gradient descent (Cohen et al. 2021):
	// MSE, 250 training examples, no minibatch noise. Measured: λ₁ rises from 2.35 to 5.46
	// by step 700, then hovers at 2/η = 5.00 while the loss keeps falling.
	with("eos", func(c *Config) {
		c.Data, c.N, c.TestFrac, c.Loss, c.Batch, c.LR, c.K, c.RefreshEvery = "gaussian", 375, 1.0/3, "mse", 0, 0.4, 2, 5
		c.Hidden = []int{32, 32}
	})
	for _, toy := range []string{"moons", "circles", "xor"} {
		with(toy, func(c *Config) { c.Data, c.K, c.Hidden = toy, 2, []int{32, 32} })
	}
	with("spirals", func(c *Config) { c.Data, c.K, c.Hidden = "spirals", 3, []int{32, 32} })
	with("teacher", func(c *Config) { c.Data, c.Loss, c.K, c.LR, c.Hidden = "teacher", "mse", 5, 0.05, []int{32, 32} })
}

// Presets lists the preset names in order: demo first, then the rest alphabetically.
func Presets() []string {
	names := []string{"demo"}
	for n := range presets {
		if n != "demo" {
			names = append(names, n)
		}
	}
	sort.Strings(names[1:])
	return names
}

// Preset returns the named preset.
func Preset(name string) (Config, error) {
	c, ok := presets[name]
	if !ok {
		return Config{}, fmt.Errorf("unknown preset %q (allowed: %s)", name, strings.Join(Presets(), ", "))
	}
	c.Hidden = append([]int(nil), c.Hidden...)
	return c, nil
}

// Validate checks every field and says what is allowed.
func (c *Config) Validate() error {
	var errs []string
	bad := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }
	if c.Data == "" {
		bad("data: empty (allowed: gaussian, moons, spirals, circles, xor, teacher, mnist, mnist14, or a .csv path)")
	}
	if c.N < 4 && !isFileData(c.Data) && !strings.HasPrefix(c.Data, "mnist") {
		bad("n: %d, want ≥ 4", c.N)
	}
	if !(c.TestFrac >= 0 && c.TestFrac < 1) {
		bad("test_frac: %v, want in [0, 1)", c.TestFrac)
	}
	for _, h := range c.Hidden {
		if h <= 0 || h > 100000 {
			bad("hidden: width %d, want 1…100000", h)
		}
	}
	if _, err := nn.ParseActivation(c.Act); err != nil {
		bad("act: %v", err)
	}
	if _, err := nn.ParseLoss(c.Loss); err != nil {
		bad("loss: %v", err)
	}
	if _, err := nn.ParseInit(c.Init); err != nil {
		bad("init: %v", err)
	}
	if c.Optimizer != "sgd" && c.Optimizer != "adam" {
		bad("optimizer: %q (allowed: sgd, adam)", c.Optimizer)
	}
	if !(c.LR > 0) || math.IsInf(c.LR, 0) {
		bad("lr: %v, want > 0", c.LR)
	}
	if !(c.Momentum >= 0 && c.Momentum < 1) {
		bad("momentum: %v, want in [0, 1)", c.Momentum)
	}
	if !(c.Beta2 >= 0 && c.Beta2 < 1) || !(c.Eps > 0) {
		bad("adam: beta2 %v in [0, 1) and eps %v > 0 required", c.Beta2, c.Eps)
	}
	if c.Batch < 0 {
		bad("batch: %d, want ≥ 0 (0: full batch)", c.Batch)
	}
	if !(c.WDom >= 0 && c.WDom <= 10) || !(c.WBulk >= 0 && c.WBulk <= 10) {
		bad("w_dom, w_bulk: %v, %v, want each in [0, 10]", c.WDom, c.WBulk)
	}
	if c.K < 1 || c.K > 1000 {
		bad("k: %d, want 1…1000", c.K)
	}
	if c.RefreshEvery < 0 {
		bad("refresh_every: %d, want ≥ 0 (0: only on request)", c.RefreshEvery)
	}
	if c.HessianSet < 0 {
		bad("hessian_set: %d, want ≥ 0 (0: all of the training set up to 2048)", c.HessianSet)
	}
	if !(c.Tol > 0 && c.Tol < 1) {
		bad("tol: %v, want in (0, 1)", c.Tol)
	}
	if c.EvalEvery < 1 {
		bad("eval_every: %d, want ≥ 1", c.EvalEvery)
	}
	if c.EnergyEvery < 0 || c.HutchSamples < 2 {
		bad("energy_every %d ≥ 0 and hutch_samples %d ≥ 2 required", c.EnergyEvery, c.HutchSamples)
	}
	if !(c.DivergeFactor > 1) {
		bad("diverge_factor: %v, want > 1", c.DivergeFactor)
	}
	if c.KeepEvery < 1 {
		bad("keep_every: %d, want ≥ 1", c.KeepEvery)
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid configuration:\n  %s", strings.Join(errs, "\n  "))
	}
	return nil
}

func isFileData(s string) bool { return strings.HasSuffix(strings.ToLower(s), ".csv") }

// LoadConfigFile reads a JSON config: a preset named by its "preset" field (default demo),
// then the file's other fields over it. Unknown fields are an error.
func LoadConfigFile(path string) (Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	var head struct {
		Preset string `json:"preset"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return Config{}, fmt.Errorf("%s: %v", path, err)
	}
	if head.Preset == "" {
		head.Preset = "demo"
	}
	c, err := Preset(head.Preset)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %v", path, err)
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("%s: %v", path, err)
	}
	return c, c.Validate()
}

// Flags registers one flag per field on fs, writing into c; call with c already set to the
// preset so that the defaults shown are the preset's. Returns a function that applies the
// parsed --alpha (which sets w_dom and w_bulk) and --hidden.
func (c *Config) Flags(fs *flag.FlagSet) (apply func() error) {
	fs.StringVar(&c.Data, "data", c.Data, "data set: gaussian, moons, spirals, circles, xor, teacher, mnist, mnist14, or a CSV file")
	fs.IntVar(&c.N, "n", c.N, "examples to generate for synthetic data (train + test)")
	fs.Float64Var(&c.TestFrac, "test-frac", c.TestFrac, "share of the data held out as the test set")
	hidden := fs.String("hidden", joinInts(c.Hidden), "hidden widths, e.g. 16-16")
	fs.StringVar(&c.Act, "act", c.Act, "activation: tanh, relu, gelu, softplus, identity")
	fs.StringVar(&c.Loss, "loss", c.Loss, "loss: ce or mse")
	fs.StringVar(&c.Init, "init", c.Init, "initialisation: pytorch or normal")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "seed of initialisation, data and minibatch order")
	fs.StringVar(&c.Optimizer, "optimizer", c.Optimizer, "sgd (heavy-ball momentum) or adam")
	fs.Float64Var(&c.LR, "lr", c.LR, "learning rate η")
	fs.Float64Var(&c.Momentum, "momentum", c.Momentum, "momentum β (Adam: β₁)")
	fs.IntVar(&c.Batch, "batch", c.Batch, "minibatch size (0: full batch)")
	alpha := fs.String("alpha", "", "slider α in [0,1]: 0 Dom-SGD, 0.5 SGD, 1 Bulk-SGD (sets w-dom and w-bulk)")
	fs.Float64Var(&c.WDom, "w-dom", c.WDom, "weight of the Dominant component of the update")
	fs.Float64Var(&c.WBulk, "w-bulk", c.WBulk, "weight of the Bulk component of the update")
	fs.IntVar(&c.K, "k", c.K, "Dominant subspace size")
	fs.IntVar(&c.RefreshEvery, "refresh", c.RefreshEvery, "refresh the eigenspace every T steps (0: only on request)")
	fs.IntVar(&c.HessianSet, "hessian-set", c.HessianSet, "examples in the Hessian set (0: all of the training set up to 2048)")
	fs.Float64Var(&c.Tol, "tol", c.Tol, "eigensolver relative residual tolerance")
	fs.IntVar(&c.EvalEvery, "eval-every", c.EvalEvery, "measure full-train and test loss every N steps")
	fs.IntVar(&c.EnergyEvery, "energy-every", c.EnergyEvery, "estimate curvature energies on every N-th refresh (0: never)")
	fs.IntVar(&c.HutchSamples, "hutch-samples", c.HutchSamples, "Hutchinson probes per energy estimate")
	fs.Float64Var(&c.DivergeFactor, "diverge-factor", c.DivergeFactor, "divergence: a minibatch loss above this × the initial training loss (or NaN/Inf)")
	fs.IntVar(&c.KeepEvery, "keep-every", c.KeepEvery, "automatic checkpoint for rollback every N steps")
	return func() error {
		if *alpha != "" {
			a, err := strconv.ParseFloat(*alpha, 64)
			if err != nil || !(a >= 0 && a <= 1) {
				return fmt.Errorf("--alpha %q: want a number in [0, 1]", *alpha)
			}
			c.WDom, c.WBulk = Weights(a)
		}
		h, err := parseHidden(*hidden)
		if err != nil {
			return err
		}
		c.Hidden = h
		return nil
	}
}

func joinInts(w []int) string {
	s := make([]string, len(w))
	for i, v := range w {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, "-")
}

func parseHidden(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" || s == "none" {
		return nil, nil
	}
	w, err := nn.ParseWidths(s + "-1") // the output width is the data's; 1 stands in for it
	if err != nil {
		return nil, fmt.Errorf("--hidden %q: want positive widths like 16-16", s)
	}
	return w[:len(w)-1], nil
}
