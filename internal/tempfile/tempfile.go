// Package tempfile creates the temporary file that an atomic write (write, sync, rename)
// goes through, with the mode every other file gets: 0666 less the umask, as os.Create
// gives. os.CreateTemp would make it 0600, unreadable to colleagues on shared storage, and a
// fixed mode set afterwards would ignore a umask of 077.
package tempfile

import (
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// Create creates a new file dir/prefix<random> for writing, with mode 0666 reduced by the
// umask; the random name makes it exclusive, as os.CreateTemp's.
func Create(dir, prefix string) (*os.File, error) {
	for try := 0; ; try++ {
		name := filepath.Join(dir, prefix+strconv.FormatUint(rand.Uint64(), 36))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) && try < 100 {
			continue
		}
		return f, err
	}
}
