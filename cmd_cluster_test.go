package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"sharpflat/lab/experiment"
	"sharpflat/lab/rundir"
)

// clusterArgs are the flags of the small experiment the cluster tests share: the quick
// switch experiment with arms long enough to be caught running.
var clusterArgs = []string{"switch", "--quick", "--steps", "1500"}

// --plan lists the arms with stable ids and indices; --arm takes either.
func TestExperimentPlanLines(t *testing.T) {
	code, out, errOut := runCLI(t, append([]string{"experiment"}, append(clusterArgs, "--out", t.TempDir(), "--plan")...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d plan lines, want 3:\n%s", len(lines), out)
	}
	for i, l := range lines {
		var u struct {
			Index         int
			ID, Group     string
			Arm           string
			Steps, Warmup int
		}
		if err := json.Unmarshal([]byte(l), &u); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if u.Index != i || u.ID != u.Group+"/"+u.Arm || u.Steps != 1500 || u.Warmup != 20 {
			t.Errorf("line %d: %+v", i, u)
		}
	}
	for _, tc := range []struct{ arm, want string }{{"7", "out of range"}, {"ce_seed1/nope", "no arm"}} {
		code, _, errOut := runCLI(t, append([]string{"experiment"}, append(clusterArgs, "--out", t.TempDir(), "--arm", tc.arm)...)...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("--arm %s: exit %d, stderr %q", tc.arm, code, errOut)
		}
	}
}

// The job array of --emit slurm, simulated: each task of arms.sbatch runs in its own process
// with SLURM_ARRAY_TASK_ID set, in shuffled order, two at once (racing for the shared
// warm-up), one of them killed while its arm runs and then rerun, a finished one rerun; then
// report.sbatch. The report equals a local run's, bit for bit.
func TestExperimentJobArrayMatchesLocalRun(t *testing.T) {
	numericsOnly(t)
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash to run the job scripts with")
	}
	local, array := filepath.Join(t.TempDir(), "local"), filepath.Join(t.TempDir(), "array")
	if code, _, errOut := runCLI(t, append([]string{"experiment"}, append(clusterArgs, "--out", local, "--quiet")...)...); code != 0 {
		t.Fatalf("local run: exit %d: %s", code, errOut)
	}
	code, out, errOut := runCLI(t, append([]string{"experiment"}, append(clusterArgs, "--out", array, "--emit", "slurm")...)...)
	if code != 0 {
		t.Fatalf("--emit slurm: exit %d: %s", code, errOut)
	}
	scripts := filepath.Join(array, "slurm")
	arms, err := os.ReadFile(filepath.Join(scripts, "arms.sbatch"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"#SBATCH --array=0-2", "SLURM_ARRAY_TASK_ID", "--arm"} {
		if !strings.Contains(string(arms), want) {
			t.Errorf("arms.sbatch lacks %q:\n%s", want, arms)
		}
	}
	if !strings.Contains(out, "submit.sh") {
		t.Errorf("--emit does not say how to submit: %s", out)
	}
	task := func(script string, index int) *exec.Cmd {
		cmd := exec.Command("bash", filepath.Join(scripts, script))
		cmd.Env = append(os.Environ(), "SHARPFLAT_AS_CLI=1", "SHARPFLAT="+os.Args[0])
		if index >= 0 {
			cmd.Env = append(cmd.Env, fmt.Sprintf("SLURM_ARRAY_TASK_ID=%d", index))
		}
		return cmd
	}
	finish := func(cmd *exec.Cmd, what string) string {
		t.Helper()
		var buf bytes.Buffer
		cmd.Stdout, cmd.Stderr = &buf, &buf
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v\n%s", what, err, buf.String())
		}
		return buf.String()
	}

	// Arm 2 is killed while it runs: wait for its partial run directory, then SIGKILL.
	victim := task("arms.sbatch", 2)
	var vout bytes.Buffer
	victim.Stdout, victim.Stderr = &vout, &vout
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	partials := filepath.Join(array, "runs", "ce_seed1", ".partial-bulk-*", "metrics.jsonl")
	waitFor(t, "arm 2 to start writing its run", func() bool {
		m, _ := filepath.Glob(partials)
		return len(m) > 0
	})
	victim.Process.Kill()
	err = victim.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("arm 2 was not killed while running (%v): the test could not catch it\n%s", err, vout.String())
	}
	if m, _ := filepath.Glob(partials); len(m) != 1 {
		t.Fatalf("the killed arm left %d partial directories, want 1", len(m))
	}
	if _, err := os.Stat(filepath.Join(array, "runs", "ce_seed1", "bulk")); err == nil {
		t.Fatal("the killed arm's run directory is in place")
	}

	// Arms 1 and 0 at once, then the killed one again, then a finished one again.
	a1, a0 := task("arms.sbatch", 1), task("arms.sbatch", 0)
	var o1 bytes.Buffer
	a1.Stdout, a1.Stderr = &o1, &o1
	if err := a1.Start(); err != nil {
		t.Fatal(err)
	}
	finish(a0, "arm 0")
	if err := a1.Wait(); err != nil {
		t.Fatalf("arm 1: %v\n%s", err, o1.String())
	}
	// The report job runs after the array however its tasks ended (afterany): with arm 2
	// killed it names that arm and fails, rather than waiting for ever.
	rep := task("report.sbatch", -1)
	rout, err := rep.CombinedOutput()
	if err == nil || !strings.Contains(string(rout), "missing: arm 2 ce_seed1/bulk") {
		t.Errorf("the report with arm 2 killed: %v\n%s", err, rout)
	}
	finish(task("arms.sbatch", 2), "arm 2 again")
	if again := finish(task("arms.sbatch", 0), "arm 0 again"); !strings.Contains(again, "already finished") {
		t.Errorf("a finished arm ran again: %s", again)
	}
	if m, _ := filepath.Glob(filepath.Join(array, "runs", "*", ".partial-*")); len(m) != 0 {
		t.Errorf("partial directories left behind: %v", m)
	}
	finish(task("report.sbatch", -1), "the report")

	// The same report as the local run, bit for bit.
	same := func(rel string) {
		t.Helper()
		a, err1 := os.ReadFile(filepath.Join(local, rel))
		b, err2 := os.ReadFile(filepath.Join(array, rel))
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs between the local run and the job array (%v, %v)", rel, err1, err2)
		}
	}
	same("summary.csv")
	same("switch.png")
	same("plan.json")
	body := func(dir string) string {
		raw, _ := os.ReadFile(filepath.Join(dir, "report.md"))
		var keep []string
		for _, l := range strings.Split(string(raw), "\n") {
			if !strings.HasPrefix(l, "Command: ") {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
	if body(local) != body(array) {
		t.Errorf("report.md differs:\n%s\n---\n%s", body(local), body(array))
	}
	for _, arm := range []string{"warmup", "sgd", "dom", "bulk"} {
		rel := filepath.Join("runs", "ce_seed1", arm)
		a, err1 := rundir.ReadMetrics(filepath.Join(local, rel))
		b, err2 := rundir.ReadMetrics(filepath.Join(array, rel))
		if err1 != nil || err2 != nil || len(a) != len(b) {
			t.Fatalf("%s: %v %v, %d and %d steps", rel, err1, err2, len(a), len(b))
		}
		for i := range a {
			a[i].StepsPerSec, a[i].WallSec, a[i].RefreshMS = 0, 0, 0
			b[i].StepsPerSec, b[i].WallSec, b[i].RefreshMS = 0, 0, 0
			x, _ := json.Marshal(a[i])
			y, _ := json.Marshal(b[i])
			if !bytes.Equal(x, y) {
				t.Fatalf("%s step %d differs:\n%s\n%s", rel, a[i].Step, x, y)
			}
		}
	}
}

// --report builds what it can from the arms finished so far, names each missing arm (its
// index, id and the directory expected) and fails while any is missing; with no sweep value
// complete it still names them (issue 25, items 16 and 17).
func TestExperimentPartialReport(t *testing.T) {
	dir := t.TempDir()
	args := []string{"experiment", "switch", "--quick", "--seeds", "1,2", "--out", dir}
	missingLine := func(index int, id string) string {
		return fmt.Sprintf("missing: arm %d %s (no %s yet)", index, id, filepath.Join(dir, "runs", id, "complete.json"))
	}
	if code, out, errOut := runCLI(t, append(args, "--report")...); code != 1 || !strings.Contains(errOut, "no arm is finished") ||
		!strings.Contains(out, missingLine(0, "ce_seed1/sgd")) || !strings.Contains(out, missingLine(5, "ce_seed2/bulk")) {
		t.Errorf("report of nothing: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// One arm finished, no sweep value complete: still the missing arms by name.
	if code, _, errOut := runCLI(t, append(args, "--arm", "ce_seed1/dom", "--quiet")...); code != 0 {
		t.Fatalf("--arm ce_seed1/dom: exit %d: %s", code, errOut)
	}
	code, out, errOut := runCLI(t, append(args, "--report")...)
	if code != 1 || !strings.Contains(errOut, "no complete set of arms") || !strings.Contains(out, missingLine(0, "ce_seed1/sgd")) ||
		!strings.Contains(out, missingLine(2, "ce_seed1/bulk")) || strings.Contains(out, "ce_seed1/dom") {
		t.Errorf("report with no sweep value complete: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	for _, arm := range []string{"ce_seed2/sgd", "ce_seed2/dom", "ce_seed2/bulk"} {
		if code, _, errOut := runCLI(t, append(args, "--arm", arm, "--quiet")...); code != 0 {
			t.Fatalf("--arm %s: exit %d: %s", arm, code, errOut)
		}
	}
	// A partial report: written, the missing arms named, and a failure until they are done.
	code, out, errOut = runCLI(t, append(args, "--report")...)
	if code != 1 || !strings.Contains(errOut, "2 arms not finished") || !strings.Contains(out, "report.md") ||
		!strings.Contains(out, missingLine(0, "ce_seed1/sgd")) || !strings.Contains(out, missingLine(2, "ce_seed1/bulk")) {
		t.Fatalf("partial report: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	if !strings.Contains(string(md), "Partial report: 2 arms are not finished") || !strings.Contains(string(md), "| ce | 2 |") || strings.Contains(string(md), "| ce | 1 |") {
		t.Errorf("report.md should cover seed 2 only and say it is partial:\n%s", md)
	}

	// --docs with --report: refused while arms are missing, written once all are finished.
	docs := t.TempDir()
	code, _, errOut = runCLI(t, append(args, "--report", "--docs", docs)...)
	if code == 0 || !strings.Contains(errOut, "--docs needs every arm finished (2 missing") {
		t.Errorf("partial report with --docs: exit %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(docs, "EXPERIMENTS.md")); !os.IsNotExist(err) {
		t.Errorf("partial report with --docs wrote the docs (%v)", err)
	}
	for _, arm := range []string{"ce_seed1/sgd", "ce_seed1/bulk"} {
		if code, _, errOut := runCLI(t, append(args, "--arm", arm, "--quiet")...); code != 0 {
			t.Fatalf("--arm %s: exit %d: %s", arm, code, errOut)
		}
	}
	if code, _, errOut := runCLI(t, append(args, "--report", "--docs", docs)...); code != 0 {
		t.Fatalf("report with --docs: exit %d: %s", code, errOut)
	}
	doc, _ := os.ReadFile(filepath.Join(docs, "EXPERIMENTS.md"))
	if !strings.Contains(string(doc), "<!-- BEGIN generated: switch -->") || !strings.Contains(string(doc), "| ce | 1 |") {
		t.Errorf("EXPERIMENTS.md after --report --docs:\n%s", doc)
	}
	if _, err := os.Stat(filepath.Join(docs, "figures", "switch.png")); err != nil {
		t.Error(err)
	}
}

// --emit k8s writes an Indexed Job for the arms and a report Job.
func TestExperimentEmitKubernetes(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := runCLI(t, "experiment", "eos", "--quick", "--out", dir, "--emit", "k8s")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	arms, _ := os.ReadFile(filepath.Join(dir, "k8s", "arms.yaml"))
	report, _ := os.ReadFile(filepath.Join(dir, "k8s", "report.yaml"))
	for _, want := range []string{"completionMode: Indexed", "completions: 2", `"--arm", "$(JOB_COMPLETION_INDEX)"`, `"--out", "` + dir + `"`} {
		if !strings.Contains(string(arms), want) {
			t.Errorf("arms.yaml lacks %s:\n%s", want, arms)
		}
	}
	if !strings.Contains(string(report), `"--report"`) {
		t.Errorf("report.yaml does not run --report:\n%s", report)
	}
	if code, _, errOut := runCLI(t, "experiment", "eos", "--quick", "--out", dir, "--emit", "pbs"); code != 2 || !strings.Contains(errOut, "want slurm or k8s") {
		t.Errorf("--emit pbs: exit %d, %s", code, errOut)
	}
}

// waitFor polls cond (a file appearing, say) until it holds. The budget only turns a hang
// into a failure; it is not a speed requirement.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// The attack of issue 25: a line break in --out used to end a comment line of arms.sbatch and
// start a command (`touch …/pwned`). Now --emit refuses it, naming --out, and writes nothing.
func TestExperimentEmitRefusesInjection(t *testing.T) {
	root := t.TempDir()
	for _, out := range []string{root + "/ex\nnl;touch " + root + "/pwned", root + "/ex\rx", root + "/ex\x1b]52;c;eA==\x07"} {
		code, _, errOut := runCLI(t, "experiment", "switch", "--quick", "--out", out, "--emit", "slurm")
		if code != 2 || !strings.Contains(errOut, "--out") || !strings.Contains(errOut, "cannot go into a job script") {
			t.Errorf("--out %q: exit %d, stderr %q; want 2 and a refusal naming --out", out, code, errOut)
		}
		if strings.ContainsAny(errOut, "\r\x1b\x07") {
			t.Errorf("the refusal prints the value raw: %q", errOut)
		}
	}
	if es, _ := os.ReadDir(root); len(es) != 0 {
		t.Errorf("refused --emit runs left %v", es)
	}
	// A flag's value that reaches the scripts is refused by the flag's name: --config here.
	x, _ := experiment.Lookup("switch")
	cfg, err := x.BaseConfig(true)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(cfg)
	file := filepath.Join(t.TempDir(), "c\nfg;touch pwned.json")
	if err := os.WriteFile(file, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "experiment", "switch", "--quick", "--config", file, "--out", filepath.Join(root, "ex"), "--emit", "slurm")
	if code != 2 || !strings.Contains(errOut, "--emit: --config: argument") {
		t.Errorf("--config with a line break: exit %d, stderr %q", code, errOut)
	}
}
