package experiment

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"sharpflat/lab/train"
)

// Experiment is a family of runs with its report: what it sweeps, how it plans its arms, and
// what it concludes from them.
type Experiment struct {
	Name    string
	Summary string // one line
	Preset  string // the preset it starts from unless told otherwise
	// Heavy experiments take hours by default and are left out of "all".
	Heavy bool
	// Config holds the settings the experiment puts over its preset unless the user gives
	// them; QuickConfig adds (or replaces) the fast variant's.
	Config, QuickConfig []Setting
	// Swept maps the names of the train.Config settings the experiment sweeps (and so
	// refuses as overrides) to what to use instead.
	Swept map[string]string
	// Defaults is the sweep run by default, or by the fast variant.
	Defaults func(quick bool) Sweep
	plan     func(base train.Config, s Sweep) Plan
	report   func(res *Results, s Sweep) (*Report, error)
	// narrow cuts the sweep down to the values whose arms are all finished (a partial
	// report).
	narrow func(res *Results, s Sweep) (Sweep, error)
}

// All lists the experiments in the order of the docs.
var All = []*Experiment{Switch, Alpha, Stability, Curvature, EOS, Song}

// Names lists the experiments' names in order.
func Names() []string {
	n := make([]string, len(All))
	for i, x := range All {
		n[i] = x.Name
	}
	return n
}

// Standard lists the names of the experiments "all" runs: every one but the heavy ones.
func Standard() []string {
	var n []string
	for _, x := range All {
		if !x.Heavy {
			n = append(n, x.Name)
		}
	}
	return n
}

// Lookup returns the experiment with the given name.
func Lookup(name string) (*Experiment, error) {
	for _, x := range All {
		if x.Name == name {
			return x, nil
		}
	}
	return nil, fmt.Errorf("unknown experiment %q (allowed: %s, all)", name, strings.Join(Names(), ", "))
}

// BaseConfig is the experiment's preset with its settings applied (for callers without a
// command line).
func (x *Experiment) BaseConfig(quick bool) (train.Config, error) {
	c, err := train.Preset(x.Preset)
	if err != nil {
		return c, err
	}
	x.ApplySettings(&c, quick, nil)
	return c, c.Validate()
}

// Plan fills the sweep's unset values with the experiment's defaults, checks it and the base
// config, and plans the runs.
func (x *Experiment) Plan(base train.Config, s Sweep) (Plan, Sweep, error) {
	s = s.fill(x.Defaults(s.Quick))
	if err := s.validate(); err != nil {
		return Plan{}, s, fmt.Errorf("%s: %v", x.Name, err)
	}
	if err := base.Validate(); err != nil {
		return Plan{}, s, err
	}
	plan := x.plan(base, s)
	plan.Experiment = x.Name
	for i := range plan.Groups {
		plan.Groups[i].BulkTop = s.BulkTop
	}
	return plan, s, plan.Validate()
}

// Options configures Run.
type Options struct {
	RunOptions
	Command string // the command line, quoted in the report
}

// Run plans the experiment over base (the preset with overrides) and the sweep, runs on this
// machine what is not yet finished in opts.Dir, and writes summary.csv, the figures and
// report.md there.
func (x *Experiment) Run(ctx context.Context, base train.Config, s Sweep, opts Options) (*Report, error) {
	plan, s, err := x.Plan(base, s)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	res, err := RunPlan(ctx, plan, opts.RunOptions)
	if err != nil {
		return nil, err
	}
	return x.writeReport(res, s, opts.Command, time.Since(t0))
}

// RunArm runs one arm of the plan (by id "GROUP/ARM" or index) into opts.Dir: the unit of
// work of a cluster job. An arm already finished there is skipped (reported by skipped); the
// group's warm-up is read from the directory when another process has finished it, and run
// (and published for the others) when not.
func (x *Experiment) RunArm(ctx context.Context, base train.Config, s Sweep, dir, arm string) (u Unit, skipped bool, err error) {
	plan, _, err := x.Plan(base, s)
	if err != nil {
		return u, false, err
	}
	if u, err = plan.Unit(arm); err != nil {
		return u, false, err
	}
	if err := claimDir(dir, &plan); err != nil {
		return u, false, err
	}
	if ok, _ := readComplete(armDir(dir, u.Group, u.Arm), &struct{}{}); ok {
		return u, true, nil
	}
	cp, start, err := loadOrRunWarmup(ctx, dir, u.g, nil)
	if err != nil {
		return u, false, err
	}
	_, err = runArm(ctx, dir, u.g, u.a, cp, start.Point, nil)
	return u, false, err
}

// Report builds summary.csv, the figures and report.md in dir from the arms finished there,
// and returns the report with the arms still missing (the report then covers only the values
// of the sweep whose arms are all finished, and says so). While no such value is finished
// there is no report: the error says so, and the missing arms are still returned, so that
// the caller can name them.
func (x *Experiment) Report(base train.Config, s Sweep, dir, command string) (*Report, []Unit, error) {
	plan, s, err := x.Plan(base, s)
	if err != nil {
		return nil, nil, err
	}
	if err := claimDir(dir, &plan); err != nil {
		return nil, nil, err
	}
	res, err := LoadResults(dir)
	if err != nil {
		return nil, nil, err
	}
	var missing []Unit
	for _, u := range plan.Units() {
		if slices.Contains(res.Missing, u.ID) {
			missing = append(missing, u)
		}
	}
	if len(res.Arms) == 0 {
		return nil, missing, fmt.Errorf("%s: no arm is finished in %s yet (%d missing): %w", x.Name, dir, len(res.Missing), errNothingFinished)
	}
	rep, err := x.writeReport(res, s, command, 0)
	return rep, missing, err
}

// Dir is the run directory of the arm in the experiment directory expDir: it holds
// complete.json once the arm is finished.
func (u Unit) Dir(expDir string) string { return armDir(expDir, u.Group, u.Arm) }

func (x *Experiment) writeReport(res *Results, s Sweep, command string, took time.Duration) (*Report, error) {
	if len(res.Missing) > 0 {
		var err error
		if s, err = x.narrow(res, s); err != nil {
			return nil, fmt.Errorf("%s: %w (%d arms missing)", x.Name, err, len(res.Missing))
		}
	}
	rep, err := x.report(res, s)
	if err != nil {
		return nil, fmt.Errorf("%s report: %v", x.Name, err)
	}
	rep.Experiment = x.Name
	if n := len(res.Missing); n > 0 {
		rep.Missing = res.Missing
	}
	if err := writeReport(res.Dir, rep, command, took); err != nil {
		return nil, err
	}
	return rep, nil
}
