package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"sharpflat/internal/safetext"
	"sharpflat/lab"
	"sharpflat/lab/train"
)

// configFlags adds --preset, --config, --alpha and one flag per setting of train.Config to
// fs. The returned function, called after parsing, builds the Config: the preset (or the
// config file's preset), then the file, then the flags given on the command line.
func configFlags(fs *flag.FlagSet) func() (train.Config, error) {
	preset := fs.String("preset", "demo", "preset: "+strings.Join(train.Presets(), ", "))
	file := fs.String("config", "", "JSON config file (fields as in a run's config.json); flags override it")
	alpha := fs.String("alpha", "", "slider α in [0,1]: 0 Dom-SGD, 0.5 SGD, 1 Bulk-SGD (sets w-dom and w-bulk)")
	memoryFlag(fs)
	// The fields are bound to a scratch config, showing the demo's defaults; after parsing,
	// the values given are set again over the chosen preset.
	scratch, _ := train.Preset("demo")
	for _, f := range train.Fields() {
		switch p := f.Ptr(&scratch).(type) {
		case *int:
			fs.IntVar(p, f.Name, *p, f.Usage)
		case *float64:
			fs.Float64Var(p, f.Name, *p, f.Usage)
		case *uint64:
			fs.Uint64Var(p, f.Name, *p, f.Usage)
		case *string:
			fs.StringVar(p, f.Name, *p, f.Usage)
		default:
			fs.Var(&fieldFlag{c: &scratch, f: f}, f.Name, f.Usage)
		}
	}
	return func() (train.Config, error) {
		var c train.Config
		var err error
		switch {
		case *file != "":
			c, err = train.LoadConfigFile(*file)
		default:
			c, err = train.Preset(*preset)
		}
		if err != nil {
			return c, err
		}
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if *file != "" && set["preset"] {
			return c, fmt.Errorf("--preset and --config together: the config file names its preset")
		}
		var ferr error
		fs.Visit(func(fl *flag.Flag) {
			if f, ok := train.FieldByName(fl.Name); ok && ferr == nil {
				if err := f.Set(&c, fl.Value.String()); err != nil {
					ferr = fmt.Errorf("--%s: %v", fl.Name, err)
				}
			}
		})
		if ferr != nil {
			return c, ferr
		}
		if *alpha != "" {
			a, err := strconv.ParseFloat(*alpha, 64)
			if err != nil || !(a >= 0 && a <= 1) {
				return c, fmt.Errorf("--alpha %q: want a number in [0, 1]", *alpha)
			}
			c.WDom, c.WBulk = train.Weights(a)
		}
		return c, c.Validate()
	}
}

// fieldFlag is one setting of train.Config as a flag.
// fieldFlag is a setting's flag of a type the flag package has no Var for. It keeps the text
// given: the config it parses into is scratch (build applies every given flag to the preset),
// and parsing may rewrite the field itself (--update bulk becomes the weights w_dom 0,
// w_bulk 1 and leaves update empty), so the field's value read back would lose the flag.
type fieldFlag struct {
	c     *train.Config
	f     train.Field
	raw   string
	given bool
}

func (v *fieldFlag) String() string {
	switch {
	case v == nil || v.c == nil:
		return ""
	case v.given:
		return v.raw
	}
	return v.f.Get(v.c)
}

func (v *fieldFlag) Set(s string) error {
	if err := v.f.Set(v.c, s); err != nil {
		return err
	}
	v.raw, v.given = s, true
	return nil
}

