package main

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sharpflat/lab/train"
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
		{[]string{"experiment", "switch", "--losses", "ce,hinge", "--out", dir}, `--losses: "hinge" is not a valid value (want a comma-separated list, e.g. --losses ce,mse)`},
		{[]string{"experiment", "curvature", "--losses", "xent", "--out", dir}, `--losses: "xent" is not a valid value`},
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

var updateExperimentGolden = flag.Bool("update-experiment", false, "rewrite testdata/experiment-outputs.txt")

// expClockField matches a clock field of a JSON file (one line or indented) with its value.
var expClockField = regexp.MustCompile(`"(wall_sec|steps_per_sec|refresh_ms|time|wall_s|took_s|started|finished)":\s*(null|"[^"]*"|[-+0-9.eE]+),?`)

// expClockColumns are the CSV columns that hold clock readings.
var expClockColumns = []string{"wall_sec", "steps_per_sec", "refresh_ms", "wall_s"}

// expTextClock is a duration in a message ("refreshed …, 51 HVPs, 15 ms").
var expTextClock = regexp.MustCompile(`\b[0-9]+(\.[0-9]+)? ms\b`)

// expReportClock is the clock of a report's command line.
var expReportClock = regexp.MustCompile(`\(written [^;]*; this invocation took [^)]*\)`)

// normalizeExperimentFile is a file's content without its clock fields and with the
// experiment directory written DIR.
func normalizeExperimentFile(raw []byte, path, dir string) string {
	s := strings.ReplaceAll(string(raw), dir, "DIR")
	if filepath.Ext(path) != ".bin" {
		s = expTextClock.ReplaceAllString(s, "N ms")
	}
	switch filepath.Ext(path) {
	case ".jsonl", ".json":
		return expClockField.ReplaceAllString(s, "")
	case ".md":
		return expReportClock.ReplaceAllString(s, "(CLOCK)")
	case ".csv":
		lines := strings.Split(s, "\n")
		head := strings.Split(lines[0], ",")
		var drop []int
		for i, h := range head {
			if slices.Contains(expClockColumns, h) {
				drop = append(drop, i)
			}
		}
		for i, l := range lines {
			var keep []string
			for j, c := range strings.Split(l, ",") {
				if !slices.Contains(drop, j) {
					keep = append(keep, c)
				}
			}
			lines[i] = strings.Join(keep, ",")
		}
		return strings.Join(lines, "\n")
	}
	return s
}

// checkpointWithoutClock is a checkpoint file written again with the wall time of its
// basis's refresh (its only clock field) set to 0.
func checkpointWithoutClock(t *testing.T, raw []byte) []byte {
	t.Helper()
	cp, err := train.ReadCheckpoint(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	cp.Basis.MS = 0
	var b bytes.Buffer
	if _, err := cp.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// experimentOutputs runs one experiment command into a fresh directory and lists its stdout
// and every file written (but lock files), each as the SHA-256 of its normalized content.
// got keeps the normalized contents to show a difference.
func experimentOutputs(t *testing.T, got map[string]string, name string, args ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "x")
	code, out, errOut := runCLI(t, append(append([]string{"experiment"}, args...), "--out", dir, "--quiet", "--jobs", "1")...)
	var b strings.Builder
	fmt.Fprintf(&b, "== %s: exit %d\n", name, code)
	add := func(key, content string) {
		got[name+" "+key] = content
		fmt.Fprintf(&b, "%s %x\n", key, sha256.Sum256([]byte(content)))
	}
	add("stdout", strings.ReplaceAll(out, dir, "DIR"))
	if code != 0 {
		add("stderr", strings.ReplaceAll(errOut, dir, "DIR"))
	}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, ".lock") {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if filepath.Base(path) == "checkpoint.bin" {
			raw = checkpointWithoutClock(t, raw)
		}
		add(filepath.ToSlash(rel), normalizeExperimentFile(raw, path, dir))
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return b.String()
}

// TestExperimentOutputsUnchanged pins what `experiment` writes, byte for byte apart from the
// clock fields: every quick experiment run through the command line (its settings over its
// preset, the user's flags over them), the full plans (plan.json, written by --report before
// it finds nothing finished), and the help's list of the experiments with their settings. The golden
// was generated by the code before the experiments' settings were typed (they were flag
// strings set by reflection): go test -run TestExperimentOutputsUnchanged -update-experiment .
func TestExperimentOutputsUnchanged(t *testing.T) {
	numericsOnly(t)
	if testing.Short() {
		t.Skip("trains every quick experiment")
	}
	cfgFile := filepath.Join(t.TempDir(), "cfg.json")
	// A config file whose fields an experiment also sets: the experiment's settings win over
	// the file's, the command line's over both.
	if err := os.WriteFile(cfgFile, []byte(`{"preset":"demo","refresh_every":7,"eval_every":3,"k":2,"n":200}`), 0o644); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	var b strings.Builder
	for _, n := range []string{"switch", "alpha", "stability", "curvature", "eos", "song"} {
		b.WriteString(experimentOutputs(t, got, n+" quick", n, "--quick"))
		b.WriteString(experimentOutputs(t, got, n+" plan", n, "--report"))
	}
	b.WriteString(experimentOutputs(t, got, "alpha quick overrides", "alpha", "--quick", "--eval-every", "3", "--hidden", "6", "--steps", "6", "--warmup", "4"))
	b.WriteString(experimentOutputs(t, got, "switch config file", "switch", "--config", cfgFile, "--k", "4", "--report"))
	b.WriteString(experimentOutputs(t, got, "curvature config file quick", "curvature", "--quick", "--config", cfgFile, "--hutch-samples", "6", "--report"))
	_, help, _ := runCLI(t, "experiment", "--help")
	help, _, _ = strings.Cut(help, "\nFlags:\n") // the experiments, not every flag of train.Config
	got["help"] = help
	fmt.Fprintf(&b, "== help\nstdout %x\n", sha256.Sum256([]byte(help)))

	path := filepath.Join("testdata", "experiment-outputs.txt")
	if *updateExperimentGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	wl, gl := strings.Split(string(want), "\n"), strings.Split(b.String(), "\n")
	section := ""
	for i := range max(len(wl), len(gl)) {
		w, g := "", ""
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if strings.HasPrefix(g, "== ") {
			section = strings.TrimPrefix(strings.SplitN(g, ":", 2)[0], "== ")
		}
		if w != g {
			key, _, _ := strings.Cut(g, " ")
			t.Fatalf("%s differs from the golden at line %d:\n got  %s\n want %s\nnormalized content now:\n%.2000s", path, i+1, g, w, got[section+" "+key])
		}
	}
}
