package lab

// Experiments: families of headless runs that share a starting point.
//
// A Plan is a list of Groups. A Group trains one network (its Config, its seed) for Warmup
// steps and then runs each of its Arms from that same point: the same θ, optimizer state,
// eigenspace and minibatch order (the engine's checkpoint and rollback), with the arm's
// settings (η, w_dom, w_bulk, k, T, batch) switched in at the step boundary. Warmup 0 starts
// every arm from the initialisation. This is the protocol of Song, Ahn & Yun (ICLR 2025):
// train with SGD, then switch to Dom-SGD or Bulk-SGD from the same point.
//
// On disk (DIR is the experiment's directory):
//
//	DIR/plan.json                     the plan; a rerun with another plan is refused
//	DIR/runs/GROUP/warmup/            run directory of the warm-up (steps 1…Warmup)
//	DIR/runs/GROUP/ARM/               run directory of an arm (steps Warmup+1…Warmup+Steps)
//	DIR/runs/GROUP/*/complete.json    written last: the run is complete (its summary)
//
// A run directory without complete.json is an interrupted run: a rerun deletes and redoes
// it, and skips every complete one. A group's warm-up is recomputed (it is deterministic)
// whenever one of its arms still has to run.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"time"
)

// Arm is one branch of a group: the settings switched in after the warm-up, and its length.
type Arm struct {
	Name    string  `json:"name"` // directory name under runs/GROUP/
	Steps   int     `json:"steps"`
	LR      float64 `json:"lr"`
	WDom    float64 `json:"w_dom"`
	WBulk   float64 `json:"w_bulk"`
	K       int     `json:"k"`
	Refresh int     `json:"refresh_every"`
	Batch   int     `json:"batch"`
	// Probe > 0 measures the top-Probe Hessian eigenvalues at the arm's last θ (cold Lanczos
	// on the Hessian set), e.g. to see λ_{k+1} next to 2/η.
	Probe int `json:"probe,omitempty"`
}

// Group is a warm-up shared by arms.
type Group struct {
	Name   string `json:"name"`
	Config Config `json:"config"` // the warm-up's settings, and every setting an arm keeps
	Warmup int    `json:"warmup"`
	// Probe > 0 measures the top-Probe Hessian eigenvalues at the switch point.
	Probe int   `json:"probe,omitempty"`
	Arms  []Arm `json:"arms"`
}

// Plan is the full list of runs of an experiment.
type Plan struct {
	Experiment string  `json:"experiment"`
	Groups     []Group `json:"groups"`
}

// armConfig is the configuration in force during the arm.
func (g *Group) armConfig(a *Arm) Config {
	c := g.Config
	c.LR, c.WDom, c.WBulk, c.K, c.RefreshEvery, c.Batch = a.LR, a.WDom, a.WBulk, a.K, a.Refresh, a.Batch
	return c
}

// ArmOf returns an arm that keeps every setting of the group's config.
func (g *Group) ArmOf(name string, steps int) Arm {
	c := &g.Config
	return Arm{Name: name, Steps: steps, LR: c.LR, WDom: c.WDom, WBulk: c.WBulk, K: c.K, Refresh: c.RefreshEvery, Batch: c.Batch}
}

