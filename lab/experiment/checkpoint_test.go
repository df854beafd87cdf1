package experiment

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sharpflat/lab/rundir"
	"sharpflat/lab/train"
)

// The warm-up's checkpoint.bin, which every arm of a group starts from, carries a checksum:
// one flipped bit anywhere in it (on shared storage, or a torn copy) is refused, where before
// it was read and silently changed every arm's trajectory.
func TestWarmupCheckpointDamageRefused(t *testing.T) {
	cfg, err := train.Preset("moons")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := train.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := writeCheckpoint(dir, tr.Save(train.WhySwitch)); err != nil {
		t.Fatal(err)
	}
	if _, err := readCheckpoint(dir); err != nil {
		t.Fatalf("the checkpoint as written: %v", err)
	}
	path := filepath.Join(dir, checkpointFile)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, off := range []int{0, len(good) / 2, len(good) - 1} {
		bad := append([]byte(nil), good...)
		bad[off] ^= 0x10
		if err := os.WriteFile(path, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := readCheckpoint(dir); !errors.Is(err, rundir.ErrDamaged) {
			t.Errorf("bit flipped at byte %d of %d: %v, want ErrDamaged", off, len(good), err)
		}
	}
}

// A finished warm-up whose checkpoint.bin is damaged (one flipped bit) is an error that names
// the file and says what to do, where before it was taken for "not finished": the warm-up was
// trained again without a word, the new one discarded on publishing (the old complete.json
// stood), and every later arm task trained it again. Nothing is trained and the file is left
// as it is, for the user to look at.
func TestDamagedWarmupCheckpointIsAnError(t *testing.T) {
	dir, g := quickSwitchGroup(t, 20)
	if _, _, err := loadOrRunWarmup(context.Background(), dir, g, newProgress(nil, "test")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(armDir(dir, g.Name, "warmup"), checkpointFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 0x04
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	prog := newProgress(nil, "test")
	_, _, err = loadOrRunWarmup(context.Background(), dir, g, prog)
	if !errors.Is(err, rundir.ErrDamaged) {
		t.Fatalf("a damaged warm-up checkpoint: %v, want an error wrapping ErrDamaged", err)
	}
	if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, "delete the warm-up's directory") {
		t.Errorf("the error names neither the file nor what to do: %v", err)
	}
	if prog.costDone != 0 {
		t.Errorf("the warm-up was trained again (%g units of work)", prog.costDone)
	}
	if now, err := os.ReadFile(path); err != nil || !bytes.Equal(now, raw) {
		t.Errorf("checkpoint.bin changed (%v)", err)
	}
}
