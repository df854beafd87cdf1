package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sharpflat/lab/train"
	"sharpflat/nn"
)

// child starts the test binary as the sharpflat command.
func child(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "SHARPFLAT_AS_CLI=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stderr
}

// waitLines waits until path holds at least n lines or the process has exited; it polls the
// file (the event), with only a hang guard for a time limit.
func waitLines(t *testing.T, path string, n int, done <-chan struct{}) {
	t.Helper()
	guard := time.After(5 * time.Minute)
	for {
		raw, _ := os.ReadFile(path)
		if bytes.Count(raw, []byte{'\n'}) >= n {
			return
		}
		select {
		case <-done:
			return
		case <-guard:
			t.Fatalf("%s never reached %d lines", path, n)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// Two runs started on the same directory at once: exactly one writes it (and exits 0), the
// other fails saying why, and the run directory is the winner's, whole. The recipe
// failed 5 times in 12 before the directory was claimed.
func TestConcurrentRunsToOneDirectory(t *testing.T) {
	for try := range 4 {
		out := filepath.Join(t.TempDir(), "R")
		a, ea := child(t, "run", "--quiet", "--steps", "30", "--refresh", "0", "--out", out)
		b, eb := child(t, "run", "--quiet", "--steps", "30", "--refresh", "0", "--seed", "2", "--lr", "0.05", "--out", out)
		a.Wait()
		b.Wait()
		codes := []int{a.ProcessState.ExitCode(), b.ProcessState.ExitCode()}
		msgs := ea.String() + eb.String()
		if codes[0]+codes[1] != 1 || codes[0]*codes[1] != 0 {
			t.Fatalf("try %d: exit codes %v, want one 0 and one 1; stderr %q", try, codes, msgs)
		}
		if !strings.Contains(msgs, "in use by another sharpflat process") && !strings.Contains(msgs, "already holds a run") {
			t.Errorf("try %d: the loser's message %q", try, msgs)
		}
		raw, _ := os.ReadFile(filepath.Join(out, "metrics.jsonl"))
		lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
		if len(lines) != 30 {
			t.Fatalf("try %d: metrics.jsonl has %d lines, want 30", try, len(lines))
		}
		lr := regexp.MustCompile(`"lr":([0-9.e-]+)`)
		first := lr.FindStringSubmatch(lines[0])
		for i, l := range lines {
			if !strings.HasPrefix(l, fmt.Sprintf(`{"step":%d,`, i+1)) || lr.FindStringSubmatch(l)[1] != first[1] {
				t.Fatalf("try %d: line %d is not the winner's step %d: %.80s", try, i+1, i+1, l)
			}
		}
	}
}

// A run that fails at its start or is stopped before its first step leaves nothing behind,
// so the corrected command can be run again as it was.
func TestFailedStartLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("x0,label\n1,0\noops,1\n"), 0o644)
	out := filepath.Join(dir, "out")
	if code, _, errOut := runCLI(t, "run", "--quiet", "--data", bad, "--steps", "3", "--out", out); code == 0 || !strings.Contains(errOut, "bad.csv:3") {
		t.Fatalf("bad CSV: code %d, %q", code, errOut)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("a failed start left %s behind (%v)", out, err)
	}
	os.WriteFile(bad, []byte("x0,label\n1,0\n2,1\n3,0\n4,1\n5,0\n"), 0o644)
	if code, _, errOut := runCLI(t, "run", "--quiet", "--data", bad, "--hidden", "3", "--k", "2", "--batch", "0", "--steps", "3", "--out", out); code != 0 {
		t.Fatalf("the corrected run: code %d, %q", code, errOut)
	}
}

// noClock removes the wall-clock fields from a metrics.jsonl line.
var noClock = regexp.MustCompile(`,"(steps_per_sec|wall_sec|refresh_ms)":[^,}]*`)

func metricsWithoutClock(t *testing.T, dir string) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
	for i := range lines {
		lines[i] = noClock.ReplaceAllString(lines[i], "")
	}
	return lines
}