func runRun(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", "[--preset NAME] [overrides] --steps N --out DIR | --resume DIR [--steps N]", stdout, stderr)
	build := configFlags(fs)
	steps := fs.Int("steps", 1000, "steps to train (0: write θ₀ and stop; with --resume: the total to reach, default the run's own)")
	out := fs.String("out", "", "run directory to write (created, or empty; never one holding other files) [required]")
	resume := fs.String("resume", "", "continue the interrupted (or finished) run in this directory from its last checkpoint")
	initWeights := fs.String("init-weights", "", "start from these weights (safetensors, PyTorch nn.Linear layout layers.{i}.weight/bias) instead of the seeded initialisation")
	ckptEvery := fs.Int("checkpoint-every", 0, "steps between resume checkpoints (0: every 10 s)")
	switchAt := fs.Int("switch-at", 0, "after this many steps switch the update to --to (Song et al.: SGD, then switch)")
	to := fs.String("to", "", "update after --switch-at: bulk, dom, sgd or alpha=A")
	quiet := fs.Bool("quiet", false, "no progress line on stderr")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	dir := *out
	if *resume != "" {
		dir = *resume
	}
	ctx, stop := stopContext(stderr, dir, os.Exit)
	defer stop()
	if *resume != "" {
		for name := range set {
			if name != "resume" && name != "steps" && name != "quiet" && name != "max-memory" {
				return usagef("run: --resume continues a run as it was configured: --%s cannot go with it (only --steps, --quiet and --max-memory)", name)
			}
		}
		if _, err := build(); err != nil { // sets --max-memory
			return usagef("run: %v", err)
		}
		total := 0
		if set["steps"] {
			if *steps < 1 {
				return usagef("run: --steps %d with --resume, want ≥ 1", *steps)
			}
			total = *steps
		}
		err := lab.Resume(ctx, *resume, lab.ResumeOptions{Steps: total, Progress: progressWriter(*quiet, stderr)})
		if errors.Is(err, lab.ErrNothingToDo) {
			fmt.Fprintf(stderr, "sharpflat: %s\n", safetext.Text(err.Error()))
			return nil
		}
		return memoryError(err)
	}
	if *out == "" {
		return usagef("run: --out DIR is required")
	}
	if *steps < 0 {
		return usagef("run: --steps %d, want ≥ 0", *steps)
	}
	if *ckptEvery < 0 {
		return usagef("run: --checkpoint-every %d, want ≥ 0", *ckptEvery)
	}
	cfg, err := build()
	if err != nil {
		return usagef("run: %v", err)
	}
	var wDom, wBulk float64
	if *switchAt > 0 || *to != "" {
		if *switchAt <= 0 || *switchAt >= *steps || *to == "" {
			return usagef("run: --switch-at S (0 < S < --steps) and --to go together")
		}
		if wDom, wBulk, err = parseArm(*to); err != nil {
			return usagef("run: --to: %v", err)
		}
	}
	return memoryError(lab.Headless(ctx, cfg, lab.HeadlessOptions{
		Steps: *steps, Out: *out, SwitchAt: *switchAt, SwitchWDom: wDom, SwitchWBulk: wBulk,
		CheckpointEvery: *ckptEvery, InitWeights: *initWeights, Progress: progressWriter(*quiet, stderr),
	}))
}

// stopContext returns a context that the first Ctrl-C or SIGTERM cancels: the run stops
// after the step in progress (within one curvature product, when the loop passes the
// context to the trainer's interrupt) and writes everything up to it. A second signal stops
// the process at once, as SIGKILL would: what is durable stays (the last resume checkpoint,
// the whole lines flushed), and --resume continues from it bit for bit. stop releases the
// signals. exit is os.Exit (a test passes its own).
func stopContext(stderr io.Writer, dir string, exit func(code int)) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2) // both signals are kept however fast they come
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
		case <-done:
			return
		}
		fmt.Fprintln(stderr, "\nsharpflat: stopping after the step in progress (Ctrl-C or SIGTERM again: stop at once)")
		cancel()
		select {
		case <-sigs:
		case <-done:
			return
		}
		fmt.Fprintf(stderr, "sharpflat: stopped at once; %s keeps the steps up to its last resume checkpoint (continue with --resume %s)\n",
			safetext.Line(dir), safetext.Line(dir))
		exit(1)
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}

// parseArm reads "bulk", "dom", "sgd" or "alpha=A" into (w_dom, w_bulk).
func parseArm(s string) (wDom, wBulk float64, err error) {
	switch s {
	case "bulk":
		return 0, 1, nil
	case "dom":
		return 1, 0, nil
	case "sgd":
		return 1, 1, nil
	}
	if a, ok := strings.CutPrefix(s, "alpha="); ok {
		v, err := strconv.ParseFloat(a, 64)
		if err != nil || v < 0 || v > 1 || math.IsNaN(v) {
			return 0, 0, fmt.Errorf("%q: alpha must be a number in [0, 1]", s)
		}
		wDom, wBulk = train.Weights(v)
		return wDom, wBulk, nil
	}
	return 0, 0, fmt.Errorf("%q: want bulk, dom, sgd or alpha=A", s)
}

// progressWriter returns the progress callback: one line on stderr, rewritten in place at
// most twice a second.
func progressWriter(quiet bool, stderr io.Writer) func(p lab.Progress) {
	if quiet {
		return nil
	}
	var last time.Time
	return func(p lab.Progress) {
		if !p.Final && time.Since(last) < 500*time.Millisecond {
			return
		}
		last = time.Now()
		eta := "—"
		if p.Rate > 0 {
			eta = (time.Duration(float64(p.Total-p.Step)/p.Rate) * time.Second).Round(time.Second).String()
		}
		fmt.Fprintf(stderr, "\rstep %d/%d  loss %.4g  λ₁ %.4g  2/η %.4g  %.1f steps/s  ETA %s   ",
			p.Step, p.Total, p.Loss, p.Sharpness, p.Threshold, p.Rate, eta)
		if p.Final {
			fmt.Fprintln(stderr)
		}
	}
}
