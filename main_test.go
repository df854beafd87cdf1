package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strings"
	"syscall"
	"testing"

	"sharpflat/lab/train"
	"sharpflat/nn"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestUsageAndHelp(t *testing.T) {
	// Without arguments sharpflat opens the lab, which needs a terminal: the test has none.
	if code, _, errOut := runCLI(t); code != 1 || !strings.Contains(errOut, "needs a terminal") {
		t.Errorf("no args without a terminal: code %d, stderr %q", code, errOut)
	}
	if code, out, _ := runCLI(t, "--help"); code != 0 || !strings.Contains(out, "Commands:") || !strings.Contains(out, "experiment") {
		t.Errorf("--help: code %d, out %q", code, out)
	}
	for _, c := range []string{"hessian", "bench", "run", "lab", "serve", "experiment"} {
		code, out, _ := runCLI(t, c, "--help")
		if code != 0 || !strings.Contains(out, "Usage:") || !strings.Contains(out, "sharpflat "+c) {
			t.Errorf("%s --help: code %d, out %q", c, code, out)
		}
	}
	if code, _, errOut := runCLI(t, "frobnicate"); code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: code %d, stderr %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, "hessian", "--k", "x"); code != 2 || !strings.Contains(errOut, "--help") {
		t.Errorf("bad flag: code %d, stderr %q", code, errOut)
	}
}

// fixture writes a data CSV and a weight file for a 4-6-3 tanh network.
func fixture(t *testing.T) (csvPath, wPath string, m *nn.MLP, th []float64, data nn.Dataset) {
	dir := t.TempDir()
	data = nn.GaussianMixture(60, 4, 3, 2)
	csvPath = filepath.Join(dir, "data.csv")
	f, err := os.Create(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := nn.WriteCSV(f, data); err != nil {
		t.Fatal(err)
	}
	f.Close()
	m, _ = nn.NewMLP([]int{4, 6, 3}, nn.Tanh, nn.CrossEntropy)
	th = make([]float64, m.NumParams())
	m.Init(th, nn.InitPyTorch, 5)
	wPath = filepath.Join(dir, "w.safetensors")
	if err := nn.SaveMLP(wPath, m, th, nil); err != nil {
		t.Fatal(err)
	}
	return csvPath, wPath, m, th, data
}

func TestHessianJSON(t *testing.T) {
	csvPath, wPath, m, th, data := fixture(t)
	code, out, errOut := runCLI(t, "hessian", "--data", csvPath, "--weights", wPath, "--act", "tanh", "--loss", "ce", "--k", "5", "--json")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &obj); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := []string{"P", "alignment_full_grad", "eigenvalues", "energy_F", "energy_F_stderr", "energy_G", "energy_G_stderr",
		"energy_H", "energy_H_stderr", "functional_rayleigh", "ggn_rayleigh", "grad_norm", "hvps", "loss", "residuals"}
	if strings.Join(keys, ",") != strings.Join(want, ",") {
		t.Fatalf("keys %v, want exactly %v", keys, want)
	}
	var r hessianReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	// Reference: the loss from a forward pass of the same network.
	wantLoss, _, _ := m.Evaluate(th, &data)
	if r.P != 51 || math.Abs(r.Loss-wantLoss) > 1e-12 || len(r.Eigenvalues) != 5 {
		t.Errorf("P %d loss %v (want %v) eigenvalues %v", r.P, r.Loss, wantLoss, r.Eigenvalues)
	}
	for i, l := range r.Eigenvalues {
		if i > 0 && l > r.Eigenvalues[i-1] {
			t.Errorf("eigenvalues not descending: %v", r.Eigenvalues)
		}
		if d := r.GGNRayleigh[i] + r.FunctionalRayleigh[i] - l; math.Abs(d) > 1e-9*math.Abs(r.Eigenvalues[0]) {
			t.Errorf("vᵀGv + vᵀFv − λ = %.3g", d)
		}
		if r.GGNRayleigh[i] < -1e-12 {
			t.Errorf("vᵀGv = %v < 0", r.GGNRayleigh[i])
		}
	}
	for _, e := range []float64{float64(r.EnergyH), float64(r.EnergyG), float64(r.EnergyF)} {
		if !(e >= 0 && e <= 1.05) {
			t.Errorf("energy %v outside [0, 1]", e)
		}
	}
	if r.AlignmentFullGrad < 0 || r.AlignmentFullGrad > 1 || r.HVPs < 5 {
		t.Errorf("alignment %v hvps %d", r.AlignmentFullGrad, r.HVPs)
	}

	// The table form names the columns.
	code, out, _ = runCLI(t, "hessian", "--data", csvPath, "--weights", wPath, "--k", "3")
	if code != 0 || !strings.Contains(out, "vᵢᵀGvᵢ") || !strings.Contains(out, "energy") {
		t.Errorf("table: code %d\n%s", code, out)
	}
}