// sameRun checks that two run directories hold the same metrics (the clock fields aside),
// bit for bit, and the same weights, byte for byte.
func sameRun(t *testing.T, label, want, got string) {
	t.Helper()
	a, b := metricsWithoutClock(t, want), metricsWithoutClock(t, got)
	if len(a) != len(b) {
		t.Fatalf("%s: %d steps, the uninterrupted run %d", label, len(b), len(a))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("%s: step %d differs:\n%s\n%s", label, i+1, a[i], b[i])
		}
	}
	csvA, _ := os.ReadFile(filepath.Join(want, "metrics.csv"))
	csvB, _ := os.ReadFile(filepath.Join(got, "metrics.csv"))
	if bytes.Count(csvA, []byte{'\n'}) != bytes.Count(csvB, []byte{'\n'}) {
		t.Errorf("%s: metrics.csv has %d lines, the uninterrupted run's %d", label, bytes.Count(csvB, []byte{'\n'}), bytes.Count(csvA, []byte{'\n'}))
	}
	wa, _ := os.ReadFile(filepath.Join(want, "weights.safetensors"))
	wb, err := os.ReadFile(filepath.Join(got, "weights.safetensors"))
	if err != nil || !bytes.Equal(wa, wb) {
		t.Errorf("%s: weights differ from the uninterrupted run's (%v)", label, err)
	}
}

// A run killed with SIGKILL (nothing flushed, nothing cleaned up), or stopped by SIGTERM,
// at several points, then continued with --resume, writes the metrics and weights of the
// same run uninterrupted, bit for bit.
func TestResumeAfterKillIsBitIdentical(t *testing.T) {
	args := []string{"run", "--quiet", "--n", "300", "--hessian-set", "64", "--k", "3", "--steps", "60", "--refresh", "3", "--eval-every", "5", "--checkpoint-every", "7"}
	ref := filepath.Join(t.TempDir(), "ref")
	if code, _, errOut := runCLI(t, append(args, "--out", ref)...); code != 0 {
		t.Fatalf("uninterrupted run: %d %s", code, errOut)
	}
	for _, tc := range []struct {
		sig   syscall.Signal
		after int // lines of metrics.jsonl on disk before the signal
	}{{syscall.SIGKILL, 1}, {syscall.SIGKILL, 15}, {syscall.SIGKILL, 40}, {syscall.SIGTERM, 25}} {
		label := fmt.Sprintf("%v after %d lines", tc.sig, tc.after)
		out := filepath.Join(t.TempDir(), "run")
		cmd, stderr := child(t, append(args, "--out", out)...)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		waitLines(t, filepath.Join(out, "metrics.jsonl"), tc.after, done)
		cmd.Process.Signal(tc.sig)
		<-done
		t.Logf("%s: stopped with %d lines on disk (%s)", label, len(metricsWithoutClock(t, out)), strings.TrimSpace(stderr.String()))
		if code, _, errOut := runCLI(t, "run", "--quiet", "--resume", out); code != 0 {
			t.Fatalf("%s: resume: code %d, %s", label, code, errOut)
		}
		sameRun(t, label, ref, out)
	}
}

