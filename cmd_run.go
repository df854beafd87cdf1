package main

import (
	"context"
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

	"sharpflat/lab"
)

// configFlags adds --preset, --config and every Config field to fs. The returned function,
// called after parsing, builds the Config: the preset (or the config file's preset), then the
// file, then the flags given on the command line.
func configFlags(fs *flag.FlagSet) func() (lab.Config, error) {
	preset := fs.String("preset", "demo", "preset: "+strings.Join(lab.Presets(), ", "))
	file := fs.String("config", "", "JSON config file (fields as in a run's config.json); flags override it")
	var c lab.Config
	// Register the fields (bound to a scratch config, showing the demo's defaults); after
	// parsing, the flags actually given are applied again over the chosen preset.
	scratch, _ := lab.Preset("demo")
	scratch.Flags(fs)
	return func() (lab.Config, error) {
		var err error
		switch {
		case *file != "":
			c, err = lab.LoadConfigFile(*file)
		default:
			c, err = lab.Preset(*preset)
		}
		if err != nil {
			return c, err
		}
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if *file != "" && set["preset"] {
			return c, fmt.Errorf("--preset and --config together: the config file names its preset")
		}
		// Re-parse only the given flags onto the preset's config.
		over := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
		over.SetOutput(io.Discard)
		applyOver := c.Flags(over)
		var args []string
		fs.Visit(func(f *flag.Flag) {
			if over.Lookup(f.Name) != nil {
				args = append(args, "--"+f.Name+"="+f.Value.String())
			}
		})
		if err := over.Parse(args); err != nil {
			return c, err
		}
		if err := applyOver(); err != nil {
			return c, err
		}
		return c, c.Validate()
	}
}

func runRun(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", "[--preset NAME] [overrides] --steps N --out DIR", stdout, stderr)
	build := configFlags(fs)
	steps := fs.Int("steps", 1000, "steps to train")
	out := fs.String("out", "", "run directory to write (created; must not hold a run) [required]")
	switchAt := fs.Int("switch-at", 0, "after this many steps switch the update to --to (Song et al.: SGD, then switch)")
	to := fs.String("to", "", "update after --switch-at: bulk, dom, sgd or alpha=A")
	quiet := fs.Bool("quiet", false, "no progress line on stderr")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if *out == "" {
		return usagef("run: --out DIR is required")
	}
	if *steps < 1 {
		return usagef("run: --steps %d, want ≥ 1", *steps)
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return lab.Headless(ctx, cfg, lab.HeadlessOptions{
		Steps: *steps, Out: *out, SwitchAt: *switchAt, SwitchWDom: wDom, SwitchWBulk: wBulk,
		Progress: progressWriter(*quiet, stderr),
	})
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
		wDom, wBulk = lab.Weights(v)
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
