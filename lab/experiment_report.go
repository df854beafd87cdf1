package lab

// The experiments by name, their swept values, and what they write besides the runs:
// summary.csv, PNG figures and report.md; and docs/EXPERIMENTS.md sections with the figures.

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Sweep holds the values an experiment sweeps. Zero values (nil lists, Warmup < 0, Steps 0)
// take the experiment's defaults (ExperimentDefaults).
type Sweep struct {
	Seeds     []uint64
	Losses    []string
	LRs       []float64 // η of the arms
	Ks        []int
	Refreshes []int
	Batches   []int     // 0: full batch
	Alphas    []float64 // slider positions (alpha)
	WBulks    []float64 // extra arms (w_dom, w_bulk) = (0, w) and (1, w) for w > 1 (alpha)
	Warmup    int       // steps before the switch; < 0: default
	Steps     int       // steps of each arm; 0: default
	Target    float64   // alpha: loss target as a fraction of the loss at the switch; 0: default
	Quick     bool      // defaults of the fast variant
}

// experiment is one entry of the registry.
type experiment struct {
	name, summary string
	preset        string            // default preset
	config        map[string]string // Config flag values set unless given on the command line
	quickConfig   map[string]string // the same, for --quick
	swept         map[string]string // Config flags the experiment sweeps → the flag to use instead
	defaults      func(quick bool) Sweep
	plan          func(base Config, s Sweep) Plan
	report        func(res *Results, s Sweep) (*Report, error)
}

var experiments = map[string]*experiment{}

func register(x *experiment) { experiments[x.name] = x }

// Experiments lists the experiment names in the order of the docs.
func Experiments() []string { return []string{"switch", "alpha", "stability", "curvature", "eos"} }

func lookup(name string) (*experiment, error) {
	x, ok := experiments[name]
	if !ok {
		return nil, fmt.Errorf("unknown experiment %q (allowed: %s, all)", name, strings.Join(Experiments(), ", "))
	}
	return x, nil
}

// ExperimentSummary is a one-line description of the experiment.
func ExperimentSummary(name string) string {
	if x, err := lookup(name); err == nil {
		return x.summary
	}
	return ""
}

// ExperimentPreset is the preset an experiment starts from unless --preset is given.
func ExperimentPreset(name string) string {
	if x, err := lookup(name); err == nil {
		return x.preset
	}
	return "demo"
}

// ExperimentConfigFlags returns the Config flag values (flag name → value) an experiment
// sets over its preset unless the command line gives them; quick adds the fast variant's.
func ExperimentConfigFlags(name string, quick bool) map[string]string {
	x, err := lookup(name)
	if err != nil {
		return nil
	}
	m := map[string]string{}
	for k, v := range x.config {
		m[k] = v
	}
	if quick {
		for k, v := range x.quickConfig {
			m[k] = v
		}
	}
	return m
}

// ExperimentSwept returns the Config flags an experiment sweeps (and so refuses as overrides),
// each with the flag to use instead.
func ExperimentSwept(name string) map[string]string {
	if x, err := lookup(name); err == nil {
		return x.swept
	}
	return nil
}

// ExperimentDefaults returns the sweep an experiment runs by default (or with --quick).
func ExperimentDefaults(name string, quick bool) (Sweep, error) {
	x, err := lookup(name)
	if err != nil {
		return Sweep{}, err
	}
	return x.defaults(quick), nil
}