// --steps 0 writes θ₀ and stops; --init-weights starts from a file (here θ₀ itself, so the
// run is the seeded one) and refuses a file of another architecture; --resume extends a
// finished run.
func TestStepsZeroInitWeightsAndExtend(t *testing.T) {
	dir := t.TempDir()
	zero := filepath.Join(dir, "zero")
	small := []string{"--n", "300", "--hessian-set", "64", "--k", "3"}
	runCLI := func(t *testing.T, args ...string) (int, string, string) {
		if len(args) > 0 && args[0] == "run" && !slices.Contains(args, "--resume") {
			args = append(args, small...)
		}
		return runCLI(t, args...)
	}
	if code, _, errOut := runCLI(t, "run", "--quiet", "--steps", "0", "--out", zero); code != 0 {
		t.Fatalf("--steps 0: %d %s", code, errOut)
	}
	_, th0, err := nn.LoadMLP(filepath.Join(zero, "weights.safetensors"), nn.Tanh, nn.CrossEntropy)
	if err != nil || len(th0) != 778 {
		t.Fatalf("θ₀: %v", err)
	}
	seeded := filepath.Join(dir, "seeded")
	from := filepath.Join(dir, "from")
	runCLI(t, "run", "--quiet", "--steps", "20", "--out", seeded)
	if code, _, errOut := runCLI(t, "run", "--quiet", "--steps", "20", "--init-weights", filepath.Join(zero, "weights.safetensors"), "--out", from); code != 0 {
		t.Fatalf("--init-weights: %d %s", code, errOut)
	}
	sameRun(t, "--init-weights θ₀", seeded, from)
	code, _, errOut := runCLI(t, "run", "--quiet", "--steps", "20", "--hidden", "8", "--init-weights", filepath.Join(zero, "weights.safetensors"), "--out", filepath.Join(dir, "x"))
	if code == 0 || !strings.Contains(errOut, "holds a 20-16-16-10 tanh network; the configuration builds 20-8-10 tanh") {
		t.Errorf("wrong architecture: %d %q", code, errOut)
	}
	// Extending: 0 steps, then to 20 by --resume, is the 20-step run.
	if code, _, errOut := runCLI(t, "run", "--quiet", "--resume", zero, "--steps", "20"); code != 0 {
		t.Fatalf("--resume --steps 20: %d %s", code, errOut)
	}
	sameRun(t, "0 then resumed to 20", seeded, zero)
	if code, _, errOut := runCLI(t, "run", "--quiet", "--resume", zero); code != 0 || !strings.Contains(errOut, "complete at step 20") {
		t.Errorf("resume of a complete run: %d %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, "run", "--resume", zero, "--lr", "0.1"); code != 2 || !strings.Contains(errOut, "--lr cannot go with it") {
		t.Errorf("resume with a setting: %d %q", code, errOut)
	}
}

// Sizes that cannot work are refused before anything is allocated, with what was wrong:
// no "fatal error: out of memory" and no stack dump.
func TestAbsurdSizesAreRefused(t *testing.T) {
	out := filepath.Join(t.TempDir(), "r")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--hidden", "100000-100000"}, "this configuration needs about"},
		{[]string{"--n", "2000000000"}, "data gaussian needs about"},
		{[]string{"--k", "800"}, "k: 800, but the network has 778 parameters"},
		{[]string{"--batch", "5000"}, "batch: 5000, but the training set has 1000 examples"},
		{[]string{"--hessian-set", "5000"}, "hessian-set: 5000, but the training set has 1000 examples"},
		{[]string{"--hutch-samples", "1000000000"}, "hutch_samples: 1000000000, want 2…10000"},
		{[]string{"--hidden", "300-300", "--max-memory", "10M"}, "the memory limit is 10.5 MB: use fewer or narrower layers, less data or a smaller k (--max-memory sets the memory limit)"},
		// A limit above the machine's memory is capped at it (where /proc/meminfo tells it):
		// this one used to die with "fatal error: runtime: out of memory" and a stack dump.
		{[]string{"--hidden", "100000-100000", "--max-memory", "100T"}, "the memory limit is the physical memory"},
	} {
		if _, err := os.Stat("/proc/meminfo"); err != nil && slices.Contains(tc.args, "100T") {
			continue
		}
		code, _, errOut := runCLI(t, append([]string{"run", "--quiet", "--steps", "2", "--out", out}, tc.args...)...)
		if code == 0 || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "goroutine") {
			t.Errorf("%v: code %d, stderr %q, want %q", tc.args, code, errOut, tc.want)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%v: left %s behind", tc.args, out)
		}
	}
	train.SetMemoryLimit(0)
}

