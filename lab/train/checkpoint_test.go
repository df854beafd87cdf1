package train

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateCheckpoints = flag.Bool("update-checkpoints", false, "rewrite testdata/checkpoint-*.bin")

// The checkpoint files under testdata were written by the code before Why was a type (it was
// a string), with the Why of the files that keep checkpoints (a run directory's resume
// checkpoint, an experiment's warm-up): go test -run TestCheckpointFilesOfBefore
// -update-checkpoints ./lab/train/. Each reads back with its Why, and writes again to the
// same bytes: the format did not change.
func TestCheckpointFilesOfBefore(t *testing.T) {
	for _, why := range []Why{WhyResume, WhySwitch} {
		path := filepath.Join("testdata", "checkpoint-"+string(why)+".bin")
		if *updateCheckpoints {
			c := small()
			c.RefreshEvery = 3
			tr, _ := run(t, c, 4)
			var b bytes.Buffer
			if _, err := tr.Save(why).WriteTo(&b); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		old, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		cp, err := ReadCheckpoint(bytes.NewReader(old))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if cp.Why != why || cp.Step != 4 {
			t.Errorf("%s: Why %q at step %d, want %q at 4", path, cp.Why, cp.Step, why)
		}
		var again bytes.Buffer
		if _, err := cp.WriteTo(&again); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again.Bytes(), old) {
			t.Errorf("%s: written again, %d bytes differ from the %d of before", path, again.Len(), len(old))
		}
	}
}

// Each reason reads back from its text (as JSON would hold it); an unknown word is refused,
// by ParseWhy, UnmarshalText, MarshalText and a checkpoint file alike.
func TestWhyText(t *testing.T) {
	for _, w := range []Why{WhyStart, WhyAuto, WhyManual, WhyResume, WhySwitch, WhyLesson, WhyRace} {
		b, err := json.Marshal(struct{ Why Why }{w})
		if err != nil {
			t.Fatal(err)
		}
		if want := `{"Why":"` + string(w) + `"}`; string(b) != want {
			t.Errorf("%v as JSON: %s, want %s", w, b, want)
		}
		var back struct{ Why Why }
		if err := json.Unmarshal(b, &back); err != nil || back.Why != w {
			t.Errorf("%s read back as %q (%v)", b, back.Why, err)
		}
	}
	if _, err := ParseWhy("checkpoint"); err == nil || !strings.Contains(err.Error(), "allowed: start, auto, manual") {
		t.Errorf("ParseWhy of an unknown word: %v", err)
	}
	var w Why
	if err := w.UnmarshalText([]byte("Manual")); err == nil {
		t.Error("UnmarshalText took an unknown word")
	}
	if _, err := Why("nope").MarshalText(); err == nil {
		t.Error("MarshalText wrote an unknown reason")
	}
	cp := &Checkpoint{Why: "nope"}
	if _, err := cp.WriteTo(io.Discard); err == nil {
		t.Error("a checkpoint with an unknown reason was written")
	}
	// The words of the lab's messages, as they were.
	for w, want := range map[Why]string{WhyManual: "your checkpoint", WhyAuto: "the automatic checkpoint", WhyStart: "the start",
		"": "the checkpoint", WhySwitch: "the switch checkpoint"} {
		if got := w.Name(); got != want {
			t.Errorf("%q.Name() = %q, want %q", w, got, want)
		}
	}
}

// A checkpoint file whose reason is not one of ours is refused, with the word named.
func TestCheckpointFileUnknownWhy(t *testing.T) {
	old, err := os.ReadFile(filepath.Join("testdata", "checkpoint-resume.bin"))
	if err != nil {
		t.Fatal(err)
	}
	// The reason is gob's string "resume" (a length byte, then the word): make it "resumf".
	i := bytes.Index(old, []byte("\x06resume"))
	if i < 0 {
		t.Fatal("no reason in the file")
	}
	bad := bytes.Clone(old)
	bad[i+6] = 'f'
	if _, err := ReadCheckpoint(bytes.NewReader(bad)); err == nil || !strings.Contains(err.Error(), `"resumf"`) {
		t.Errorf("a file with the reason resumf: %v", err)
	}
}
