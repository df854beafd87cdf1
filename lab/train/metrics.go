package train

import (
	"encoding/json"
	"math"
	"strconv"
)

// Num is a float64 that is written to JSON as null when it is NaN ("not measured this step")
// and as a string "±Inf" when infinite (a diverged loss), so every line stays valid JSON.
type Num float64

// NA is the value of a metric not measured this step.
var NA = Num(math.NaN())

// MarshalJSON writes null for NaN.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	switch {
	case math.IsNaN(f):
		return []byte("null"), nil
	case math.IsInf(f, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(f, -1):
		return []byte(`"-Inf"`), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (n *Num) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "null":
		*n = NA
		return nil
	case `"+Inf"`:
		*n = Num(math.Inf(1))
		return nil
	case `"-Inf"`:
		*n = Num(math.Inf(-1))
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	*n = Num(f)
	return err
}

// Valid reports whether the metric was measured.
func (n Num) Valid() bool { return !math.IsNaN(float64(n)) }

// OptNum is a Num that is left out of JSON when NaN (with the `omitzero` option): a metric
// that only some sessions measure, so that the files of the others stay as they were.
type OptNum float64

// IsZero is true when the metric was not measured (NaN), for `omitzero`.
func (n OptNum) IsZero() bool { return math.IsNaN(float64(n)) }

// Valid reports whether the metric was measured.
func (n OptNum) Valid() bool { return !n.IsZero() }

// MarshalJSON writes the number as Num does.
func (n OptNum) MarshalJSON() ([]byte, error) { return Num(n).MarshalJSON() }

// UnmarshalJSON reads what MarshalJSON writes.
func (n *OptNum) UnmarshalJSON(b []byte) error { return (*Num)(n).UnmarshalJSON(b) }

// Metrics is one line of metrics.jsonl: the state after one step. Fields that are not
// measured every step are null (NA) on the steps where they were not.
type Metrics struct {
	Step int `json:"step"` // steps completed

	Loss      Num `json:"loss"`       // minibatch data loss before this step's update (no weight-decay penalty)
	GradNorm  Num `json:"grad_norm"`  // ‖g‖ of the minibatch gradient
	TrainLoss Num `json:"train_loss"` // full training set, every eval_every steps
	TrainAcc  Num `json:"train_acc"`
	TestLoss  Num `json:"test_loss"`
	TestAcc   Num `json:"test_acc"`

	Sharpness          Num `json:"sharpness"`           // λ₁ of the current basis (Hessian set)
	StabilityThreshold Num `json:"stability_threshold"` // 2/η or (2+2β)/η; null for Adam
	ChiGrad            Num `json:"chi_grad"`            // ‖P_dom g‖/‖g‖, minibatch gradient
	ChiFullGrad        Num `json:"chi_full_grad"`       // same for the full-train gradient (eval steps)
	BulkShare          Num `json:"bulk_share"`          // 1 − χ² of the minibatch gradient

	// BulkTop is λ_{k+1} of the current basis, the top of the Bulk, on every step when the
	// trainer computes it (SetExtraPair); otherwise NaN, left out of metrics.jsonl, so the
	// files of runs without it are unchanged. It is never a column of metrics.csv. A reader
	// of metrics.jsonl should take NaN as its default.
	BulkTop OptNum `json:"bulk_top,omitzero"`

	// BatchSharpness is λ_B = E_B[g_Bᵀ H_B g_B / ‖g_B‖²] over fresh minibatches, and
	// UpdateSharpness λ_d, the same along the update in force d_B (EstimateBatchSharpness),
	// each with its standard error, at θ before this step's update, on the steps
	// Config.BatchSharpnessEvery asks for; otherwise NaN, left out of metrics.jsonl, and never
	// columns of metrics.csv, so the files of runs without them are unchanged.
	BatchSharpness        OptNum `json:"batch_sharpness,omitzero"`
	BatchSharpnessStderr  OptNum `json:"batch_sharpness_stderr,omitzero"`
	UpdateSharpness       OptNum `json:"update_sharpness,omitzero"`
	UpdateSharpnessStderr OptNum `json:"update_sharpness_stderr,omitzero"`
	// BatchSharpnessMinibatch says that the estimate drew minibatches (B < N), so that λ_d is
	// the curvature a minibatch step feels; false for the full batch (λ_d is then the
	// full-batch quotient) and where nothing was measured. Not written to the files.
	BatchSharpnessMinibatch bool `json:"-"`

	Alpha Num     `json:"alpha"` // slider position; null when (w_dom, w_bulk) is off its path
	WDom  float64 `json:"w_dom"`
	WBulk float64 `json:"w_bulk"`
	// Update names the rule in force when it is not a blend (Config.Update, e.g.
	// "dom-damped"); w_dom is then its weight on v₁. Left out for a blend, and never a column
	// of metrics.csv, so the files of blend runs are unchanged.
	Update    RuleSpec  `json:"update,omitzero"`
	LR        float64   `json:"lr"`
	Momentum  float64   `json:"momentum"`
	Optimizer Optimizer `json:"optimizer"`
	Batch     int       `json:"batch"`
	K         int       `json:"k"`
	Refresh   int       `json:"refresh_every"`

	// On the steps where the eigenspace was refreshed (before this step's update):
	Refreshed     bool      `json:"refreshed"`
	Spectrum      []float64 `json:"spectrum,omitempty"`            // λ₁ … λ_k
	Residuals     []float64 `json:"residuals,omitempty"`           // ‖Hv − λv‖ per pair
	GGNRayleigh   []float64 `json:"ggn_rayleigh,omitempty"`        // vᵢᵀGvᵢ
	FuncRayleigh  []float64 `json:"functional_rayleigh,omitempty"` // vᵢᵀFvᵢ
	Overlap       Num       `json:"overlap"`                       // ‖V_oldᵀV_new‖²_F / k
	RefreshHVPs   int       `json:"refresh_hvps"`                  // products used by the refresh
	RefreshMS     Num       `json:"refresh_ms"`
	EnergyH       Num       `json:"energy_H"` // ‖VᵀAV‖²_F / ‖A‖²_F, Hutchinson denominators
	EnergyHStderr Num       `json:"energy_H_stderr"`
	EnergyG       Num       `json:"energy_G"`
	EnergyGStderr Num       `json:"energy_G_stderr"`
	EnergyF       Num       `json:"energy_F"`
	EnergyFStderr Num       `json:"energy_F_stderr"`

	StepsPerSec Num     `json:"steps_per_sec"` // recent throughput
	WallSec     float64 `json:"wall_sec"`      // seconds since the run started

	// BasisStep is the step of the basis in use (Eigenspace.Step: steps completed when it
	// was computed; -1 before the first refresh), for telling how old Sharpness and BulkTop
	// are. Not written to the files.
	BasisStep int `json:"-"`
}

// UnmarshalJSON reads a line of metrics.jsonl. The optional metrics (OptNum) a line leaves
// out read as NaN, "not measured", not as 0.
func (m *Metrics) UnmarshalJSON(b []byte) error {
	type plain Metrics // without this method
	m.BulkTop, m.BatchSharpness, m.BatchSharpnessStderr = OptNum(math.NaN()), OptNum(math.NaN()), OptNum(math.NaN())
	m.UpdateSharpness, m.UpdateSharpnessStderr = OptNum(math.NaN()), OptNum(math.NaN())
	return json.Unmarshal(b, (*plain)(m))
}