// NaN weights are named as such, with the tensor and the element; inputs that overflow the
// forward pass are named too, not reported as "operator produced a non-finite value".
func TestNonFiniteWeightsAndInputsAreNamed(t *testing.T) {
	csvPath, _, m, th, data := fixture(t)
	w, b := m.Layer(th, 1)
	_ = b
	w[4] = nanValue()
	bad := filepath.Join(t.TempDir(), "nan.safetensors")
	if err := nn.SaveMLP(bad, m, th, nil); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "hessian", "--data", csvPath, "--weights", bad, "--k", "3")
	if code == 0 || !strings.Contains(errOut, "weights hold NaN in layers.1.weight (element [0, 4])") {
		t.Errorf("NaN weights: %d %q", code, errOut)
	}
	_, good, _, _, _ := fixture(t)
	code, _, errOut = runCLI(t, "hessian", "--data", csvPath, "--weights", good, "--hessian-set", "61")
	if code != 2 || !strings.Contains(errOut, "--hessian-set 61, but "+csvPath+" has 60 examples") {
		t.Errorf("--hessian-set above N: %d %q", code, errOut)
	}
	huge := data
	huge.X = append([]float64(nil), data.X...)
	huge.X[7] = 1e300
	hp := filepath.Join(t.TempDir(), "huge.csv")
	f, _ := os.Create(hp)
	nn.WriteCSV(f, huge)
	f.Close()
	code, _, errOut = runCLI(t, "hessian", "--data", hp, "--weights", good, "--k", "3", "--act", "relu", "--loss", "mse")
	if code == 0 || !strings.Contains(errOut, "the inputs overflow (example 2, feature x3 is 1e+300)") {
		t.Errorf("overflowing inputs: %d %q", code, errOut)
	}
}

func nanValue() float64 { z := 0.0; return z / z }

// data export writes the data a run uses: read back, it is the run's training and test
// sets, number for number.
func TestDataExport(t *testing.T) {
	out := filepath.Join(t.TempDir(), "data")
	code, stdout, errOut := runCLI(t, "data", "export", "--preset", "moons", "--seed", "3", "--out", out)
	if code != 0 || !strings.Contains(stdout, "train.csv  1000 examples × 2 features") {
		t.Fatalf("export: %d %q %q", code, stdout, errOut)
	}
	cfg, _ := train.Preset("moons")
	cfg.Seed = 3
	tr, te, hs, err := train.RunData(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]nn.Dataset{"train.csv": tr, "test.csv": te, "hessian_set.csv": hs} {
		got, err := nn.LoadCSV(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		if got.N != want.N || !slices.Equal(got.X, want.X) || !slices.Equal(got.Labels, want.Labels) {
			t.Errorf("%s differs from the run's data", name)
		}
	}
	if code, _, errOut := runCLI(t, "data", "export", "--preset", "moons", "--out", out); code == 0 || !strings.Contains(errOut, "not empty") {
		t.Errorf("export over a directory of files: %d %q", code, errOut)
	}
}

// hashDir maps every file of dir to its SHA-256: the run directory as it is on disk.
func hashDir(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	h := map[string][32]byte{}
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		h[e.Name()] = sha256.Sum256(raw)
	}
	return h
}