func TestHessianErrors(t *testing.T) {
	csvPath, wPath, _, _, _ := fixture(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("x0,x1,x2,x3,label\n1,2,3,4,0\n1,2,oops,4,1\n"), 0o644)
	other := filepath.Join(dir, "other.csv")
	os.WriteFile(other, []byte("x0,x1,label\n1,2,0\n"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"hessian", "--weights", wPath}, 2, "give --data and --weights, or --run DIR"},
		{[]string{"hessian", "--run", dir, "--data", csvPath}, 2, "give --data and --weights, or --run DIR"},
		{[]string{"hessian", "--run", dir}, 1, "config.json"},
		{[]string{"hessian", "--data", bad, "--weights", wPath}, 1, "bad.csv:3:3"},
		{[]string{"hessian", "--data", other, "--weights", wPath}, 1, "2 features"},
		{[]string{"hessian", "--data", csvPath, "--weights", csvPath}, 1, "data.csv"},
		{[]string{"hessian", "--data", csvPath, "--weights", filepath.Join(dir, "missing.safetensors")}, 1, "missing.safetensors"},
		{[]string{"hessian", "--data", csvPath, "--weights", wPath, "--act", "swish"}, 2, "allowed: tanh"},
		// A billion probes was accepted, and ran for days.
		{[]string{"hessian", "--data", csvPath, "--weights", wPath, "--hutch-samples", "1000000000"}, 2, "--hutch-samples 0 or 2…10000"},
	} {
		code, _, errOut := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: code %d stderr %q, want %d and %q", tc.args[1:], code, errOut, tc.code, tc.want)
		}
	}
}

// hessian --run analyses a run's weights on its Hessian set, rebuilt from config.json; the
// reference is the engine's own refresh of the same point (λ₁ of a fresh basis).
func TestHessianOfARun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	if code, _, errOut := runCLI(t, "run", "--n", "300", "--hessian-set", "100", "--k", "4", "--steps", "5", "--out", out, "--quiet"); code != 0 {
		t.Fatal(errOut)
	}
	code, stdout, errOut := runCLI(t, "hessian", "--run", out, "--k", "4", "--json", "--hutch-samples", "0")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	var r hessianReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	// Reference: the same point through the library, independently of the command's flags.
	cfg, err := train.LoadConfigFile(filepath.Join(out, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	_, _, hess, err := train.RunData(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	m, th, err := nn.LoadMLP(filepath.Join(out, "weights.safetensors"), nn.Tanh, nn.CrossEntropy)
	if err != nil {
		t.Fatal(err)
	}
	wantLoss, _, _ := m.Evaluate(th, &hess)
	if r.P != 778 || hess.N != 100 || math.Abs(r.Loss-wantLoss) > 1e-12 || len(r.Eigenvalues) != 4 {
		t.Errorf("P %d |S| %d loss %v (want %v) λ %v", r.P, hess.N, r.Loss, wantLoss, r.Eigenvalues)
	}
}

func TestBenchJSON(t *testing.T) {
	code, out, errOut := runCLI(t, "bench", "--json", "--runs", "1", "--net", "demo")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"net", "P", "batch", "grad_ms", "hvp_ms", "ggn_ms", "lanczos_ms", "lanczos_hvps", "hvp_over_grad"} {
		if _, ok := r[k]; !ok {
			t.Errorf("bench JSON lacks %q", k)
		}
	}
	if r["P"] != 778.0 || r["batch"] != 1000.0 {
		t.Errorf("demo net: P %v batch %v", r["P"], r["batch"])
	}
}

// --cpuprofile writes a profile `go tool pprof` reads (a gzip-compressed protocol buffer:
// the gzip magic, and a sample of the demo net's measurements in it); a path that cannot be
// created is an error naming the flag, before anything is measured.
func TestBenchCPUProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bench.prof")
	code, _, errOut := runCLI(t, "bench", "--json", "--runs", "1", "--net", "demo", "--cpuprofile", path)
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) < 2 || raw[0] != 0x1f || raw[1] != 0x8b {
		t.Fatalf("the profile (%d bytes) is not gzip-compressed, as pprof writes it", len(raw))
	}
	code, _, errOut = runCLI(t, "bench", "--runs", "1", "--net", "demo", "--cpuprofile", filepath.Join(t.TempDir(), "no", "such", "dir", "p"))
	if code == 0 || !strings.Contains(errOut, "--cpuprofile") {
		t.Errorf("an impossible path: code %d, stderr %q", code, errOut)
	}
	// A profile that cannot start (another one runs: go test -cpuprofile, or here the test's
	// own) is an error, and leaves no empty file behind.
	// (Under go test -cpuprofile the test binary's profile is the one running.)
	ours := pprof.StartCPUProfile(io.Discard) == nil
	path = filepath.Join(t.TempDir(), "busy.prof")
	code, _, errOut = runCLI(t, "bench", "--runs", "1", "--net", "demo", "--cpuprofile", path)
	if ours {
		pprof.StopCPUProfile()
	}
	if _, err := os.Stat(path); code == 0 || !strings.Contains(errOut, "--cpuprofile") || !os.IsNotExist(err) {
		t.Errorf("a profile already running: code %d, stderr %q, the file: %v", code, errOut, err)
	}
}

func TestRunCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	code, _, errOut := runCLI(t, "run", "--n", "200", "--hessian-set", "64", "--k", "3", "--steps", "6", "--out", out, "--quiet",
		"--switch-at", "3", "--to", "alpha=0.75")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	raw, err := os.ReadFile(filepath.Join(out, "metrics.jsonl"))
	if err != nil || strings.Count(string(raw), "\n") != 6 {
		t.Fatalf("metrics: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	var last map[string]any
	json.Unmarshal([]byte(lines[5]), &last)
	if last["w_dom"] != 0.5 || last["w_bulk"] != 1.0 || last["k"] != 3.0 {
		t.Errorf("after the switch: %v %v k %v", last["w_dom"], last["w_bulk"], last["k"])
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--steps", "5"}, "--out DIR is required"},
		{[]string{"run", "--out", out + "2", "--preset", "nope"}, "allowed: demo"},
		{[]string{"run", "--out", out + "2", "--lr", "-1"}, "lr: -1"},
		{[]string{"run", "--out", out + "2", "--to", "bulk"}, "go together"},
		{[]string{"run", "--out", out + "2", "--switch-at", "2", "--to", "up", "--steps", "5"}, "want bulk, dom, sgd or alpha=A"},
		{[]string{"run", "--out", out, "--steps", "2"}, "already holds a run"},
	} {
		code, _, errOut := runCLI(t, tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: code %d stderr %q, want %q", tc.args, code, errOut, tc.want)
		}
	}
}

// TestMain lets the test binary act as the sharpflat command, so a test can run it as a
// child process and signal it.
func TestMain(m *testing.M) {
	if os.Getenv("SHARPFLAT_AS_CLI") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// SIGTERM during `run` stops after the step in progress and leaves complete files.
func TestRunSIGTERMKeepsEverything(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	cmd, stderr := child(t, "run", "--steps", "100000", "--out", out)
	done := make(chan struct{})
	var err error
	go func() { err = cmd.Wait(); close(done) }()
	// Wait until some steps are on disk (metrics are flushed every second): the event, with
	// only a hang guard.
	waitLines(t, filepath.Join(out, "metrics.jsonl"), 3, done)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-done
	if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(stderr.String(), "interrupted after step") {
		t.Fatalf("exit %d (%v), stderr %q", code, err, stderr.String())
	}
	raw, err := os.ReadFile(filepath.Join(out, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil || m["step"] != float64(i+1) {
			t.Fatalf("line %d: %v %v", i+1, err, m["step"])
		}
	}
	_, _, err = nn.LoadMLP(filepath.Join(out, "weights.safetensors"), nn.Tanh, nn.CrossEntropy)
	if err != nil {
		t.Fatal(err)
	}
	var last map[string]any
	json.Unmarshal([]byte(lines[len(lines)-1]), &last)
	if !strings.Contains(stderr.String(), fmt.Sprintf("interrupted after step %v", last["step"])) {
		t.Errorf("stderr %q does not name the last step %v", stderr.String(), last["step"])
	}
}
