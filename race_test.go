//go:build race

package main

// raceEnabled: the race detector slows the numerics 10–35 times; the tests that only check
// numbers or bytes of whole runs skip under it (numericsOnly) and .ci/run runs them without.
const raceEnabled = true