// Validate checks the plan: configs, names, step counts.
func (p *Plan) Validate() error {
	if len(p.Groups) == 0 {
		return errors.New("experiment plan has no runs")
	}
	seen := map[string]bool{}
	for i := range p.Groups {
		g := &p.Groups[i]
		if !validName(g.Name) || seen[g.Name] {
			return fmt.Errorf("group %q: empty, duplicate or not a plain directory name", g.Name)
		}
		seen[g.Name] = true
		if g.Warmup < 0 {
			return fmt.Errorf("group %s: warm-up %d steps, want ≥ 0", g.Name, g.Warmup)
		}
		if err := g.Config.Validate(); err != nil {
			return fmt.Errorf("group %s: %v", g.Name, err)
		}
		arms := map[string]bool{"warmup": true}
		for j := range g.Arms {
			a := &g.Arms[j]
			if !validName(a.Name) || arms[a.Name] {
				return fmt.Errorf("group %s: arm %q: empty, duplicate or not a plain directory name", g.Name, a.Name)
			}
			arms[a.Name] = true
			if a.Steps < 1 {
				return fmt.Errorf("arm %s/%s: %d steps, want ≥ 1", g.Name, a.Name, a.Steps)
			}
			c := g.armConfig(a)
			if err := c.Validate(); err != nil {
				return fmt.Errorf("arm %s/%s: %v", g.Name, a.Name, err)
			}
		}
		if len(g.Arms) == 0 {
			return fmt.Errorf("group %s has no arms", g.Name)
		}
	}
	return nil
}

func validName(s string) bool {
	if s == "" || s == "." || s == ".." {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.' || r == '=') {
			return false
		}
	}
	return true
}

// PointResult is what was measured at one θ: full-set losses and, if asked, the top of the
// Hessian spectrum.
type PointResult struct {
	Step      int       `json:"step"`
	TrainLoss Num       `json:"train_loss"`
	TestLoss  Num       `json:"test_loss"`
	TrainAcc  Num       `json:"train_acc"`
	TestAcc   Num       `json:"test_acc"`
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

	MaxTrainLoss   Num `json:"max_train_loss"` // over the arm's evaluations (and its end)
	MaxBatchLoss   Num `json:"max_batch_loss"` // over the arm's minibatch losses
	MeanChi        Num `json:"mean_chi"`       // mean χ(g) on the arm's refresh steps
	FinalSharpness Num `json:"final_sharpness"`
	MaxSharpness   Num `json:"max_sharpness"`
}

// Diverged reports whether the engine declared a divergence.
func (r *ArmResult) Diverged() bool { return r.Diverg > 0 }

// WarmupResult is the summary of a warm-up (its complete.json).
type WarmupResult struct {
	Group string      `json:"group"`
	Steps int         `json:"steps"`
	Point PointResult `json:"point"` // at the switch
	WallS float64     `json:"wall_sec"`
}

// Results are the summaries of a plan's runs, in plan order.
type Results struct {
	Dir     string
	Plan    Plan
	Warmups map[string]WarmupResult
	Arms    []ArmResult
}

// Find returns the arm result of group g and arm a, or nil.
func (r *Results) Find(g, a string) *ArmResult {
	for i := range r.Arms {
		if r.Arms[i].Group == g && r.Arms[i].Arm.Name == a {
			return &r.Arms[i]
		}
	}
	return nil
}

// RunDirOf is the run directory of an arm ("warmup" for the warm-up).
func (r *Results) RunDirOf(group, arm string) string { return filepath.Join(r.Dir, "runs", group, arm) }

// RunOptions configures RunPlan.
type RunOptions struct {
	Dir  string // the experiment directory
	Jobs int    // engines run at once (0: GOMAXPROCS)
	// Log, if set, gets progress lines: runs done, running, elapsed, ETA.
	Log io.Writer
}

const completeFile = "complete.json"

// RunPlan runs every incomplete arm of the plan (see the file comment) and returns the
// results of all arms. When ctx ends, finished runs stay; the error wraps ErrInterrupted.
func RunPlan(ctx context.Context, plan Plan, opts RunOptions) (*Results, error) {
	if err := plan.Validate(); err != nil {
		return nil, err
	}
	if err := claimDir(opts.Dir, &plan); err != nil {
		return nil, err
	}
	unlock, err := lockDir(opts.Dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	jobs := opts.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	units, prog := planUnits(&plan, opts.Dir, jobs)
	prog.log, prog.name, prog.start = opts.Log, plan.Experiment, time.Now()
	prog.report("start")

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan unit)
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var firstErr error
	for range min(jobs, max(1, len(units))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range work {
				if err := runUnit(ctx, opts.Dir, u, prog); err != nil {
					errMu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					errMu.Unlock()
					cancel()
				}
			}
		}()
	}
