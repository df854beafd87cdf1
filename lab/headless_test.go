package lab

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sharpflat/lab/train"
	"sharpflat/nn"
)

func readJSONL(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: invalid JSON line %q: %v", path, sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func TestHeadlessRunDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	err := Headless(context.Background(), small(), HeadlessOptions{Steps: 20, Out: dir, SwitchAt: 10, SwitchWDom: 0, SwitchWBulk: 1})
	if err != nil {
		t.Fatal(err)
	}
	lines := readJSONL(t, filepath.Join(dir, "metrics.jsonl"))
	if len(lines) != 20 {
		t.Fatalf("%d metrics lines, want 20", len(lines))
	}
	for _, key := range []string{"step", "loss", "train_loss", "test_loss", "test_acc", "sharpness",
		"stability_threshold", "chi_grad", "chi_full_grad", "alpha", "w_dom", "w_bulk", "lr", "k", "refreshed"} {
		if _, ok := lines[0][key]; !ok {
			t.Errorf("metrics.jsonl lacks key %q", key)
		}
	}
	if lines[1]["test_loss"] != nil {
		t.Errorf("test_loss on a non-eval step should be null, got %v", lines[1]["test_loss"])
	}
	if lines[9]["w_bulk"] != 1.0 || lines[9]["w_dom"] != 1.0 || lines[10]["w_dom"] != 0.0 || lines[10]["alpha"] != 1.0 {
		t.Errorf("switch at 10: step 10 %v/%v, step 11 %v/%v", lines[9]["w_dom"], lines[9]["w_bulk"], lines[10]["w_dom"], lines[10]["w_bulk"])
	}
	csv, err := os.ReadFile(filepath.Join(dir, "metrics.csv"))
	if err != nil || strings.Count(string(csv), "\n") != 21 {
		t.Errorf("metrics.csv: %v, %d lines", err, strings.Count(string(csv), "\n"))
	}
	if evs := readJSONL(t, filepath.Join(dir, "events.jsonl")); len(evs) == 0 {
		t.Error("no events")
	}
	var cfg train.Config
	raw, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	if err := json.Unmarshal(raw, &cfg); err != nil || cfg.N != small().N {
		t.Errorf("config.json: %v %+v", err, cfg)
	}
	m, _, err := nn.LoadMLP(filepath.Join(dir, "weights.safetensors"), nn.Tanh, nn.CrossEntropy)
	if err != nil || m.String() != "20-16-16-10 tanh" {
		t.Errorf("weights: %v %v", err, m)
	}
	if err := Headless(context.Background(), small(), HeadlessOptions{Steps: 5, Out: dir}); err == nil {
		t.Error("a second run into the same directory should be refused")
	}
}

// An interrupted run keeps everything up to the last completed step.
func TestHeadlessInterrupted(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithCancel(context.Background())
	steps := 0
	err := Headless(ctx, small(), HeadlessOptions{Steps: 1000, Out: dir, Progress: func(p Progress) {
		steps = p.Step
		if p.Step == 7 {
			cancel()
		}
	}})
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err %v, want ErrInterrupted", err)
	}
	lines := readJSONL(t, filepath.Join(dir, "metrics.jsonl"))
	if len(lines) != 7 || steps != 7 {
		t.Fatalf("%d lines, progress at %d; want 7", len(lines), steps)
	}
	_, th, err := nn.LoadMLP(filepath.Join(dir, "weights.safetensors"), nn.Tanh, nn.CrossEntropy)
	if err != nil || len(th) != 778 {
		t.Fatalf("weights after interrupt: %v", err)
	}
}

func TestSpooledSaveRun(t *testing.T) {
	e, err := NewSpooled(small(), Options{MaxSteps: 12, StartPaused: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.RemoveSpool()
	sub := e.Subscribe()
	done := make(chan error)
	go func() { done <- e.Run(context.Background()) }()
	e.StepN(6)
	await(t, sub, "6 steps", func(s Snapshot) bool { return s.Step == 6 && s.Run == Paused })
	dir := filepath.Join(t.TempDir(), "saved")
	if err := e.SaveRun(dir); err != nil {
		t.Fatal(err)
	}
	if err := e.SaveRun(dir); err == nil || !strings.Contains(err.Error(), "already holds a run") {
		t.Errorf("saving twice into one directory: %v, want a refusal", err)
	}
	e.Resume()
	<-done
	lines := readJSONL(t, filepath.Join(dir, "metrics.jsonl"))
	if len(lines) != 6 {
		t.Fatalf("%d lines saved, want the 6 steps done", len(lines))
	}
	if _, _, err := nn.LoadMLP(filepath.Join(dir, "weights.safetensors"), nn.Tanh, nn.CrossEntropy); err != nil {
		t.Fatal(err)
	}
}

// A run stopped before its first step (here: already cancelled) leaves no directory behind,
// so the same command can simply be run again; before, it left config.json, empty metrics
// and θ₀, and the re-run was refused as "already holds a run".
func TestHeadlessStoppedBeforeFirstStepLeavesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Headless(ctx, small(), HeadlessOptions{Steps: 10, Out: dir}); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("err %v, want ErrInterrupted", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the stopped run left %s (%v)", dir, err)
	}
	if err := Headless(context.Background(), small(), HeadlessOptions{Steps: 3, Out: dir}); err != nil {
		t.Fatalf("the same run again: %v", err)
	}
}
