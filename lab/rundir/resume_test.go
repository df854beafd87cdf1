package rundir

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"maps"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sharpflat/lab/train"
)

// stepped writes a run of cfg to dir: a resume checkpoint after 3 steps, then 2 more steps
// flushed after it (the lines a killed run leaves past its checkpoint).
func stepped(t *testing.T, dir string, cfg train.Config) { steppedAt(t, dir, cfg, math.NaN()) }

// dirHashes is every file of dir with its SHA-256.
func dirHashes(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	h := map[string][32]byte{}
	es, _ := os.ReadDir(dir)
	for _, e := range es {
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		h[e.Name()] = sha256.Sum256(raw)
	}
	return h
}

// A resume that its caller gives up after Resume returned (Abandon: the trainer could not be
// restored, or the run is already complete) leaves every file as it was: the files are cut
// back to the checkpoint only at the first write. They used to be cut at once.
func TestAbandonedResumeChangesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	stepped(t, dir, smallConfig(t))
	before := dirHashes(t, dir)
	w, cp, err := Resume(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Step != 3 {
		t.Fatalf("resumed at step %d, want 3", cp.Step)
	}
	w.Abandon()
	if after := dirHashes(t, dir); !maps.Equal(before, after) {
		t.Error("an abandoned resume changed the run directory")
	}
	// Going on does cut the steps after the checkpoint: 3 lines, then the new ones.
	w, _, err = Resume(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	w.Abandon()
	if ms, err := ReadMetrics(dir); err != nil || len(ms) != 3 {
		t.Errorf("after the first write: %d steps (%v), want the checkpoint's 3", len(ms), err)
	}
}

// A resume.bin of an older format cannot be checked, so it is refused with a message that
// says so, and the directory is left as it was: "sharpflat resume 1" had neither the
// checksum nor the fingerprint, "sharpflat resume 2" not the SHA-256 of the metrics files
// (a checkpoint of another run of the same configuration passed it).
func TestResumeRefusesAnUncheckedOldCheckpoint(t *testing.T) {
	for _, tc := range []struct {
		magic, want string
		drop        []string // header fields the format did not have
		sealed      bool
	}{
		{resumeMagic1, "written by an older sharpflat, without a checksum", []string{"config", "config_sha256", "sha256"}, false},
		{resumeMagic2, "written by an older sharpflat, without the checksums of the metrics files", []string{"sha256"}, true},
	} {
		dir := filepath.Join(t.TempDir(), "run")
		stepped(t, dir, smallConfig(t))
		raw, _ := os.ReadFile(filepath.Join(dir, resumeFile))
		sealed, err := Unseal(raw)
		if err != nil {
			t.Fatal(err)
		}
		header, body, _ := bytes.Cut(sealed[len(resumeMagic):], []byte{'\n'})
		var h map[string]json.RawMessage
		json.Unmarshal(header, &h)
		for _, k := range tc.drop {
			delete(h, k)
		}
		header, _ = json.Marshal(h)
		old := append(append(append([]byte(tc.magic), header...), '\n'), body...)
		if tc.sealed {
			old = Seal(old)
		}
		os.WriteFile(filepath.Join(dir, resumeFile), old, 0o644)
		before := dirHashes(t, dir)
		_, _, err = Resume(dir, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q checkpoint: %v", tc.magic, err)
		}
		if after := dirHashes(t, dir); !maps.Equal(before, after) {
			t.Errorf("%q: the refused resume changed the run directory", tc.magic)
		}
	}
}

// Seal and Unseal: what Seal wrote reads back; every single flipped bit of a sealed buffer,
// and a buffer cut short by one byte, is ErrDamaged.
func TestSealDetectsEveryFlippedBit(t *testing.T) {
	data := []byte("sharpflat resume 2\n{\"step\":3}\n\x00\x01\x02checkpoint")
	sealed := Seal(bytes.Clone(data))
	if got, err := Unseal(sealed); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Unseal(Seal(x)) = %q, %v", got, err)
	}
	for i := range 8 * len(sealed) {
		b := bytes.Clone(sealed)
		b[i/8] ^= 1 << (i % 8)
		if _, err := Unseal(b); !errors.Is(err, ErrDamaged) {
			t.Fatalf("bit %d flipped: %v", i, err)
		}
	}
	if _, err := Unseal(sealed[:len(sealed)-1]); !errors.Is(err, ErrDamaged) {
		t.Errorf("cut short: %v", err)
	}
}

// resume.bin is read whole to check it: one larger than the memory limit is refused before
// it is read, not read until the process runs out of memory.
func TestResumeRefusesACheckpointAboveTheMemoryLimit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	stepped(t, dir, smallConfig(t))
	st, err := os.Stat(filepath.Join(dir, resumeFile))
	if err != nil {
		t.Fatal(err)
	}
	defer train.SetMemoryLimit(0)
	train.SetMemoryLimit(st.Size() - 1)
	if _, _, err := Resume(dir, nil); err == nil || !strings.Contains(err.Error(), "more than the memory limit") {
		t.Errorf("resume.bin of %d bytes under a limit of %d: %v", st.Size(), st.Size()-1, err)
	}
	train.SetMemoryLimit(st.Size())
	if w, _, err := Resume(dir, nil); err != nil {
		t.Errorf("resume.bin of %d bytes under a limit of as many: %v", st.Size(), err)
	} else {
		w.Abandon()
	}
}
