package train

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"

	"sharpflat/nn"
)

// Config is everything that defines a run. A preset fills it; command-line flags or a JSON
// file override single fields. The same Config gives bit-identical runs.
//
// Each field is described once, in its tags: `json` is its name in config.json, `flag` its
// command-line flag, `help` the flag's text, `check` the interval it must lie in (checked by
// Validate) and `note` what its special values mean. Fields() turns the tags into the table
// that flags, JSON overrides and validation share.
type Config struct {
	Preset string `json:"preset"`

	// Data: a synthetic name (gaussian, moons, spirals, circles, xor, teacher), "mnist" (2000
	// training and 500 test images embedded, 28×28), "mnist14" (the same downsampled to
	// 14×14), "mnist5k" (5000 training and 1000 test images embedded, 28×28), or a CSV path.
	Data string `json:"data" flag:"data" help:"data set: gaussian, moons, spirals, circles, xor, teacher, mnist, mnist14, mnist5k, or a CSV file"`
	N    int    `json:"n" flag:"n" help:"examples to generate for synthetic data (train + test)"`
	// Noise is σ of a synthetic set's noise (nn.SyntheticNoise); unset, the set's own, and
	// left out of config.json, so the data of a run that does not set it are unchanged.
	Noise    Noise   `json:"noise,omitzero" flag:"noise" help:"noise σ of a synthetic data set (default: the set's own, e.g. moons 0.1)"`
	TestFrac float64 `json:"test_frac" flag:"test-frac" help:"share of the data held out as the test set" check:"[0,1)"`
	// Features are the network's inputs computed from 2-D data (features.go); the default
	// (x₁, x₂) is the zero value, left out of config.json.
	Features FeatureSet `json:"features,omitzero" flag:"features" help:"input features of 2-D data, comma-separated: x1, x2, x1sq, x2sq, x1x2, sinx1, sinx2"`

	Hidden []int         `json:"hidden" flag:"hidden" help:"hidden widths, e.g. 16-16 (none: a linear model)"`
	Act    nn.Activation `json:"act" flag:"act" help:"activation: tanh, relu, gelu, softplus, identity"`
	Loss   nn.Loss       `json:"loss" flag:"loss" help:"loss: ce or mse"`
	Init   nn.InitScheme `json:"init" flag:"init" help:"initialisation: pytorch or normal"`
	Seed   uint64        `json:"seed" flag:"seed" help:"seed of initialisation, data and minibatch order"`

	Optimizer Optimizer `json:"optimizer" flag:"optimizer" help:"sgd (heavy-ball momentum) or adam"`
	LR        float64   `json:"lr" flag:"lr" help:"learning rate η" check:"(0,inf)"`
	Momentum  float64   `json:"momentum" flag:"momentum" help:"momentum β (Adam: β₁)" check:"[0,1)"`
	Beta2     float64   `json:"beta2" flag:"beta2" help:"Adam's β₂" check:"[0,1)"`
	Eps       float64   `json:"eps" flag:"eps" help:"Adam's ε" check:"(0,inf)"`
	// WeightDecay is λ of the L2 penalty (λ/2)‖θ‖² on every parameter, biases too, as
	// PyTorch's weight_decay (nn.Bound.SetWeightDecay): the step's gradient gets + λθ before
	// the update rule and the optimizer (for Adam too: coupled L2 as PyTorch's Adam, not
	// AdamW), and the Hessian, the GGN and every eigenvalue the lab measures get + λ. The
	// losses in the metrics stay the data loss. Left out of config.json at 0.
	WeightDecay float64 `json:"weight_decay,omitempty" flag:"weight-decay" help:"weight decay λ: pulls every weight toward 0 a little each step (adds (λ/2)‖θ‖² to the loss, so λ to every Hessian eigenvalue; a projected update projects it too)" check:"[0,10]" note:"0: off"`
	Batch       int     `json:"batch" flag:"batch" help:"minibatch size (0: full batch)" check:"[0,inf)" note:"0: full batch"`
	WDom        float64 `json:"w_dom" flag:"w-dom" help:"weight of the Dominant component of the update" check:"[0,10]"`
	WBulk       float64 `json:"w_bulk" flag:"w-bulk" help:"weight of the Bulk component of the update" check:"[0,10]"`
	// Update names an update rule that is not a blend of the two weights (Rule, ParseRule):
	// empty, and left out of config.json and of the fingerprint, for the blend (w_dom,
	// w_bulk). When set it is the rule in force and w_dom, w_bulk do not count. A blend
	// written here ("sgd", "alpha=0.3") is moved into w_dom and w_bulk as it is read.
	Update RuleSpec `json:"update,omitempty" flag:"update" help:"update rule instead of --w-dom/--w-bulk: dom-damped or dom-damped=C (slows only the directions above C × the edge)"`

	K            int     `json:"k" flag:"k" help:"Dominant subspace size" check:"[1,1000]"`
	RefreshEvery int     `json:"refresh_every" flag:"refresh" help:"refresh the eigenspace every T steps (0: only on request)" check:"[0,inf)" note:"0: only on request"`
	HessianSet   int     `json:"hessian_set" flag:"hessian-set" help:"examples in the Hessian set (0: all of the training set up to 2048)" check:"[0,inf)" note:"0: all of the training set up to 2048"`
	Tol          float64 `json:"tol" flag:"tol" help:"eigensolver relative residual tolerance" check:"(0,1)"`

	EvalEvery     int     `json:"eval_every" flag:"eval-every" help:"measure full-train and test loss every N steps" check:"[1,inf)"`
	EnergyEvery   int     `json:"energy_every" flag:"energy-every" help:"estimate curvature energies on every N-th refresh (0: never)" check:"[0,inf)" note:"0: never"`
	HutchSamples  int     `json:"hutch_samples" flag:"hutch-samples" help:"Hutchinson probes per energy estimate" check:"[2,10000]"` // ≤ MaxHutchSamples
	DivergeFactor float64 `json:"diverge_factor" flag:"diverge-factor" help:"divergence: a minibatch loss above this × the initial training loss (or NaN/Inf)" check:"(1,inf)"`
	KeepEvery     int     `json:"keep_every" flag:"keep-every" help:"automatic checkpoint for rollback every N steps" check:"[1,inf)"`

	// Batch sharpness (EstimateBatchSharpness) every N steps, at the step's θ before its
	// update, from BatchSharpnessBatches fresh minibatches of the run's batch size: one
	// minibatch HVP a batch, two under a projected rule. A measurement only: it draws its
	// batches from its own seed and leaves the trajectory as it is. Both are left out of
	// config.json at 0, so the files of runs without them are unchanged.
	BatchSharpnessEvery   int `json:"batch_sharpness_every,omitempty" flag:"batch-sharpness-every" help:"estimate batch sharpness λ_B and the update's batch curvature λ_d every N steps (0: never)" check:"[0,inf)" note:"0: never"`
	BatchSharpnessBatches int `json:"batch_sharpness_batches,omitempty" flag:"batch-sharpness-batches" help:"minibatches per batch-sharpness estimate (0: 32)" check:"[0,10000]" note:"0: 32"`
}

