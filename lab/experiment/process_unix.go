//go:build unix

package experiment

import (
	"errors"
	"syscall"
)

// processAlive reports whether a process with this id exists on this host (signal 0 probes
// without sending anything).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