// ExperimentConfig is the experiment's preset with its config flags applied (for tests and
// callers without a command line).
func ExperimentConfig(name string, quick bool) (Config, error) {
	c, err := Preset(ExperimentPreset(name))
	if err != nil {
		return c, err
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	apply := c.Flags(fs)
	var args []string
	for k, v := range ExperimentConfigFlags(name, quick) {
		args = append(args, "--"+k+"="+v)
	}
	sort.Strings(args)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if err := apply(); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// fill replaces the zero fields of s by d's.
func (s Sweep) fill(d Sweep) Sweep {
	if s.Seeds == nil {
		s.Seeds = d.Seeds
	}
	if s.Losses == nil {
		s.Losses = d.Losses
	}
	if s.LRs == nil {
		s.LRs = d.LRs
	}
	if s.Ks == nil {
		s.Ks = d.Ks
	}
	if s.Refreshes == nil {
		s.Refreshes = d.Refreshes
	}
	if s.Batches == nil {
		s.Batches = d.Batches
	}
	if s.Alphas == nil {
		s.Alphas = d.Alphas
	}
	if s.WBulks == nil {
		s.WBulks = d.WBulks
	}
	if s.Warmup < 0 {
		s.Warmup = d.Warmup
	}
	if s.Steps == 0 {
		s.Steps = d.Steps
	}
	if s.Target == 0 {
		s.Target = d.Target
	}
	return s
}

func (s *Sweep) validate() error {
	for _, l := range s.Losses {
		if l != "ce" && l != "mse" {
			return fmt.Errorf("--losses: %q (allowed: ce, mse)", l)
		}
	}
	for _, v := range s.LRs {
		if !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("--lrs: %v, want > 0", v)
		}
	}
	for _, k := range s.Ks {
		if k < 1 || k > 1000 {
			return fmt.Errorf("--ks: %d, want 1…1000", k)
		}
	}
	for _, t := range s.Refreshes {
		if t < 0 {
			return fmt.Errorf("--refreshes: %d, want ≥ 0 (0: only at the switch)", t)
		}
	}
	for _, b := range s.Batches {
		if b < 0 {
			return fmt.Errorf("--batches: %d, want ≥ 0 (0: full batch)", b)
		}
	}
	for _, a := range s.Alphas {
		if !(a >= 0 && a <= 1) {
			return fmt.Errorf("--alphas: %v, want in [0, 1]", a)
		}
	}
	for _, w := range s.WBulks {
		if !(w > 1 && w <= 10) {
			return fmt.Errorf("--w-bulks: %v, want in (1, 10]", w)
		}
	}
	if s.Steps < 1 {
		return fmt.Errorf("--steps %d: want ≥ 1", s.Steps)
	}
	if s.Warmup < 0 {
		return fmt.Errorf("--warmup %d: want ≥ 0", s.Warmup)
	}
	if s.Target != 0 && !(s.Target > 0 && s.Target < 1) {
		return fmt.Errorf("--target %v: want in (0, 1)", s.Target)
	}
	if len(s.Seeds) == 0 {
		return errors.New("--seeds: empty")
	}
	return nil
}

// Report is what an experiment concluded: written to DIR/report.md and into the docs.
type Report struct {
	Experiment string
	Title      string
	Protocol   string   // how the runs were made
	Findings   []string // measured statements, each one sentence or two
	Tables     []string // markdown tables
	Figures    []Figure
	CSVHeader  []string
	CSVRows    [][]string
}

// Figure is a PNG in the experiment directory.
type Figure struct {
	File    string // file name in DIR
	Caption string
}

// ExperimentOptions configures RunExperiment.
type ExperimentOptions struct {
	RunOptions
	Command string // the command line, quoted in the report
}

// RunExperiment plans the named experiment over base (the preset with overrides) and the
// sweep, runs what is not yet complete in opts.Dir, and writes summary.csv, the figures and
// report.md there.
func RunExperiment(ctx context.Context, name string, base Config, s Sweep, opts ExperimentOptions) (*Report, error) {
	x, err := lookup(name)
	if err != nil {
		return nil, err
	}
	s = s.fill(x.defaults(s.Quick))
	if err := s.validate(); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if err := base.Validate(); err != nil {
		return nil, err
	}
	plan := x.plan(base, s)
	plan.Experiment = name
	t0 := time.Now()
	res, err := RunPlan(ctx, plan, opts.RunOptions)
	if err != nil {
		return nil, err
	}
	rep, err := x.report(res, s)
	if err != nil {
		return nil, fmt.Errorf("%s report: %v", name, err)
	}
	rep.Experiment = name
	if err := writeReport(opts.Dir, rep, opts.Command, time.Since(t0)); err != nil {
		return nil, err
	}
	return rep, nil
}

func writeReport(dir string, rep *Report, command string, took time.Duration) error {
	if len(rep.CSVHeader) > 0 {
		f, err := os.Create(filepath.Join(dir, "summary.csv"))
		if err != nil {
			return err
		}
		w := csv.NewWriter(f)
		w.Write(rep.CSVHeader)
		w.WriteAll(rep.CSVRows)
		if err := w.Error(); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", rep.Title)
	if command != "" {
		fmt.Fprintf(&b, "Command: `%s` (written %s; this invocation took %s).\n\n", command, time.Now().Format("2006-01-02 15:04"), fmtDuration(took))
	}
	b.WriteString(rep.Protocol + "\n\n")
	if len(rep.Findings) > 0 {
		b.WriteString("## Findings\n\n")
		for _, f := range rep.Findings {
			b.WriteString("- " + f + "\n")
		}
		b.WriteString("\n")
	}
	b.WriteString("## Results\n\n")
	for _, t := range rep.Tables {
		b.WriteString(t + "\n\n")
	}
	for _, f := range rep.Figures {
		fmt.Fprintf(&b, "![%s](%s)\n\n*%s*\n\n", f.File, f.File, f.Caption)
	}
	b.WriteString("Per-run data: `runs/GROUP/ARM/` (config.json, metrics.jsonl, metrics.csv, events.jsonl, weights.safetensors, complete.json); one row per arm in `summary.csv`.\n")
	return writeFileAtomic(filepath.Join(dir, "report.md"), []byte(b.String()))
}

// WriteDocs copies the report's figures to docsDir/figures/ and replaces the experiment's
// generated section of docsDir/EXPERIMENTS.md (between its BEGIN/END markers), keeping the
// hand-written text around it. A missing file or section is created.
func WriteDocs(docsDir, expDir string, rep *Report, regenerate, command string) error {
	figDir := filepath.Join(docsDir, "figures")
	if err := os.MkdirAll(figDir, 0o755); err != nil {
		return err
	}
	var gen strings.Builder
	fmt.Fprintf(&gen, "Command: `%s` (all experiments and these docs: `%s`)\n\n", command, regenerate)
	for _, f := range rep.Figures {
		raw, err := os.ReadFile(filepath.Join(expDir, f.File))
		if err != nil {
			return err
		}
		name := f.File
		if !strings.HasPrefix(name, rep.Experiment) {
			name = rep.Experiment + "_" + name
		}
		if err := writeFileAtomic(filepath.Join(figDir, name), raw); err != nil {
			return err
		}
		fmt.Fprintf(&gen, "![%s](figures/%s)\n\n*%s*\n\n", name, name, f.Caption)
	}
	if len(rep.Findings) > 0 {
		gen.WriteString("Measured:\n\n")
		for _, f := range rep.Findings {
			gen.WriteString("- " + f + "\n")
		}
		gen.WriteString("\n")
	}
	for _, t := range rep.Tables {
		gen.WriteString(t + "\n\n")
	}
	path := filepath.Join(docsDir, "EXPERIMENTS.md")
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	doc := replaceSection(string(old), rep.Experiment, rep.Title, strings.TrimRight(gen.String(), "\n")+"\n")
	return writeFileAtomic(path, []byte(doc))
}

// replaceSection puts body between the experiment's markers, appending a new section (with a
// heading and a place for commentary) when the markers are not there.
func replaceSection(doc, name, title, body string) string {
	begin := "<!-- BEGIN generated: " + name + " -->"
	end := "<!-- END generated: " + name + " -->"
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i >= 0 && j > i {
		return doc[:i+len(begin)] + "\n" + body + doc[j:]
	}
	if doc == "" {
		doc = "# Experiments\n"
	}
	return strings.TrimRight(doc, "\n") + "\n\n## " + title + "\n\n" + begin + "\n" + body + end + "\n\n" +
		"<!-- commentary: " + name + " -->\n"
}

// readMetrics reads a run directory's metrics.jsonl.
func readMetrics(dir string) ([]Metrics, error) {
	f, err := os.Open(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ms []Metrics
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		var m Metrics
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return nil, fmt.Errorf("%s/metrics.jsonl: %v", dir, err)
		}
		ms = append(ms, m)
	}
	return ms, sc.Err()
}

// series extracts (step, value) pairs of one metric; onlyValid drops the NaN (unmeasured).
func series(ms []Metrics, f func(m *Metrics) float64) (xs, ys []float64) {
	for i := range ms {
		v := f(&ms[i])
		if math.IsNaN(v) {
			continue
		}
		xs = append(xs, float64(ms[i].Step))
		ys = append(ys, v)
	}
	return xs, ys
}

// trainLossSeries is the full-train loss: metrics report it on eval steps at θ before the
// step (so at step s−1); the point at the end of the arm comes from its summary.
func trainLossSeries(ms []Metrics) (xs, ys []float64) {
	xs, ys = series(ms, func(m *Metrics) float64 { return float64(m.TrainLoss) })
	for i := range xs {
		xs[i]--
	}
	return xs, ys
}

// markdown table helpers.
func mdTable(header []string, rows [][]string) string {
	var b strings.Builder
	b.WriteString("| " + strings.Join(header, " | ") + " |\n|")
	for range header {
		b.WriteString(" --- |")
	}
	b.WriteString("\n")
	for _, r := range rows {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// f4 formats a number with 4 significant digits ("—" for NaN, "∞" for +Inf).
func f4(v float64) string { return fmtG(v, 4) }

func fmtG(v float64, prec int) string {
	switch {
	case math.IsNaN(v):
		return "—"
	case math.IsInf(v, 1):
		return "∞"
	case math.IsInf(v, -1):
		return "−∞"
	}
	return strconv.FormatFloat(v, 'g', prec, 64)
}

func csvNum(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', 8, 64)
}

func mean(xs []float64) float64 {
	var s float64
	var n int
	for _, x := range xs {
		if !math.IsNaN(x) {
			s += x
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}

// etaLabel formats η for names and labels (0.5 → "0.5").
func etaLabel(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// seedLabel names a group by its loss and seed.
func seedLabel(loss string, seed uint64) string {
	if loss == "" {
		return fmt.Sprintf("seed%d", seed)
	}
	return fmt.Sprintf("%s_seed%d", loss, seed)
}

func joinAny[T any](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}
