package rundir

import (
	"maps"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sharpflat/lab/train"
)

// steppedAt writes a run of cfg to dir, an event at each step and a resume checkpoint after
// 3 steps, then 2 more steps flushed after it; each step's wall clock is set to wall+step
// seconds (NaN: left as measured), so that two runs of one configuration write metrics of
// the same steps that differ, as two real runs' do (their wall_sec fields), by a chosen
// amount rather than by the machine's speed.
func steppedAt(t *testing.T, dir string, cfg train.Config, wall float64) {
	t.Helper()
	tr, err := train.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w, err := Create(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		m, err := tr.Step()
		if err != nil {
			t.Fatal(err)
		}
		if !math.IsNaN(wall) { // NaN: the clock's own
			m.WallSec = wall + float64(i)
		}
		if err := w.Record(&m); err != nil {
			t.Fatal(err)
		}
		if err := w.Event(train.Event{Step: m.Step, Text: "step recorded"}); err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			if err := w.Checkpoint(tr.Save("resume"), nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	w.closeFiles()
	w.claim.Release()
}

// A resume.bin copied from another run of the same configuration passes the fingerprint
// check, and the other run's files were at least as long: it used to be accepted, and cut
// metrics.jsonl at the other run's offset, in the middle of a line (the wall-clock fields
// make the lengths differ). The checkpoint records the SHA-256 of each file's prefix, so
// it is refused, naming the file, and nothing changes on disk.
func TestResumeRefusesTheCheckpointOfAnotherRunOfTheSameConfiguration(t *testing.T) {
	cfg := smallConfig(t)
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	steppedAt(t, a, cfg, 1.5)     // wall_sec 1.5, 2.5, …
	steppedAt(t, b, cfg, 10.0625) // wall_sec 10.0625, 11.0625, …: longer lines
	foreign, err := os.ReadFile(filepath.Join(a, resumeFile))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(b, resumeFile), foreign, 0o644)
	before := dirHashes(t, b)
	w, _, err := Resume(b, nil)
	if err == nil {
		w.Flush() // what the run would do next: cut the files back
		w.Abandon()
		if ms, rerr := ReadMetrics(b); rerr != nil {
			t.Logf("after the accepted resume: %v", rerr)
		} else {
			t.Logf("after the accepted resume: %d steps", len(ms))
		}
		t.Fatal("another run's checkpoint was accepted")
	}
	if want := "metrics.jsonl does not match the checkpoint: the checkpoint belongs to another run"; !strings.Contains(err.Error(), want) {
		t.Errorf("refusal %q does not say %q", err, want)
	}
	if after := dirHashes(t, b); !maps.Equal(before, after) {
		t.Error("the refused resume changed the run directory")
	}
	// The run's own checkpoint is still accepted.
	own := filepath.Join(t.TempDir(), "own")
	steppedAt(t, own, cfg, 1.5)
	if w, _, err := Resume(own, nil); err != nil {
		t.Errorf("the run's own checkpoint: %v", err)
	} else {
		w.Abandon()
	}
}

// Each file resume cuts back is checked, not only metrics.jsonl: a metrics.csv or an
// events.jsonl changed before the checkpoint (same length, other bytes) is refused by name.
func TestResumeChecksEveryFileItCuts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	steppedAt(t, dir, smallConfig(t), 1.5)
	h, _, err := readResume(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{csvName, eventsName} {
		path := filepath.Join(dir, name)
		orig, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if h.Sizes[name] == 0 {
			t.Fatalf("%s is empty at the checkpoint: nothing to change before it", name)
		}
		edited := []byte(string(orig))
		edited[0] ^= 1 // one byte of the checkpoint's prefix, length unchanged
		os.WriteFile(path, edited, 0o644)
		before := dirHashes(t, dir)
		if w, _, err := Resume(dir, nil); err == nil {
			w.Abandon()
			t.Errorf("%s changed before the checkpoint: accepted", name)
		} else if !strings.Contains(err.Error(), name+" does not match the checkpoint") {
			t.Errorf("%s changed: %v", name, err)
		}
		if after := dirHashes(t, dir); !maps.Equal(before, after) {
			t.Errorf("%s: the refused resume changed the run directory", name)
		}
		os.WriteFile(path, orig, 0o644)
	}
}

// A resumed run keeps a running hash of each file from its prefix: its own checkpoints, and
// those of a run resumed twice, are accepted, and the steps read back whole.
func TestResumeOfAResumedRun(t *testing.T) {
	cfg := smallConfig(t)
	dir := filepath.Join(t.TempDir(), "run")
	stepped(t, dir, cfg)
	for round := range 2 {
		w, cp, err := Resume(dir, nil)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		tr, err := train.Restore(cp)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			m, err := tr.Step()
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Record(&m); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Checkpoint(tr.Save("resume"), nil); err != nil {
			t.Fatal(err)
		}
		if err := w.CloseWith(nil, nil, 0, nil, nil); err != nil {
			t.Fatal(err)
		}
		want := 3 + 2*(round+1)
		if ms, err := ReadMetrics(dir); err != nil || len(ms) != want {
			t.Fatalf("round %d: %d steps (%v), want %d", round, len(ms), err, want)
		}
	}
	if w, cp, err := Resume(dir, nil); err != nil || cp.Step != 7 {
		t.Fatalf("after two resumes: %v", err)
	} else {
		w.Abandon()
	}
}