feed:
	for _, u := range units {
		select {
		case work <- u:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	prog.report("end")

	if firstErr != nil && !errors.Is(firstErr, context.Canceled) {
		return nil, firstErr
	}
	res, err := LoadResults(opts.Dir)
	if err != nil {
		return nil, err
	}
	if missing := len(planArms(&plan)) - len(res.Arms); missing > 0 || firstErr != nil {
		return res, fmt.Errorf("%d of %d runs complete in %s; run the same command again to resume: %w",
			len(res.Arms), len(planArms(&plan)), opts.Dir, ErrInterrupted)
	}
	return res, nil
}

func planArms(p *Plan) (n []string) {
	for _, g := range p.Groups {
		for _, a := range g.Arms {
			n = append(n, g.Name+"/"+a.Name)
		}
	}
	return n
}

// claimDir makes the experiment directory and records the plan in it; a directory that
// holds another plan is refused.
func claimDir(dir string, plan *Plan) error {
	if dir == "" {
		return errors.New("experiment: no output directory")
	}
	raw, err := json.MarshalIndent(plan, "", "  ")
	if err != nil {
		return err
	}
	raw = append(raw, '\n')
	path := filepath.Join(dir, "plan.json")
	if old, err := os.ReadFile(path); err == nil {
		if string(old) != string(raw) {
			return fmt.Errorf("%s holds a %s experiment with other settings (see %s): use another --out, or the same command to resume",
				dir, planName(old), path)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Join(dir, "runs"), 0o755); err != nil {
		return err
	}
	return writeFileAtomic(path, raw)
}

// lockDir makes sure one process at a time works in an experiment directory: DIR/lock holds
// the owner's process id; a lock whose process is gone is taken over.
func lockDir(dir string) (unlock func(), err error) {
	path := filepath.Join(dir, "lock")
	for range 2 {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			fmt.Fprintf(f, "%d\n", os.Getpid())
			if err := f.Close(); err != nil {
				return nil, err
			}
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, err
		}
		raw, _ := os.ReadFile(path)
		var pid int
		fmt.Sscan(string(raw), &pid)
		if pid > 0 && processAlive(pid) {
			return nil, fmt.Errorf("%s is in use by process %d (remove %s if that is wrong)", dir, pid, path)
		}
		os.Remove(path) // stale: its process is gone
	}
	return nil, fmt.Errorf("%s: cannot take the lock %s", dir, path)
}

func planName(raw []byte) string {
	var p struct {
		Experiment string `json:"experiment"`
	}
	if json.Unmarshal(raw, &p) != nil || p.Experiment == "" {
		return "different"
	}
	return p.Experiment
}

// LoadResults reads the plan and every complete run of an experiment directory.
func LoadResults(dir string) (*Results, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "plan.json"))
	if err != nil {
		return nil, err
	}
	res := &Results{Dir: dir, Warmups: map[string]WarmupResult{}}
	if err := json.Unmarshal(raw, &res.Plan); err != nil {
		return nil, fmt.Errorf("%s/plan.json: %v", dir, err)
	}
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
			}
		}
	}
	return res, nil
}

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

func writeComplete(dir string, v any) error {
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, completeFile), append(raw, '\n'))
}

