package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"sharpflat/internal/safetext"
	"sharpflat/lab/experiment"
	"sharpflat/lab/train"
	"sharpflat/nn"
)

// sweepFlags are the experiment flags that take lists.
type sweepFlags struct {
	seeds, losses, lrs, ks, refreshes, batches, alphas, wBulks *string
	warmup, steps                                              *int
	target                                                     *float64
	bulkTop                                                    *bool
}

// experimentFlags are the flags of one parse of the command line.
type experimentFlags struct {
	fs           *flag.FlagSet
	build        func() (train.Config, error)
	out, docs    *string
	quick, quiet *bool
	jobs         *int
	sweep        sweepFlags
	// The modes: the plan as JSON lines, one arm, the report of what is finished, or the job
	// files of a cluster scheduler.
	plan, report *bool
	arm, emit    *string
	set          map[string]bool // the flags given on the command line
}

// modeFlags are the flags that choose what to do rather than what to plan.
var modeFlags = map[string]bool{"out": true, "docs": true, "quiet": true, "jobs": true, "plan": true, "arm": true, "report": true, "emit": true}

func newExperimentFlags(stdout, stderr io.Writer) *experimentFlags {
	fs := newFlags("experiment", "NAME [--preset P] [overrides] --out DIR", stdout, stderr)
	fs.Usage = func() { experimentUsage(fs) }
	f := &experimentFlags{fs: fs, build: configFlags(fs)}
	f.out = fs.String("out", "", "experiment directory (created; an interrupted experiment resumes there) [required]")
	f.quick = fs.Bool("quick", false, "the fast variant: tiny data, few steps, a small grid (a smoke test, not evidence)")
	f.jobs = fs.Int("jobs", runtime.GOMAXPROCS(0), "engines run at once")
	f.docs = fs.String("docs", "", "also copy the figures to DIR/figures and update DIR/EXPERIMENTS.md (e.g. --docs docs)")
	f.quiet = fs.Bool("quiet", false, "no progress lines on stderr")
	f.plan = fs.Bool("plan", false, "print the arms, one JSON object a line (index, id, group, arm, steps, warmup), and exit")
	f.arm = fs.String("arm", "", "run one arm (its id GROUP/ARM or index from --plan) into --out; a finished arm is skipped")
	f.report = fs.Bool("report", false, "build summary.csv, figures and report.md from the arms finished in --out; names the missing arms and fails while any is")
	f.emit = fs.String("emit", "", "write cluster job files into --out: slurm (a job array and a dependent report job) or k8s (an Indexed Job)")
	f.sweep = sweepFlags{
		seeds:     fs.String("seeds", "", "seeds, e.g. 1,2,3 (default: the experiment's)"),
		losses:    fs.String("losses", "", "losses swept by switch and curvature, e.g. ce,mse"),
		lrs:       fs.String("lrs", "", "η of the arms (alpha, stability, eos), e.g. 0.5,1,2"),
		ks:        fs.String("ks", "", "Dominant subspace sizes (stability), e.g. 1,5,20"),
		refreshes: fs.String("refreshes", "", "refresh periods T (stability; song: the arms' T), e.g. 1,10"),
		batches:   fs.String("batches", "", "batch sizes of the arms (stability; 0 = full batch), e.g. 32,0"),
		alphas:    fs.String("alphas", "", "slider positions α (alpha), e.g. 0,0.25,0.5,0.75,1"),
		wBulks:    fs.String("w-bulks", "", "w_bulk > 1 arms (alpha): (0, w) and (1, w) for each, e.g. 2,4"),
		warmup:    fs.Int("warmup", -1, "steps before the switch (default: the experiment's)"),
		steps:     fs.Int("steps", 0, "steps of each arm after the switch (default: the experiment's)"),
		target:    fs.Float64("target", 0, "alpha: loss target as a fraction of the loss at the switch (default 0.5)"),
		bulkTop:   fs.Bool("bulk-top", false, "compute λ_{k+1} at every refresh, as the lab does: the arms are then bit for bit a race in the lab from the same checkpoint (metrics gain bulk_top)"),
	}
	return f
}

func (f *experimentFlags) parse(args []string, stdout io.Writer) error {
	if err := parseFlags(f.fs, args, stdout); err != nil {
		return err
	}
	f.set = map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	return nil
}

