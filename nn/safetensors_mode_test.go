//go:build unix

package nn

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// SaveSafetensors gives weights.safetensors the mode os.Create gives any file, 0666 less the
// umask: a fixed 0644 left a umask of 077 unheeded, and os.CreateTemp's 0600 would hide the
// weights from colleagues on shared storage.
func TestSaveSafetensorsRespectsUmask(t *testing.T) {
	ts := []Tensor{{Name: "w", Shape: []int{2}, Data: []float64{1, 2}}}
	for _, c := range []struct {
		umask int
		want  os.FileMode
	}{{0o022, 0o644}, {0o077, 0o600}, {0o002, 0o664}} {
		dir := t.TempDir()
		old := syscall.Umask(c.umask)
		err := SaveSafetensors(filepath.Join(dir, "weights.safetensors"), ts, nil)
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(filepath.Join(dir, "weights.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != c.want {
			t.Errorf("umask %03o: weights.safetensors has mode %03o, want %03o (as os.Create gives)", c.umask, got, c.want)
		}
	}
}