// freshRunDir deletes an incomplete run directory (an interrupted run) and creates it anew.
func freshRunDir(dir string, cfg Config) (*RunDir, error) {
	if _, err := os.Stat(filepath.Join(dir, completeFile)); err == nil {
		return nil, fmt.Errorf("%s is complete: not redoing it", dir)
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	return CreateRunDir(dir, cfg)
}

// unit is the work of one engine: a group's warm-up, then some of its arms.
type unit struct {
	group       *Group
	arms        []Arm
	writeWarmup bool
	cost        float64
}

// stepCost is a rough relative cost of one step: a refresh costs about 15k steps' worth of
// work at batch 32 (the warm-started solver's products on the Hessian set).
func stepCost(c Config, k, refresh int) float64 {
	hess := float64(c.HessianSet)
	if hess == 0 {
		hess = float64(c.N) * (1 - c.TestFrac)
	}
	batch := float64(c.Batch)
	if batch == 0 {
		batch = hess
	}
	cost := batch / 32
	if refresh > 0 {
		cost += 0.5 * float64(k) * hess / 32 / float64(refresh)
	}
	return cost
}

// planUnits splits the incomplete work into units: one per group, or more when there are
// fewer groups than jobs (each unit then repeats the warm-up), balanced by cost.
func planUnits(plan *Plan, dir string, jobs int) ([]unit, *progress) {
	prog := &progress{}
	var groups []unit
	for i := range plan.Groups {
		g := &plan.Groups[i]
		warmDone, _ := readComplete(filepath.Join(dir, "runs", g.Name, "warmup"), &WarmupResult{})
		var pending []Arm
		for _, a := range g.Arms {
			prog.total++
			if ok, _ := readComplete(filepath.Join(dir, "runs", g.Name, a.Name), &ArmResult{}); ok {
				prog.done++
				prog.skipped++
				continue
			}
			pending = append(pending, a)
		}
		if len(pending) == 0 && warmDone {
			continue
		}
		groups = append(groups, unit{group: g, arms: pending, writeWarmup: !warmDone})
	}
	if len(groups) == 0 {
		return nil, prog
	}
	split := 1
	if len(groups) < jobs {
		split = (jobs + len(groups) - 1) / len(groups)
	}
	var units []unit
	for _, gu := range groups {
		g := gu.group
		armCost := func(a *Arm) float64 { return float64(a.Steps) * stepCost(g.armConfig(a), a.K, a.Refresh) }
		warm := float64(g.Warmup) * stepCost(g.Config, g.Config.K, g.Config.RefreshEvery)
		n := max(1, min(split, len(gu.arms)))
		parts := make([]unit, n)
		// Longest arms first, each to the lightest part.
		arms := append([]Arm(nil), gu.arms...)
		sort.SliceStable(arms, func(i, j int) bool { return armCost(&arms[i]) > armCost(&arms[j]) })
		for _, a := range arms {
			best := 0
			for p := range parts {
				if parts[p].cost < parts[best].cost {
					best = p
				}
			}
			parts[best].arms = append(parts[best].arms, a)
			parts[best].cost += armCost(&a)
		}
		for p := range parts {
			parts[p].group = g
			parts[p].writeWarmup = p == 0 && gu.writeWarmup
			parts[p].cost += warm
			// Keep the plan's order inside a unit (readable logs, same results either way).
			order := map[string]int{}
			for i, a := range g.Arms {
				order[a.Name] = i
			}
			sort.SliceStable(parts[p].arms, func(i, j int) bool {
				ai, aj := &parts[p].arms[i], &parts[p].arms[j]
				if ki, kj := ai.Batch != g.Config.Batch, aj.Batch != g.Config.Batch; ki != kj {
					return kj // the warm-up's batch size first (see runArm)
				}
				return order[ai.Name] < order[aj.Name]
			})
			prog.costTotal += parts[p].cost
			units = append(units, parts[p])
		}
	}
	sort.SliceStable(units, func(i, j int) bool { return units[i].cost > units[j].cost })
	return units, prog
}

// progress counts finished runs and work, and prints a line now and then.
type progress struct {
	mu                      sync.Mutex
	log                     io.Writer
	name                    string
	start, lastLine         time.Time
	total, done, skipped    int
	running                 int
	costTotal, costDone     float64
	lastArm                 string
	lastArmLoss, lastArmEnd float64
}

func (p *progress) addCost(c float64) {
	p.mu.Lock()
	p.costDone += c
	due := time.Since(p.lastLine) > 10*time.Second
	p.mu.Unlock()
	if due {
		p.report("tick")
	}
}

func (p *progress) report(why string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.log == nil {
		return
	}
	p.lastLine = time.Now()
	el := time.Since(p.start)
	eta := "—"
	if p.costDone > 0 && p.costTotal > p.costDone {
		eta = "~" + fmtDuration(time.Duration(float64(el)*(p.costTotal-p.costDone)/p.costDone))
	} else if p.costTotal > 0 && p.costDone >= p.costTotal {
		eta = "0s"
	}
	switch why {
	case "start":
		if p.skipped > 0 {
			fmt.Fprintf(p.log, "%s: %d runs, %d already complete (resuming)\n", p.name, p.total, p.skipped)
		} else {
			fmt.Fprintf(p.log, "%s: %d runs\n", p.name, p.total)
		}
	case "end":
		fmt.Fprintf(p.log, "%s: %d/%d runs complete in %s\n", p.name, p.done, p.total, fmtDuration(el))
	case "arm":
		fmt.Fprintf(p.log, "%s: %d/%d runs · %s done (train loss %.4g → %.4g) · %d running · %s elapsed · ETA %s\n",
			p.name, p.done, p.total, p.lastArm, p.lastArmLoss, p.lastArmEnd, p.running, fmtDuration(el), eta)
	default:
		fmt.Fprintf(p.log, "%s: %d/%d runs · %d running · %s elapsed · ETA %s\n", p.name, p.done, p.total, p.running, fmtDuration(el), eta)
	}
}

func fmtDuration(d time.Duration) string {
	if d < time.Minute {
		return d.Round(time.Second).String()
	}
	return d.Round(10 * time.Second).String()
}

// armRecorder routes the engine's records to the run directory of the current arm (or to
// none), keeps the arm's summary statistics, and signals when the arm's last step is done or
// it diverged.
type armRecorder struct {
	mu       sync.Mutex
	sink     *RunDir
	target   int
	done     chan struct{}
	signaled bool
	perStep  float64
	prog     *progress
	stats    armStats
}

type armStats struct {
	maxTrain, maxBatch   float64
	chiSum               float64
	chiN                 int
	lastSharp, maxSharp  float64
	lastStep, divergedAt int
}

func (r *armRecorder) arm(sink *RunDir, target int, perStep float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sink, r.target, r.perStep, r.signaled = sink, target, perStep, false
	r.done = make(chan struct{})
	nan := math.NaN()
	r.stats = armStats{maxTrain: nan, maxBatch: nan, lastSharp: nan, maxSharp: nan}
}

func (r *armRecorder) signal() {
	if !r.signaled {
		r.signaled = true
		close(r.done)
	}
}

func nanMax(a, b float64) float64 {
	if math.IsNaN(a) || b > a || math.IsInf(b, 1) {
		return b
	}
	return a
}

func (r *armRecorder) Record(m *Metrics) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &r.stats
	if m.Loss.Valid() {
		s.maxBatch = nanMax(s.maxBatch, float64(m.Loss))
	}
	if m.TrainLoss.Valid() {
		s.maxTrain = nanMax(s.maxTrain, float64(m.TrainLoss))
	}
	if m.Refreshed && m.ChiGrad.Valid() {
		s.chiSum += float64(m.ChiGrad)
		s.chiN++
	}
	if m.Sharpness.Valid() {
		s.lastSharp = float64(m.Sharpness)
		s.maxSharp = nanMax(s.maxSharp, s.lastSharp)
	}
	s.lastStep = m.Step
	var err error
	if r.sink != nil {
		err = r.sink.Record(m)
	}
	if m.Step >= r.target {
		r.signal()
	}
	prog, cost := r.prog, r.perStep
	r.mu.Unlock()
	if prog != nil {
		prog.addCost(cost)
	}
	r.mu.Lock()
	return err
}

