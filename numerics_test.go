package main

import "testing"

// numericsOnly skips a test under the race detector: it trains whole runs, lessons or
// experiments to check their numbers or bytes, which the detector slows 10–35 times, and
// exercises no concurrency the other tests do not. .ci/run runs these without it (its long
// checks step), so CI still runs them.
func numericsOnly(t *testing.T) {
	t.Helper()
	if raceEnabled {
		t.Skip("numbers of whole runs: .ci/run runs this without the race detector")
	}
}