func runExperiment(args []string, stdout, stderr io.Writer) error {
	f := newExperimentFlags(stdout, stderr)
	// The name comes first; flags follow.
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if err := f.parse(args, stdout); err != nil {
			return err
		}
		return usagef("experiment: name an experiment: %s, or all (see 'sharpflat experiment --help')", strings.Join(experiment.Names(), ", "))
	}
	name := args[0]
	if err := f.parse(args[1:], stdout); err != nil {
		return err
	}
	if _, err := experiment.Lookup(name); name != "all" && err != nil {
		return usagef("experiment: %v", err)
	}
	if *f.out == "" {
		return usagef("experiment: --out DIR is required")
	}
	if *f.jobs < 1 {
		return usagef("experiment: --jobs %d, want ≥ 1", *f.jobs)
	}
	modes := 0
	for _, m := range []string{"plan", "arm", "report", "emit"} {
		if f.set[m] {
			modes++
		}
	}
	if modes > 1 {
		return usagef("experiment: --plan, --arm, --report and --emit each choose what to do: give one")
	}
	names := []string{name}
	if name == "all" {
		for fl := range f.set {
			switch fl {
			case "out", "quick", "jobs", "docs", "quiet":
			default:
				return usagef("experiment all: --%s applies to one experiment only; 'all' takes --out, --quick, --jobs, --docs, --quiet", fl)
			}
		}
		names = experiment.Standard()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var log io.Writer = stderr
	if *f.quiet {
		log = nil
	}
	for _, n := range names {
		// A fresh parse per experiment: each one applies its own defaults over its preset.
		f := newExperimentFlags(stdout, stderr)
		if err := f.parse(args[1:], stdout); err != nil {
			return err
		}
		x, _ := experiment.Lookup(n)
		dir := *f.out
		if name == "all" {
			dir = filepath.Join(*f.out, n)
		}
		cmd := strings.TrimSpace("sharpflat experiment " + n + " " + strings.Join(commandArgs(f.fs, f.set, dir), " "))
		cfg, sweep, err := experimentSetup(f.fs, f.build, x, f.set, *f.quick, f.sweep)
		if err != nil {
			return err
		}
		switch {
		case *f.plan:
			return printPlan(x, cfg, sweep, stdout)
		case f.set["arm"]:
			return runOneArm(ctx, x, cfg, sweep, dir, *f.arm, stderr, *f.quiet)
		case *f.report:
			return reportFinished(x, cfg, sweep, dir, cmd, f, stdout)
		case f.set["emit"]:
			return emitJobs(x, cfg, sweep, f, n, dir, stdout)
		}
		rep, err := x.Run(ctx, cfg, sweep, experiment.Options{
			RunOptions: experiment.RunOptions{Dir: dir, Jobs: *f.jobs, Log: log}, Command: cmd})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: %s\n", n, safetext.Line(filepath.Join(dir, "report.md")))
		for _, x := range rep.Findings {
			fmt.Fprintf(stdout, "  - %s\n", safetext.Line(x))
		}
		if err := writeDocs(x, f, dir, rep, cmd); err != nil {
			return err
		}
	}
	return nil
}

// writeDocs updates the experiment's section of --docs DIR, when the flag is given.
// A heavy experiment is not part of "all": its section names its own command instead.
func writeDocs(x *experiment.Experiment, f *experimentFlags, dir string, rep *experiment.Report, cmd string) error {
	if *f.docs == "" {
		return nil
	}
	quick := ""
	if *f.quick {
		quick = "--quick "
	}
	regenerate := "all experiments and these docs: `go run . experiment all " + quick + "--out OUT --docs " + *f.docs + "`"
	if x.Heavy {
		regenerate = "this section: `go run . experiment " + x.Name + " " + quick + "--out OUT --docs " + *f.docs +
			"`; " + x.Name + " takes hours and is not part of `experiment all`"
	}
	return experiment.WriteDocs(*f.docs, dir, rep, regenerate, cmd)
}

// printPlan writes the plan's arms, one JSON object a line.
func printPlan(x *experiment.Experiment, cfg train.Config, s experiment.Sweep, stdout io.Writer) error {
	plan, _, err := x.Plan(cfg, s)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	for _, u := range plan.Units() {
		if err := enc.Encode(u); err != nil {
			return err
		}
	}
	return nil
}