// DefaultBatchSharpnessBatches is the number of minibatches of a batch-sharpness estimate
// when BatchSharpnessBatches is 0.
const DefaultBatchSharpnessBatches = 32

// SharpnessBatches is BatchSharpnessBatches, or its default when 0.
func (c *Config) SharpnessBatches() int {
	if c.BatchSharpnessBatches > 0 {
		return c.BatchSharpnessBatches
	}
	return DefaultBatchSharpnessBatches
}

// MaxWidth is the widest hidden layer a configuration may ask for.
const MaxWidth = 100000

// MaxHutchSamples bounds the Hutchinson probes of one energy estimate (hutch_samples, and
// `hessian --hutch-samples`): each is one curvature product, and the standard error falls
// only as 1/√m, so 10000 probes already give a hundredth of one probe's error. A billion
// (accepted once) is a computation of days. HutchSamples' check tag says the same.
const MaxHutchSamples = 10000

// Alpha maps the update back to the slider: α = w_bulk/2 when w_dom = 1, 1 − w_dom/2 when
// w_bulk = 1; NaN for a pair off the slider's path, and for a rule that is not a blend
// (Update set: w_dom and w_bulk do not count).
func (c *Config) Alpha() float64 {
	b, ok := c.Rule().(Blend)
	if !ok {
		return math.NaN()
	}
	return AlphaOf(b.Dom, b.Bulk)
}

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
	if c.Optimizer == Adam {
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

// Validate checks every field against its tag and the rules that tie fields together, and
// lists everything that is wrong.
func (c *Config) Validate() error {
	var errs []string
	bad := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }
	if c.Data == "" {
		bad("data: empty (allowed: gaussian, moons, spirals, circles, xor, teacher, mnist, mnist14, mnist5k, or a .csv path)")
	}
	if c.N < 4 && !isFileData(c.Data) && !isMNIST(c.Data) {
		bad("n: %d, want ≥ 4", c.N)
	}
	for _, h := range c.Hidden {
		if h <= 0 || h > MaxWidth {
			bad("hidden: width %d, want 1…%d", h, MaxWidth)
		}
	}
	for _, f := range fields {
		if msg := f.check(c); msg != "" {
			bad("%s", msg)
		}
	}
	if msg := checkNoise(c); msg != "" {
		bad("%s", msg)
	}
	if !c.Features.IsZero() { // a CSV file's width is checked as it is read (loadData)
		if d, ok := knownInputs(c.Data); ok {
			if msg := checkFeatures(c, d); msg != "" {
				bad("%s", msg)
			}
		}
	}
	if c.Update != "" {
		if _, err := ParseRule(string(c.Update)); err != nil {
			bad("update: %v", err)
		}
	}
	if _, ok := c.Rule().(DomDamped); ok && c.Optimizer == Adam {
		bad("update: %s damps by the stability threshold, which Adam does not have", c.Update)
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid configuration:\n  %s", strings.Join(errs, "\n  "))
	}
	return nil
}

func isFileData(s string) bool { return strings.HasSuffix(strings.ToLower(s), ".csv") }

func isMNIST(s string) bool { return s == "mnist" || s == "mnist14" || s == "mnist5k" }

// LoadConfigFile reads a JSON config: the preset named by its "preset" field (default demo),
// then the file's other fields over it. Unknown fields and unknown names are errors.
func LoadConfigFile(path string) (Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	c, err := ParseConfig(raw)
	if err != nil {
		return c, fmt.Errorf("%s: %v", path, err)
	}
	return c, nil
}

// ParseConfig reads a JSON config as LoadConfigFile does.
func ParseConfig(raw []byte) (Config, error) {
	var head struct {
		Preset string `json:"preset"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return Config{}, err
	}
	if head.Preset == "" {
		head.Preset = "demo"
	}
	c, err := Preset(head.Preset)
	if err != nil {
		return Config{}, err
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, err
	}
	c.normalizeRule()
	return c, c.Validate()
}
