//go:build race

package lab

// raceEnabled: the race detector slows the numerics about tenfold.
const raceEnabled = true
