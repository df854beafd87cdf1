package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExperimentHelpListsEverything(t *testing.T) {
	code, out, _ := runCLI(t, "experiment", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"switch", "alpha", "stability", "curvature", "eos", "all", "--quick", "-lrs", "-ks", "-refreshes", "-batches", "-seeds", "resumes", "--docs"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	if code, out, _ := runCLI(t, "--help"); code != 0 || !strings.Contains(out, "experiment") {
		t.Errorf("main help does not list experiment")
	}
}

func TestExperimentBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"experiment"}, "name an experiment"},
		{[]string{"experiment", "nope", "--out", dir}, `unknown experiment "nope"`},
		{[]string{"experiment", "switch"}, "--out DIR is required"},
		{[]string{"experiment", "eos", "--lr", "0.3", "--out", dir}, "--lr is swept by this experiment; use --lrs"},
		{[]string{"experiment", "switch", "--loss", "mse", "--out", dir}, "use --losses"},
		{[]string{"experiment", "stability", "--ks", "1,x", "--out", dir}, `--ks: "x" is not a valid value`},
		{[]string{"experiment", "all", "--lr", "0.2", "--out", dir}, "'all' takes --out"},
		{[]string{"experiment", "switch", "--frobnicate", "--out", dir}, "see 'sharpflat experiment --help'"},
	} {
		code, _, errOut := runCLI(t, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

// The fast variant through the command line: report, figures and the docs section.
func TestExperimentQuickThroughCLI(t *testing.T) {
	dir, docs := t.TempDir(), t.TempDir()
	code, out, errOut := runCLI(t, "experiment", "switch", "--quick", "--out", dir, "--docs", docs)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "report.md") || !strings.Contains(errOut, "3/3 runs complete") {
		t.Errorf("stdout %q, stderr %q", out, errOut)
	}
	for _, f := range []string{filepath.Join(dir, "report.md"), filepath.Join(dir, "switch.png"), filepath.Join(docs, "EXPERIMENTS.md"), filepath.Join(docs, "figures", "switch.png")} {
		if _, err := os.Stat(f); err != nil {
			t.Error(err)
		}
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	if !strings.Contains(string(md), "sharpflat experiment switch --quick --out "+dir) {
		t.Errorf("report does not quote the command:\n%s", md)
	}
	// The same command again: everything is complete, nothing reruns.
	code, _, errOut = runCLI(t, "experiment", "switch", "--quick", "--out", dir)
	if code != 0 || !strings.Contains(errOut, "3 already complete") {
		t.Errorf("rerun: exit %d, stderr %q", code, errOut)
	}
}
