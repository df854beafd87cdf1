package rundir

// A lock that waits: of the processes (on any node sharing the storage) that need the same
// piece of work at once, one takes the lock and does it; the others wait for the lock, then
// find the work done. The experiments claim a group's warm-up this way (one cluster task
// trains it, the tasks that start beside it read it).

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// WaitLock takes an exclusive lock on the file at path (created if missing), waiting while
// another process or another goroutine holds it, until ctx ends. unlock releases it.
//
// On unix the lock is flock(2) on a file opened for writing (so that Linux NFS clients can
// emulate it with a byte-range lock): the kernel releases it when its holder dies, so the lock
// of a killed task never blocks the next one. The file stays (removing it would let a waiter
// lock an orphaned copy while a third process creates a new one). Elsewhere it is a file created exclusively, and a
// killed holder's file must be removed by hand.
func WaitLock(ctx context.Context, path string) (unlock func(), err error) {
	wait := 5 * time.Millisecond
	for {
		unlock, err := tryLockFile(path)
		if err == nil {
			return unlock, nil
		}
		if !errors.Is(err, errBusy) {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("waiting for the lock %s: %w", path, context.Cause(ctx))
		case <-t.C:
		}
		// Poll less often the longer the holder takes (its work is minutes long).
		wait = min(2*wait, time.Second)
	}
}
