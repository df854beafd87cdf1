package linalg

import (
	"runtime"

	"sharpflat/internal/team"
)

// The basis work of a large solve (basis.go, slq.go) runs on every core: its sweeps are cut
// into parts fixed by the dimension alone, and runs of contiguous parts are shared among the
// calling goroutine and internal/team's helpers, the same goroutines that run the products'
// chunks (nn). Each part writes only its own outputs, and whatever is summed over parts is
// summed afterwards in part order on the caller's goroutine, so the bits do not depend on
// which goroutine ran which parts, or on how many there were.
//
// Until 2026-12-07 linalg had a pool of its own, whose goroutines parked after every sweep.
// The first sweeps after a product found them parked, and team's helper polling for the
// next product on the other core: with two cores the woken goroutine waited for the caller
// to finish its share, and the recurrence's sweeps ran no faster than on one core.

// A sweeper computes parts [lo, hi) of a sweep.
type sweeper interface {
	sweep(lo, hi int)
}

// chunksPerCore is the number of runs of parts a sweep is cut into, per core: a helper that
// starts late (it was busy or parked) leaves the caller more runs, not a fixed half.
const chunksPerCore = 4

// partRunner runs a solver's sweeps on every core, through one team.Loop kept for all of
// them, so that a sweep allocates nothing.
type partRunner struct {
	s      sweeper
	parts  int
	chunks int
	loop   *team.Loop
}

// run runs s.sweep over parts [0, parts), in runs of contiguous parts on every core, and
// returns when all have returned.
func (r *partRunner) run(s sweeper, parts int) {
	if r.loop == nil {
		r.loop = team.NewLoop(r.chunk)
	}
	r.s, r.parts = s, parts
	r.chunks = min(parts, chunksPerCore*runtime.GOMAXPROCS(0))
	r.loop.Run(r.chunks)
}

// chunk runs the i-th run of parts of the current sweep.
func (r *partRunner) chunk(i int) {
	r.s.sweep(i*r.parts/r.chunks, (i+1)*r.parts/r.chunks)
}