// detach stops writing to the run directory (before it is closed).
func (r *armRecorder) detach() {
	r.mu.Lock()
	r.sink = nil
	r.mu.Unlock()
}

func (r *armRecorder) Event(e Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var err error
	if r.sink != nil {
		err = r.sink.Event(e)
	}
	if e.Kind == "divergence" {
		r.stats.divergedAt = e.Step
		r.signal()
	}
	return err
}

func (r *armRecorder) wait(ctx context.Context, engineDone <-chan struct{}) error {
	r.mu.Lock()
	done := r.done
	r.mu.Unlock()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-engineDone:
		select {
		case <-done:
			return nil
		default:
		}
		if ctx.Err() != nil { // the engine saw the cancellation first
			return ctx.Err()
		}
		return errors.New("the engine stopped before the run was complete")
	}
}

// measurePoint evaluates θ on the training and test sets and, if probe > 0, the top-probe
// eigenvalues of the Hessian on the Hessian set. Called inside Engine.Do.
func measurePoint(v View, probe int) (PointResult, error) {
	e := v.e
	pr := PointResult{Step: e.step, TrainLoss: NA, TestLoss: NA, TrainAcc: NA, TestAcc: NA}
	l, a, err := e.model.Evaluate(e.theta, &e.train)
	if err != nil {
		return pr, err
	}
	pr.TrainLoss = Num(l)
	if e.train.Classes > 0 {
		pr.TrainAcc = Num(a)
	}
	if e.test.N > 0 {
		l, a, err := e.model.Evaluate(e.theta, &e.test)
		if err != nil {
			return pr, err
		}
		pr.TestLoss = Num(l)
		if e.test.Classes > 0 {
			pr.TestAcc = Num(a)
		}
	}
	if probe > 0 && finite(e.theta) && !math.IsNaN(l) && !math.IsInf(l, 0) {
		b, err := e.model.Bind(e.theta, &e.hess)
		if err != nil {
			return pr, err
		}
		r, err := Curvature(b, CurvatureOptions{K: probe, Tol: e.cfg.Tol, Seed: e.cfg.Seed})
		if err != nil {
			return pr, err
		}
		pr.Spectrum, pr.Residuals = r.Values, r.Residuals
	}
	return pr, nil
}

