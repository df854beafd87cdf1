package train

import "testing"

// numericsOnly skips a test under the race detector: it trains hundreds of steps to check a
// claim of the science, which the detector slows tenfold, and exercises no concurrency (a
// Trainer is single-threaded). .ci/run runs these without it (its long checks step).
func numericsOnly(t *testing.T) {
	t.Helper()
	if raceEnabled {
		t.Skip("numbers of a long run: .ci/run runs this without the race detector")
	}
}
