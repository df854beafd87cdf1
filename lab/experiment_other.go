//go:build !unix

package lab

// processAlive cannot probe other processes here: a lock is taken as held.
func processAlive(pid int) bool { return true }