func finite(x []float64) bool {
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// runUnit runs one engine: the group's warm-up, then the unit's arms from the same point.
func runUnit(ctx context.Context, dir string, u unit, prog *progress) (err error) {
	g := u.group
	cfg := g.Config
	cfg.KeepEvery = math.MaxInt32 // only the manual checkpoint at the switch: every arm rolls back to it
	rec := &armRecorder{prog: prog}
	e, err := New(cfg, Options{Recorder: rec, StartPaused: true})
	if err != nil {
		return fmt.Errorf("group %s: %v", g.Name, err)
	}
	ectx, cancel := context.WithCancel(ctx)
	runErr := make(chan error, 1)
	go func() { runErr <- e.Run(ectx) }()
	defer func() {
		cancel()
		if rerr := <-runErr; rerr != nil && err == nil {
			err = rerr
		}
	}()
	prog.mu.Lock()
	prog.running++
	prog.mu.Unlock()
	defer func() {
		prog.mu.Lock()
		prog.running--
		prog.mu.Unlock()
	}()

	// Warm-up.
	t0 := time.Now()
	var wdir *RunDir
	warmPath := filepath.Join(dir, "runs", g.Name, "warmup")
	if u.writeWarmup {
		if wdir, err = freshRunDir(warmPath, cfg); err != nil {
			return err
		}
	}
	rec.arm(wdir, g.Warmup, stepCost(cfg, cfg.K, cfg.RefreshEvery))
	if g.Warmup > 0 {
		e.StepN(g.Warmup)
		if err := rec.wait(ctx, e.Done()); err != nil {
			rec.detach()
			if wdir != nil {
				wdir.Close(nil, nil, 0)
			}
			return err
		}
	}
	var start PointResult
	var diverged bool
	var derr error
	e.Do(func(v View) {
		diverged = v.e.state == Diverged
		start, derr = measurePoint(v, g.Probe)
		rec.detach()
		if wdir != nil {
			if cerr := wdir.Close(v.Model(), v.e.theta, v.Step()); cerr != nil && derr == nil {
				derr = cerr
			}
		}
	})
	if derr != nil {
		return fmt.Errorf("group %s warm-up: %v", g.Name, derr)
	}
	if diverged {
		return fmt.Errorf("group %s: the warm-up diverged (see %s/events.jsonl): lower --lr", g.Name, warmPath)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if wdir != nil {
		if err := writeComplete(warmPath, WarmupResult{Group: g.Name, Steps: g.Warmup, Point: start, WallS: time.Since(t0).Seconds()}); err != nil {
			return err
		}
	}
	e.Checkpoint()

	for i := range u.arms {
		a := &u.arms[i]
		if err := runArm(ctx, e, rec, dir, g, a, start, prog); err != nil {
			return err
		}
	}
	return nil
}

// runArm runs one arm from the checkpoint at the switch and rolls back after it.
func runArm(ctx context.Context, e *Engine, rec *armRecorder, dir string, g *Group, a *Arm, start PointResult, prog *progress) error {
	t0 := time.Now()
	path := filepath.Join(dir, "runs", g.Name, a.Name)
	ac := g.armConfig(a)
	rd, err := freshRunDir(path, ac)
	if err != nil {
		return err
	}
	rec.arm(rd, g.Warmup+a.Steps, stepCost(ac, a.K, a.Refresh))
	// The settings, at the step boundary of the switch, then a fresh basis for the arm. A
	// batch size other than the warm-up's starts a new epoch order (SetBatch); the units run
	// the arms that keep the warm-up's batch first, so that rollback (which restores the order
	// but not the settings) never leaves another size in force for them.
	if a.Batch != g.Config.Batch {
		e.SetBatch(a.Batch)
	}
	e.SetLR(a.LR)
	e.SetWeights(a.WDom, a.WBulk)
	e.SetK(a.K)
	e.SetRefresh(a.Refresh)
	e.Recompute()
	e.StepN(a.Steps)
	if err := rec.wait(ctx, e.Done()); err != nil {
		rec.detach()
		rd.Close(nil, nil, 0) // keep what was written; no complete.json: redone on resume
		return err
	}
	res := ArmResult{Group: g.Name, Arm: *a, Seed: g.Config.Seed, Loss: g.Config.Loss, Start: start}
	var derr error
	e.Do(func(v View) {
		res.End, derr = measurePoint(v, a.Probe)
		res.Steps = v.Step() - g.Warmup
		res.P = v.Model().NumParams()
		if v.e.state == Diverged {
			res.Diverg = v.Step()
		}
		rec.detach()
		if cerr := rd.Close(v.Model(), v.e.theta, v.Step()); cerr != nil && derr == nil {
			derr = cerr
		}
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if derr != nil {
		return fmt.Errorf("arm %s/%s: %v", g.Name, a.Name, derr)
	}
	rec.mu.Lock()
	s := rec.stats
	rec.mu.Unlock()
	res.MaxTrainLoss = Num(nanMax(s.maxTrain, float64(res.End.TrainLoss)))
	res.MaxBatchLoss = Num(s.maxBatch)
	res.MeanChi = NA
	if s.chiN > 0 {
		res.MeanChi = Num(s.chiSum / float64(s.chiN))
	}
	res.FinalSharpness, res.MaxSharpness = Num(s.lastSharp), Num(s.maxSharp)
	res.WallS = time.Since(t0).Seconds()
	if err := writeComplete(path, res); err != nil {
		return err
	}
	prog.mu.Lock()
	prog.done++
	prog.lastArm = g.Name + "/" + a.Name
	prog.lastArmLoss, prog.lastArmEnd = float64(start.TrainLoss), float64(res.End.TrainLoss)
	prog.mu.Unlock()
	prog.report("arm")
	e.Rollback()
	e.Do(func(View) {}) // the rollback is done (and its event dropped) before the next arm
	return nil
}
