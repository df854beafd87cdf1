//go:build unix

package rundir

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Files written through WriteFileAtomic get the mode every other file gets, 0666 less the
// umask (reference: what os.Create gives a file beside them under the same umask), so that
// colleagues on shared storage can read a report when the umask lets them.
func TestWriteFileAtomicRespectsUmask(t *testing.T) {
	for _, c := range []struct {
		umask int
		want  os.FileMode
	}{{0o022, 0o644}, {0o077, 0o600}, {0o002, 0o664}} {
		old := syscall.Umask(c.umask)
		dir := t.TempDir()
		err := WriteFileAtomic(filepath.Join(dir, "report.md"), []byte("report\n"))
		plain, perr := os.Create(filepath.Join(dir, "plain"))
		syscall.Umask(old)
		if err != nil || perr != nil {
			t.Fatal(err, perr)
		}
		plain.Close()
		for _, name := range []string{"report.md", "plain"} {
			st, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if got := st.Mode().Perm(); got != c.want {
				t.Errorf("umask %03o: %s has mode %03o, want %03o", c.umask, name, got, c.want)
			}
		}
	}
}
