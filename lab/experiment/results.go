package experiment

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"sharpflat/lab/train"
)

// PointResult is what was measured at one θ: full-set losses and, if asked, the top of the
// Hessian spectrum.
type PointResult struct {
	Step      int       `json:"step"`
	TrainLoss train.Num `json:"train_loss"`
	TestLoss  train.Num `json:"test_loss"`
	TrainAcc  train.Num `json:"train_acc"`
	TestAcc   train.Num `json:"test_acc"`
	Spectrum  []float64 `json:"spectrum,omitempty"` // top Probe eigenvalues of H on the Hessian set
	Residuals []float64 `json:"residuals,omitempty"`
}

// ArmResult is the summary of one arm (its complete.json).
type ArmResult struct {
	Group  string      `json:"group"`
	Arm    Arm         `json:"arm"`
	Seed   uint64      `json:"seed"`
	Loss   string      `json:"loss"`
	Start  PointResult `json:"start"` // at the switch
	End    PointResult `json:"end"`   // at the last completed step
	P      int         `json:"P"`     // parameters of the network
	Steps  int         `json:"steps"` // steps completed after the switch
	WallS  float64     `json:"wall_sec"`
	Diverg int         `json:"diverged_at"` // step of the divergence, 0 if none

	MaxTrainLoss   train.Num `json:"max_train_loss"` // over the arm's evaluations (and its end)
	MaxBatchLoss   train.Num `json:"max_batch_loss"` // over the arm's minibatch losses
	MeanChi        train.Num `json:"mean_chi"`       // mean χ(g) on the arm's refresh steps
	FinalSharpness train.Num `json:"final_sharpness"`
	MaxSharpness   train.Num `json:"max_sharpness"`
}

// Diverged reports whether the arm's training diverged.
func (r *ArmResult) Diverged() bool { return r.Diverg > 0 }

// WarmupResult is the summary of a warm-up (its complete.json).
type WarmupResult struct {
	Group string      `json:"group"`
	Steps int         `json:"steps"`
	Point PointResult `json:"point"` // at the switch
	WallS float64     `json:"wall_sec"`
}

// Results are the summaries of a plan's finished runs, in plan order.
type Results struct {
	Dir     string
	Plan    Plan
	Warmups map[string]WarmupResult
	Arms    []ArmResult
	Missing []string // ids of the arms not finished
}

// Find returns the arm result of group g and arm a, or nil if it is not finished.
func (r *Results) Find(g, a string) *ArmResult {
	for i := range r.Arms {
		if r.Arms[i].Group == g && r.Arms[i].Arm.Name == a {
			return &r.Arms[i]
		}
	}
	return nil
}

// RunDirOf is the run directory of an arm ("warmup" for the warm-up).
func (r *Results) RunDirOf(group, arm string) string { return armDir(r.Dir, group, arm) }

// LoadResults reads the plan and the summaries of the finished runs of an experiment
// directory.
func LoadResults(dir string) (*Results, error) {
	plan, err := readPlan(dir)
	if err != nil {
		return nil, err
	}
	res := &Results{Dir: dir, Plan: *plan, Warmups: map[string]WarmupResult{}}
	for _, g := range res.Plan.Groups {
		var w WarmupResult
		if ok, err := readComplete(res.RunDirOf(g.Name, "warmup"), &w); err != nil {
			return nil, err
		} else if ok {
			res.Warmups[g.Name] = w
		}
		for _, a := range g.Arms {
			var r ArmResult
			if ok, err := readComplete(res.RunDirOf(g.Name, a.Name), &r); err != nil {
				return nil, err
			} else if ok {
				res.Arms = append(res.Arms, r)
			} else {
				res.Missing = append(res.Missing, g.Name+"/"+a.Name)
			}
		}
	}
	return res, nil
}

const completeFile = "complete.json"

// readComplete reads dir/complete.json into v; false when the run is not complete.
func readComplete(dir string, v any) (bool, error) {
	raw, err := os.ReadFile(filepath.Join(dir, completeFile))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, fmt.Errorf("%s/%s: %v", dir, completeFile, err)
	}
	return true, nil
}