// A resume checkpoint is checked before anything is trusted: a resume.bin of another
// configuration (a moons run's, copied into a demo run), or of another run of the same
// configuration, one with a flipped bit, and a
// config.json that does not parse or no longer matches are refused, naming what is wrong,
// and the run directory is left exactly as it was (every file hashed before and after).
// Each used to be accepted: the moons checkpoint cut metrics.jsonl at its own offset and
// turned the network into a 2-input one; the flipped bit changed the trajectory.
func TestResumeRefusesForeignDamagedOrEditedCheckpoint(t *testing.T) {
	small := []string{"run", "--quiet", "--n", "300", "--hessian-set", "64", "--k", "3", "--refresh", "3", "--eval-every", "5"}
	dir := t.TempDir()
	demo, moons, twin := filepath.Join(dir, "demo"), filepath.Join(dir, "moons"), filepath.Join(dir, "twin")
	if code, _, errOut := runCLI(t, append(small, "--steps", "30", "--out", demo)...); code != 0 {
		t.Fatalf("demo run: %d %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, append(small, "--steps", "20", "--out", twin)...); code != 0 {
		t.Fatalf("twin run: %d %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, append(small, "--preset", "moons", "--steps", "20", "--out", moons)...); code != 0 {
		t.Fatalf("moons run: %d %s", code, errOut)
	}
	own, _ := os.ReadFile(filepath.Join(demo, "resume.bin"))
	config, _ := os.ReadFile(filepath.Join(demo, "config.json"))
	foreign, _ := os.ReadFile(filepath.Join(moons, "resume.bin"))
	twinResume, _ := os.ReadFile(filepath.Join(twin, "resume.bin"))
	flipped := func(at int) []byte {
		b := slices.Clone(own)
		b[at] ^= 1 << 3
		return b
	}
	var cfg map[string]any
	if err := json.Unmarshal(config, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["hidden"] = []int{100000, 100000}
	wide, _ := json.Marshal(cfg)

	for _, tc := range []struct {
		label          string
		resume, config []byte
		want           []string
	}{
		{"the moons run's resume.bin", foreign, config, []string{"config.json does not match", "data moons", "data gaussian"}},
		// Same configuration, so the fingerprint matches; the other run's wall-clock fields
		// differ, so its metrics.jsonl does not (it used to be accepted and cut mid-line).
		{"the resume.bin of a run of the same configuration", twinResume, config, []string{"metrics.jsonl does not match the checkpoint: the checkpoint belongs to another run"}},
		{"a bit flipped in the header", flipped(30), config, []string{"resume.bin is damaged"}},
		{"a bit flipped in the middle", flipped(min(50000, len(own)/2)), config, []string{"resume.bin is damaged"}},
		{"a bit flipped in the checksum", flipped(len(own) - 1), config, []string{"resume.bin is damaged"}},
		{"config.json that does not parse", own, []byte("{not json"), []string{"config.json", "invalid character"}},
		{"config.json with another network", own, wide, []string{"config.json does not match", "hidden 100000-100000", "hidden 16-16"}},
	} {
		os.WriteFile(filepath.Join(demo, "resume.bin"), tc.resume, 0o644)
		os.WriteFile(filepath.Join(demo, "config.json"), tc.config, 0o644)
		before := hashDir(t, demo)
		code, _, errOut := runCLI(t, "run", "--quiet", "--resume", demo, "--steps", "40")
		if code == 0 {
			t.Errorf("%s: accepted", tc.label)
		}
		for _, w := range tc.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%s: stderr %q does not say %q", tc.label, errOut, w)
			}
		}
		if after := hashDir(t, demo); !maps.Equal(before, after) {
			t.Errorf("%s: the refused resume changed the run directory", tc.label)
		}
	}
	os.WriteFile(filepath.Join(demo, "resume.bin"), own, 0o644)
	os.WriteFile(filepath.Join(demo, "config.json"), config, 0o644)
	if code, _, errOut := runCLI(t, "run", "--quiet", "--resume", demo, "--steps", "40"); code != 0 {
		t.Fatalf("the run's own checkpoint, restored: %d %s", code, errOut)
	}
}

// The first Ctrl-C or SIGTERM asks the run to stop after the step in progress (the context
// ends); a second one stops the process at once (the exit hook is called with 1), saying
// where the run can be continued. The signals go to this process, caught by the handler;
// each wait is on the event, under a hang guard.
func TestSecondSignalStopsAtOnce(t *testing.T) {
	var stderr syncBuffer
	exited := make(chan int, 1)
	ctx, stop := stopContext(&stderr, "R/x", func(code int) { exited <- code })
	defer stop()
	guard := time.After(5 * time.Minute)
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case <-ctx.Done():
	case <-guard:
		t.Fatal("the first SIGTERM did not end the context")
	}
	select {
	case code := <-exited:
		t.Fatalf("exit(%d) after one signal", code)
	default:
	}
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	select {
	case code := <-exited:
		if code != 1 {
			t.Errorf("exit(%d), want 1", code)
		}
	case <-guard:
		t.Fatal("the second signal did not stop the process")
	}
	for _, want := range []string{"stopping after the step in progress", "stopped at once; R/x keeps the steps up to its last resume checkpoint (continue with --resume R/x)"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr %q does not say %q", stderr.String(), want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader on two goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// train's refusal over the memory limit says "the memory limit" (lab and classroom users
// have no flag); the commands that parse --max-memory add its name, on every path that
// reaches the check: a new run, a resumed one, and hessian. 10 MiB = 10485760 B is
// "10.5 MB"; 64 KiB = 65536 B is "65.5 kB".
func TestMemoryRefusalNamesTheFlag(t *testing.T) {
	defer train.SetMemoryLimit(0)
	const flagged = "(--max-memory sets the memory limit)"
	dir := t.TempDir()
	code, _, errOut := runCLI(t, "run", "--quiet", "--steps", "2", "--hidden", "300-300", "--max-memory", "10M", "--out", filepath.Join(dir, "new"))
	if code == 0 || !strings.Contains(errOut, "the memory limit is 10.5 MB") || !strings.Contains(errOut, flagged) {
		t.Errorf("new run: %d %q", code, errOut)
	}
	train.SetMemoryLimit(0)
	small := filepath.Join(dir, "small")
	if code, _, errOut := runCLI(t, "run", "--quiet", "--n", "300", "--hessian-set", "64", "--k", "3", "--steps", "3", "--out", small); code != 0 {
		t.Fatalf("small run: %d %s", code, errOut)
	}
	code, _, errOut = runCLI(t, "run", "--quiet", "--resume", small, "--steps", "6", "--max-memory", "64K")
	if code == 0 || !strings.Contains(errOut, "the memory limit is 65.5 kB") || !strings.Contains(errOut, flagged) {
		t.Errorf("resumed run: %d %q", code, errOut)
	}
	code, _, errOut = runCLI(t, "hessian", "--run", small, "--k", "3", "--max-memory", "64K")
	if code == 0 || !strings.Contains(errOut, "the memory limit is 65.5 kB") || !strings.Contains(errOut, flagged) {
		t.Errorf("hessian: %d %q", code, errOut)
	}
}

// --update names the rule of the run: the blends' weights reach config.json (found by review:
// parsing rewrote the scratch field to the weights and left update empty, and the preset was
// then given "", so --update bulk trained SGD without a word), and dom-damped stays a rule.
func TestUpdateFlagReachesTheRun(t *testing.T) {
	for _, c := range []struct {
		update      string
		wDom, wBulk float64
		keep        string
	}{{"bulk", 0, 1, ""}, {"dom", 1, 0, ""}, {"alpha=0.25", 1, 0.5, ""}, {"w=0.5/1", 0.5, 1, ""}, {"dom-damped", 1, 1, "dom-damped"}} {
		out := filepath.Join(t.TempDir(), "r")
		if code, _, errOut := runCLI(t, "run", "--preset", "eos", "--update", c.update, "--steps", "0", "--out", out, "--quiet"); code != 0 {
			t.Fatalf("--update %s: %s", c.update, errOut)
		}
		cfg, err := train.LoadConfigFile(filepath.Join(out, "config.json"))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.WDom != c.wDom || cfg.WBulk != c.wBulk || string(cfg.Update) != c.keep {
			t.Errorf("--update %s: w_dom %v, w_bulk %v, update %q; want %v, %v, %q", c.update, cfg.WDom, cfg.WBulk, cfg.Update, c.wDom, c.wBulk, c.keep)
		}
	}
}
