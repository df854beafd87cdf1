//go:build race

package train

// raceEnabled: the race detector slows the numerics about tenfold (see numericsOnly).
const raceEnabled = true
