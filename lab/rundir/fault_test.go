package rundir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"sharpflat/lab/train"
)

func smallConfig(t *testing.T) train.Config {
	t.Helper()
	cfg, err := train.Preset("demo")
	if err != nil {
		t.Fatal(err)
	}
	cfg.N, cfg.K, cfg.RefreshEvery = 200, 3, 4
	return cfg
}

// Of runs that claim the same directory at once exactly one gets it; the others are told
// another process is writing it (or, once it is written, that it holds a run).
func TestClaimIsExclusive(t *testing.T) {
	for try := range 20 {
		dir := filepath.Join(t.TempDir(), fmt.Sprint("run", try))
		const n = 4
		var wg sync.WaitGroup
		claims := make([]*Claim, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				claims[i], errs[i] = ClaimNew(dir)
			}()
		}
		wg.Wait()
		won := 0
		for i := range n {
			if errs[i] == nil {
				won++
				continue
			}
			if !strings.Contains(errs[i].Error(), "in use by another sharpflat process") {
				t.Errorf("loser's error: %v", errs[i])
			}
		}
		if won != 1 {
			t.Fatalf("try %d: %d claims won, want 1", try, won)
		}
		for _, c := range claims {
			if c != nil {
				c.Release()
			}
		}
	}
}

// A directory with the user's own files is refused, the files named and left untouched; an
// empty one is taken.
func TestCreateRefusesForeignDirectory(t *testing.T) {
	dir := t.TempDir()
	mine := map[string]string{"weights.safetensors": "my weights", "config.json": `{"mine": true}`}
	for name, body := range mine {
		os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644)
	}
	_, err := Create(dir, smallConfig(t))
	if err == nil || !strings.Contains(err.Error(), "not a sharpflat run") || !strings.Contains(err.Error(), "config.json, weights.safetensors") {
		t.Fatalf("Create in a directory of other files: %v", err)
	}
	for name, body := range mine {
		if got, _ := os.ReadFile(filepath.Join(dir, name)); string(got) != body {
			t.Errorf("%s was changed to %q", name, got)
		}
	}
	empty := t.TempDir()
	w, err := Create(empty, smallConfig(t))
	if err != nil {
		t.Fatalf("Create in an empty directory: %v", err)
	}
	w.Abandon()
	if _, err := os.Stat(empty); err != nil {
		t.Errorf("Abandon removed a directory it did not make: %v", err)
	}
	if names, _ := entries(empty); len(names) != 0 {
		t.Errorf("Abandon left %v", names)
	}
}

// Abandon removes what Create made, the directory included, so the same command can be run
// again once it is fixed.
func TestAbandonLeavesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "run")
	w, err := Create(dir, smallConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	w.Abandon()
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after Abandon: %v", err)
	}
	w, err = Create(dir, smallConfig(t))
	if err != nil {
		t.Fatalf("Create again after Abandon: %v", err)
	}
	w.Abandon()
}

// A full disk mid-run: each write fails after writing part of its bytes (as write(2) does
// with ENOSPC). The files must still end on whole lines, hold the same steps, and the error
// must name the steps kept.
func TestFullDiskKeepsWholeSteps(t *testing.T) {
	cfg := smallConfig(t)
	tr, err := train.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	w, err := Create(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	budget := 0 // bytes the "disk" still takes; negative: unlimited
	writes := 0
	writeFile = func(f *os.File, b []byte) (int, error) {
		writes++
		if budget < 0 || len(b) <= budget {
			budget -= len(b)
			return f.Write(b)
		}
		n, _ := f.Write(b[:budget]) // half a line reaches the file
		budget = 0
		return n, syscall.ENOSPC
	}
	t.Cleanup(func() { writeFile = func(f *os.File, b []byte) (int, error) { return f.Write(b) } })

	budget = -1
	for range 5 {
		m, err := tr.Step()
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Record(&m); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	budget = 3000 // about two more steps of metrics.jsonl, and no room for the CSV too
	var recErr error
	for i := 0; i < 20 && recErr == nil; i++ {
		m, err := tr.Step()
		if err != nil {
			t.Fatal(err)
		}
		if recErr = w.Record(&m); recErr == nil {
			recErr = w.Flush()
		}
	}
	if recErr == nil || !errors.Is(recErr, syscall.ENOSPC) {
		t.Fatalf("no disk-full error: %v", recErr)
	}
	kept := w.Kept()
	if !strings.Contains(recErr.Error(), fmt.Sprintf("keeps steps 1–%d, complete", kept)) {
		t.Errorf("error %q does not name the %d steps kept", recErr, kept)
	}
	if err := w.Close(tr.Model(), tr.Theta(), tr.StepCount()); err == nil {
		t.Error("Close after a full disk reported success")
	}
	ms, err := ReadMetrics(dir)
	if err != nil {
		t.Fatalf("metrics after a full disk: %v", err)
	}
	csv, _ := os.ReadFile(filepath.Join(dir, "metrics.csv"))
	rows := strings.Count(string(csv), "\n") - 1
	if len(ms) != kept || rows != kept || kept < 5 {
		t.Errorf("kept %d steps; metrics.jsonl holds %d, metrics.csv %d rows", kept, len(ms), rows)
	}
	for _, name := range []string{"metrics.jsonl", "metrics.csv", "events.jsonl"} {
		raw, _ := os.ReadFile(filepath.Join(dir, name))
		if len(raw) > 0 && raw[len(raw)-1] != '\n' {
			t.Errorf("%s ends in a partial line", name)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "weights.safetensors")); err == nil {
		t.Error("weights written for steps the metrics do not hold")
	}
}

// A last line cut short (by a run killed while writing it) is left out and reported; a bad
// line in the middle is an error naming it.
func TestReadMetricsTruncatedTail(t *testing.T) {
	dir := t.TempDir()
	good := `{"step":1,"loss":0.5}` + "\n" + `{"step":2,"loss":0.4}` + "\n"
	os.WriteFile(filepath.Join(dir, "metrics.jsonl"), []byte(good+`{"step":3,"lo`), 0o644)
	ms, err := ReadMetrics(dir)
	var cut *TruncatedError
	if !errors.As(err, &cut) || cut.Line != 3 || cut.Kept != 2 || len(ms) != 2 || ms[1].Step != 2 {
		t.Fatalf("cut tail: %d metrics, err %v", len(ms), err)
	}
	os.WriteFile(filepath.Join(dir, "metrics.jsonl"), []byte(`{"step":1}`+"\n"+"garbage\n"+`{"step":3}`+"\n"), 0o644)
	if _, err := ReadMetrics(dir); err == nil || errors.As(err, &cut) || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad middle line: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "metrics.jsonl"), []byte(good), 0o644)
	if ms, err := ReadMetrics(dir); err != nil || len(ms) != 2 {
		t.Errorf("whole file: %d metrics, %v", len(ms), err)
	}
}
