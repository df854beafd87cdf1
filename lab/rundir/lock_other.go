//go:build !unix

package rundir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// lockName is the lock file: created exclusively, removed at release. A process killed
// while it holds the lock leaves it behind; removing the file by hand frees the directory.
const lockName = ".sharpflat.lock"

type dirLock struct{ path string }

func lockDir(dir string) (*dirLock, error) {
	p := filepath.Join(dir, lockName)
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil, errBusy
	}
	if err != nil {
		return nil, err
	}
	f.Close()
	return &dirLock{p}, nil
}

func (l *dirLock) unlock() { os.Remove(l.path) }
