package linalg

// Hooks for the external tests and benchmarks of this package.

// RitzSteps returns the number of Ritz steps of s's last run.
func RitzSteps(s *Eigensolver) int { return s.ks.ritzSteps }

// RitzEveryStep makes s run a Ritz step after every expansion, as before
// the schedule (for comparison).
func RitzEveryStep(s *Eigensolver, every bool) { s.ks.everyStep = every }
