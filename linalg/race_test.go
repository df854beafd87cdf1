//go:build race

package linalg

// raceEnabled: the race detector instruments the pool's channel and WaitGroup, and its
// bookkeeping allocates.
const raceEnabled = true
