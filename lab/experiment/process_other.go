//go:build !unix

package experiment

// processAlive cannot probe other processes here: a process is taken as alive.
func processAlive(pid int) bool { return true }
