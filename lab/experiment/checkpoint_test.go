package experiment

import (
	"errors"
	"os"
	"path/filepath"
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
	if err := writeCheckpoint(dir, tr.Save("switch")); err != nil {
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