// runOneArm runs the arm named by id (or index) into dir.
func runOneArm(ctx context.Context, x *experiment.Experiment, cfg train.Config, s experiment.Sweep, dir, id string, stderr io.Writer, quiet bool) error {
	if id == "" {
		return usagef("experiment %s: --arm needs an arm's id or index (see --plan)", x.Name)
	}
	u, skipped, err := x.RunArm(ctx, cfg, s, dir, id)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("arm %s interrupted; run the same command again to redo it: %w", u.ID, experiment.ErrInterrupted)
		}
		return err
	}
	if !quiet {
		if skipped {
			fmt.Fprintf(stderr, "%s: arm %d (%s) is already finished\n", x.Name, u.Index, safetext.Line(u.ID))
		} else {
			fmt.Fprintf(stderr, "%s: arm %d (%s) finished\n", x.Name, u.Index, safetext.Line(u.ID))
		}
	}
	return nil
}

// reportFinished builds the report from the arms finished in dir. While arms are missing it
// names each (index, id, and the directory its complete.json is expected in) and fails, so
// that a scheduler's report job (which runs after the array however its tasks ended) shows
// that the experiment is not done.
func reportFinished(x *experiment.Experiment, cfg train.Config, s experiment.Sweep, dir, cmd string, f *experimentFlags, stdout io.Writer) error {
	rep, missing, err := x.Report(cfg, s, dir, cmd)
	if rep != nil {
		fmt.Fprintf(stdout, "%s: %s\n", x.Name, safetext.Line(filepath.Join(dir, "report.md")))
		for _, line := range rep.Findings {
			fmt.Fprintf(stdout, "  - %s\n", safetext.Line(line))
		}
	}
	for _, u := range missing {
		fmt.Fprintf(stdout, "missing: arm %d %s (no %s yet)\n", u.Index, safetext.Line(u.ID), safetext.Line(filepath.Join(u.Dir(dir), "complete.json")))
	}
	if err != nil {
		if len(missing) > 0 {
			return fmt.Errorf("%w; the %d missing arms are listed above: run them (--arm INDEX), then --report again", err, len(missing))
		}
		return err
	}
	if len(missing) > 0 {
		if *f.docs != "" {
			return fmt.Errorf("experiment %s: --docs needs every arm finished (%d missing, listed above); the docs were left as they were", x.Name, len(missing))
		}
		return fmt.Errorf("experiment %s: %d arms not finished (listed above): the report covers the rest; run them (--arm INDEX), then --report again", x.Name, len(missing))
	}
	return writeDocs(x, f, dir, rep, cmd)
}

