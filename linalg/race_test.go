//go:build race

package linalg

// raceEnabled: the race detector instruments the pool's channel and WaitGroup, and its
// bookkeeping allocates.
const raceEnabled = true

// raceAllocs is why the allocation tests do not run under the race detector: its
// bookkeeping allocates, and sync.Pool drops a quarter of what is put back, so the GEMM's
// pooled workspaces are made again at random. .ci/run runs them without it.
const raceAllocs = "allocations are not counted under the race detector (race_test.go); .ci/run runs this test without it"
