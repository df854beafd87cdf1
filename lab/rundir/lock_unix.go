//go:build unix

package rundir

import (
	"errors"
	"os"
	"syscall"
)

// lockName is the lock file of systems without flock on directories; unused here.
const lockName = ".sharpflat.lock"

// dirLock is an exclusive flock(2) on the directory itself: no file is added, and the kernel
// releases it when the process dies, so a killed run never leaves a stale lock.
type dirLock struct{ f *os.File }

func lockDir(dir string) (*dirLock, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errBusy
		}
		return nil, err
	}
	return &dirLock{f}, nil
}

func (l *dirLock) unlock() { l.f.Close() }