// emitJobs writes the cluster job files.
func emitJobs(x *experiment.Experiment, cfg train.Config, s experiment.Sweep, f *experimentFlags, name, dir string, stdout io.Writer) error {
	c, err := experiment.ParseCluster(*f.emit)
	if err != nil {
		return usagef("experiment: --emit: %v", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	bin, err := os.Executable()
	if err != nil {
		return err
	}
	if c == experiment.Kubernetes {
		bin = "sharpflat" // the binary in the image
	}
	args := append([]string{"experiment", name}, planArgs(f.fs, f.set)...)
	args = append(args, "--out", abs)
	files, how, err := x.Emit(c, cfg, s, experiment.EmitOptions{Binary: bin, Args: args, Dir: abs})
	var uv *experiment.UnsafeValueError
	if errors.As(err, &uv) {
		return usagef("experiment %s --emit: %s: %v", name, unsafeValueSource(uv), err)
	}
	if err != nil {
		return err
	}
	for _, p := range files {
		fmt.Fprintln(stdout, safetext.Line(p))
	}
	fmt.Fprintln(stdout, safetext.Line(how))
	if c == experiment.Slurm && strings.Contains(bin, "go-build") {
		fmt.Fprintln(stdout, "note: this binary was built by 'go run' in a temporary directory; build one with 'go build -o sharpflat .' and set SHARPFLAT to its path")
	}
	return nil
}

// unsafeValueSource names where a value refused by Emit came from: the flag that gave it, or
// this binary's path.
func unsafeValueSource(uv *experiment.UnsafeValueError) string {
	switch uv.Field {
	case experiment.FieldDir:
		return "--out"
	case experiment.FieldBinary:
		return "the path of this sharpflat binary (move it, or build one elsewhere)"
	}
	if name, _, ok := strings.Cut(strings.TrimPrefix(uv.Value, "--"), "="); ok && strings.HasPrefix(uv.Value, "--") {
		return "--" + name
	}
	return "an argument"
}

// planArgs are the flags given that shape the plan (everything but the modes and --out), as
// arguments of a command line: "--name=value".
func planArgs(fs *flag.FlagSet, set map[string]bool) []string { return givenFlags(fs, set, "=") }

// givenFlags lists the flags given on the command line other than the modes, each as
// "--name" + sep + value ("--quick" alone).
func givenFlags(fs *flag.FlagSet, set map[string]bool, sep string) []string {
	var a []string
	fs.Visit(func(f *flag.Flag) {
		if !set[f.Name] || modeFlags[f.Name] {
			return
		}
		if f.Name == "quick" {
			a = append(a, "--quick")
			return
		}
		a = append(a, "--"+f.Name+sep+f.Value.String())
	})
	return a
}

// experimentSetup builds the base config (the experiment's preset and settings, then the
// command line's overrides) and the sweep.
func experimentSetup(fs *flag.FlagSet, build func() (train.Config, error), x *experiment.Experiment, set map[string]bool, quick bool, sf sweepFlags) (train.Config, experiment.Sweep, error) {
	name := x.Name
	for f, instead := range x.Swept {
		if set[f] {
			return train.Config{}, experiment.Sweep{}, usagef("experiment %s: --%s is swept by this experiment; use %s", name, f, instead)
		}
	}
	if !set["preset"] && !set["config"] {
		if err := fs.Set("preset", x.Preset); err != nil {
			return train.Config{}, experiment.Sweep{}, err
		}
	}
	// The preset (or the config file), the experiment's own settings unless given, then the
	// command line's: build applies the flags given over the preset, and since each setting
	// assigns one field, putting the experiment's on the fields not given is the same.
	cfg, err := build()
	if err != nil {
		return cfg, experiment.Sweep{}, usagef("experiment %s: %v", name, err)
	}
	x.ApplySettings(&cfg, quick, func(field string) bool { return set[field] })
	if err := cfg.Validate(); err != nil {
		return cfg, experiment.Sweep{}, usagef("experiment %s: %v", name, err)
	}
	s, err := parseSweep(sf)
	if err != nil {
		return cfg, s, usagef("experiment %s: %v", name, err)
	}
	s.Quick = quick
	return cfg, s, nil
}

func parseSweep(sf sweepFlags) (experiment.Sweep, error) {
	s := experiment.Sweep{Warmup: *sf.warmup, Steps: *sf.steps, Target: *sf.target, BulkTop: *sf.bulkTop}
	var err error
	if s.Seeds, err = parseList(*sf.seeds, "seeds", func(v string) (uint64, error) { return strconv.ParseUint(v, 10, 64) }); err != nil {
		return s, err
	}
	if s.Losses, err = parseList(*sf.losses, "losses", lossName); err != nil {
		return s, err
	}
	pf := func(v string) (float64, error) { return strconv.ParseFloat(v, 64) }
	if s.LRs, err = parseList(*sf.lrs, "lrs", pf); err != nil {
		return s, err
	}
	if s.Alphas, err = parseList(*sf.alphas, "alphas", pf); err != nil {
		return s, err
	}
	if s.WBulks, err = parseList(*sf.wBulks, "w-bulks", pf); err != nil {
		return s, err
	}
	if s.Ks, err = parseList(*sf.ks, "ks", strconv.Atoi); err != nil {
		return s, err
	}
	if s.Refreshes, err = parseList(*sf.refreshes, "refreshes", strconv.Atoi); err != nil {
		return s, err
	}
	if s.Batches, err = parseList(*sf.batches, "batches", strconv.Atoi); err != nil {
		return s, err
	}
	if *sf.steps < 0 {
		return s, fmt.Errorf("--steps %d: want ≥ 1", *sf.steps)
	}
	return s, nil
}

// lossName reads a loss by its name as the run directories write it: ce or mse (not the
// other spellings nn.ParseLoss reads, which the flag has never taken).
func lossName(v string) (nn.Loss, error) {
	l, err := nn.ParseLoss(v)
	if err == nil && l.String() != v {
		err = fmt.Errorf("loss %q: write %s", v, l)
	}
	return l, err
}

// parseList reads a comma-separated list; "" is nil (the default).
func parseList[T any](s, name string, parse func(string) (T, error)) ([]T, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []T
	for _, f := range strings.Split(s, ",") {
		v, err := parse(strings.TrimSpace(f))
		if err != nil {
			return nil, fmt.Errorf("--%s: %q is not a valid value (want a comma-separated list, e.g. --%s %s)", name, f, name, listExample(name))
		}
		out = append(out, v)
	}
	return out, nil
}

func listExample(name string) string {
	switch name {
	case "seeds":
		return "1,2,3"
	case "losses":
		return "ce,mse"
	case "ks", "refreshes":
		return "1,5,20"
	case "batches":
		return "32,0"
	}
	return "0.5,1,2"
}

// commandArgs are the flags given (and --out), to quote the command in the report.
func commandArgs(fs *flag.FlagSet, set map[string]bool, dir string) []string {
	return append(givenFlags(fs, set, " "), "--out "+dir)
}

func experimentUsage(fs *flag.FlagSet) {
	w := fs.Output()
	fmt.Fprintf(w, `%s

Usage:
  sharpflat experiment NAME [--preset P] [overrides] [sweep flags] --out DIR
  sharpflat experiment all [--quick] --out DIR [--docs docs]

Each experiment trains a family of runs (same initialisation and minibatch order across the
arms of a group; several engines at once), then writes DIR/runs/GROUP/ARM/ (run directories,
complete.json last), DIR/summary.csv, PNG figures and DIR/report.md. An interrupted experiment
(Ctrl-C) keeps its finished runs: the same command resumes. --quick is a seconds-long smoke
test. 'all' writes DIR/NAME/ for each (all but the heavy song). In experiments with a warm-up (switch, alpha,
stability) the config flags (--lr, --k, --refresh, --batch, …) set the warm-up and whatever
the arms do not sweep.

Every arm is a unit of work of its own, so a cluster can run them: --plan lists them (one JSON
line each, with a stable id and an index), --arm ID runs one into DIR (a finished arm is
skipped; the directory is the only coordination), --report builds the report from whatever
is finished, and --emit slurm|k8s writes a Slurm job array (with a dependent report job) or a
Kubernetes Indexed Job for them (docs/CLUSTER.md). Give the same flags to every mode.

Experiments (defaults; [quick]):
`, summaries["experiment"])
	for _, x := range experiment.All {
		d, q := x.Defaults(false), x.Defaults(true)
		fmt.Fprintf(w, "  %-9s  %s\n", x.Name, x.Summary)
		if x.Heavy {
			fmt.Fprintf(w, "             hours by default (--steps shortens it); not part of 'all'\n")
		}
		fmt.Fprintf(w, "             preset %s; %s [%s]\n", x.Preset, sweepDesc(d), sweepDesc(q))
		var over []string
		c, _ := train.Preset(x.Preset)
		for _, st := range x.Settings(false) {
			st.Apply(&c)
			f, _ := train.FieldByName(st.Field)
			over = append(over, "--"+st.Field+" "+f.Get(&c))
		}
		sort.Strings(over)
		if len(over) > 0 {
			fmt.Fprintf(w, "             sets %s unless given\n", strings.Join(over, ", "))
		}
		var swept []string
		for k := range x.Swept {
			swept = append(swept, "--"+k)
		}
		sort.Strings(swept)
		fmt.Fprintf(w, "             refuses %s (swept)\n", strings.Join(swept, ", "))
	}
	fmt.Fprintf(w, "\nFlags:\n")
	fs.PrintDefaults()
}

func sweepDesc(s experiment.Sweep) string {
	var p []string
	if len(s.Seeds) > 0 {
		p = append(p, "seeds "+joinAny(s.Seeds))
	}
	if len(s.Losses) > 0 {
		p = append(p, "losses "+joinAny(s.Losses))
	}
	if len(s.LRs) > 0 {
		p = append(p, "η "+joinAny(s.LRs))
	}
	if len(s.Ks) > 0 {
		p = append(p, "k "+joinAny(s.Ks))
	}
	if len(s.Refreshes) > 0 {
		p = append(p, "T "+joinAny(s.Refreshes))
	}
	if len(s.Batches) > 0 {
		p = append(p, "batch "+joinAny(s.Batches))
	}
	if len(s.Alphas) > 0 {
		p = append(p, "α "+joinAny(s.Alphas))
	}
	if len(s.WBulks) > 0 {
		p = append(p, "w_bulk "+joinAny(s.WBulks))
	}
	if s.Warmup > 0 {
		p = append(p, fmt.Sprintf("warm-up %d", s.Warmup))
	}
	p = append(p, fmt.Sprintf("%d steps", s.Steps))
	return strings.Join(p, ", ")
}

func joinAny[T any](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ",")
}
