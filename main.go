// Command sharpflat is a terminal lab for training neural networks along the sharp (Dominant)
// and flat (Bulk) directions of the loss Hessian. See README.md.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"sharpflat/internal/safetext"
)

// commands maps a subcommand's name to its entry point, which gets the arguments after the
// name; summaries holds the one-line description of each.
var commands = map[string]func(args []string, stdout, stderr io.Writer) error{
	"lab":        runLab,
	"hessian":    runHessian,
	"bench":      runBench,
	"run":        runRun,
	"serve":      runServe,
	"experiment": runExperiment,
	"data":       runData,
	"lesson":     runLesson,
}

var summaries = map[string]string{
	"lab":        "the terminal lab (what 'sharpflat' with no command opens)",
	"hessian":    "top-k Hessian eigenpairs, G/F split and energies of a trained network on a data set",
	"bench":      "time gradient, HVP, GGN product and Lanczos on this machine",
	"run":        "train headless and write a run directory (metrics, events, weights)",
	"serve":      "serve the lab over SSH to a classroom (own lab per session, or --classroom)",
	"experiment": "reproducible experiments with plots and a report: switch, alpha, stability, curvature, eos, all",
	"data":       "export the exact training, test and Hessian sets a run uses, as CSV",
	"lesson":     "a guided lesson in the lab (built-in or your own file); --list, --check",
}

func usage(w io.Writer) {
	fmt.Fprint(w, `sharpflat — a terminal lab for training along the sharp (Dominant) and flat (Bulk)
directions of the loss Hessian.

Usage:
  sharpflat [flags]          open the lab on the demo preset ('sharpflat lab --help' lists the flags)
  sharpflat COMMAND [flags]  run a command; 'sharpflat COMMAND --help' lists its flags

Commands:
`)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s  %s\n", n, summaries[n])
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line and returns the exit status: 0 success, 1 failure,
// 2 bad usage.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "" && args[0][0] == '-' && !isHelp(args[0])) {
		return exitCode(runLab(args, stdout, stderr), stderr)
	}
	name := args[0]
	switch {
	case isHelp(name) || name == "help":
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return exitCode(c([]string{"--help"}, stdout, stderr), stderr)
			}
		}
		usage(stdout)
		return 0
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "sharpflat: unknown command %q\n\n", name)
		usage(stderr)
		return 2
	}
	return exitCode(c(args[1:], stdout, stderr), stderr)
}

func isHelp(a string) bool { return a == "-h" || a == "-help" || a == "--help" }

// usageError marks an error in the command line (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	// An error may quote a file or a peer (a lesson's title, a CSV header, a path): its
	// control characters are shown, never executed.
	fmt.Fprintf(stderr, "sharpflat: %s\n", safetext.Text(err.Error()))
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

// newFlags returns a flag set whose --help prints the summary, the usage line and the flags
// to stdout.
func newFlags(name, args string, stdout, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "%s\n\nUsage:\n  sharpflat %s %s\n\nFlags:\n", summaries[name], name, args)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args; --help prints the usage to stdout and returns flag.ErrHelp; a bad
// flag returns a usage error; positional arguments are refused.
// flagGiven reports whether the flag name was given on the command line (after parseFlags).
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(fl *flag.Flag) { given = given || fl.Name == name })
	return given
}

func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			fs.SetOutput(stdout)
			fs.Usage()
			return flag.ErrHelp
		}
	}
	out := fs.Output()
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.SetOutput(out)
	if err != nil {
		return usagef("%s: %v (see 'sharpflat %s --help')", fs.Name(), err, fs.Name())
	}
	if fs.NArg() > 0 {
		return usagef("%s: unexpected argument %q (see 'sharpflat %s --help')", fs.Name(), strings.Join(fs.Args(), " "), fs.Name())
	}
	return nil
}
