//go:build !unix

package rundir

import (
	"errors"
	"io/fs"
	"os"
)

// tryLockFile creates path exclusively, or returns errBusy; unlock removes it. Without flock
// a lock file outlives a killed holder: remove it by hand.
func tryLockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o666)
	if errors.Is(err, fs.ErrExist) {
		return nil, errBusy
	}
	if err != nil {
		return nil, err
	}
	f.Close()
	return func() { os.Remove(path) }, nil
}
