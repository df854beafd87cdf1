package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/mattn/go-isatty"

	"sharpflat/internal/safetext"
	"sharpflat/lab"
	"sharpflat/tui"
)

// runLab opens the terminal lab: `sharpflat [--preset NAME] [overrides]`.
func runLab(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("lab", "[--preset NAME] [overrides] [--compare DIR...] [--race ARMS [--race-at S]]", stdout, stderr)
	build := configFlags(fs)
	fs.String("compare", "", "DIR...: saved run directories (or an experiment's output directory) to show beside the live run, at most 6 runs; o changes them in the lab")
	compare, args, err := compareDirs(args)
	if err != nil {
		return err
	}
	runDir := fs.String("runs", "runs", "directory under which the w key writes runs")
	noConfirm := fs.Bool("no-confirm", false, "q quits at once, without asking about a run that was not written (for scripts)")
	race := fs.String("race", "", "ARMS: race these arms from step --race-at, e.g. dom,sgd,bulk (each RULE[:lr*X][:k=N][:m=B]; what y shares during a race)")
	raceAt := fs.Int("race-at", 0, "S: the step the --race starts at (0: at once)")
	densityEvery := fs.Int("density-every", lab.DefaultDensityEvery, "N: compute the Hessian's spectral density every N eigenspace refreshes while the density panel shows (s); 0: only when asked (e)")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	cfg, err := build()
	if err != nil {
		return usagef("%v", err)
	}
	var arms []lab.ArmSpec
	if *race != "" {
		if arms, err = lab.ParseRace(*race); err != nil {
			return usagef("--race: %v", err)
		}
	}
	if *densityEvery < 0 {
		return usagef("--density-every %d: want N ≥ 0 refreshes (0: only when asked)", *densityEvery)
	}
	if *raceAt < 0 {
		return usagef("--race-at %d: want a step ≥ 0", *raceAt)
	}
	if *raceAt > 0 && *race == "" {
		return usagef("--race-at needs --race ARMS (e.g. --race dom,sgd,bulk)")
	}
	if !isatty.IsTerminal(os.Stdout.Fd()) || !isatty.IsTerminal(os.Stdin.Fd()) {
		return fmt.Errorf("the lab needs a terminal (stdin and stdout); for a headless run use 'sharpflat run --out DIR'")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	warns, err := tui.CheckCompare(compare)
	if err != nil {
		return usagef("--compare: %v", err)
	}
	for _, w := range warns {
		fmt.Fprintf(stderr, "sharpflat: warning: %s\n", safetext.Line(w)) // it names a directory
	}
	return tui.RunWith(ctx, cfg, tui.Options{RunDir: *runDir, NoConfirm: *noConfirm, Compare: compare, Race: arms, RaceAt: *raceAt,
		DensityEvery: densityPeriod(*densityEvery)})
}

// densityPeriod is the tui's DensityEvery for --density-every n: 0 there is the lab's
// default, so the flag's 0 (only when asked) is −1.
func densityPeriod(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// compareDirs takes --compare DIR... (every argument after it up to the next flag, or
// --compare=DIR) out of args.
func compareDirs(args []string) (dirs, rest []string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return dirs, append(rest, args[i:]...), nil
		case a == "--compare" || a == "-compare":
			n := len(dirs)
			for i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				dirs = append(dirs, args[i+1])
				i++
			}
			if len(dirs) == n {
				return nil, nil, usagef("lab: --compare needs run directories after it (see 'sharpflat lab --help')")
			}
		case strings.HasPrefix(a, "--compare=") || strings.HasPrefix(a, "-compare="):
			dirs = append(dirs, a[strings.Index(a, "=")+1:])
		default:
			rest = append(rest, a)
		}
	}
	return dirs, rest, nil
}
