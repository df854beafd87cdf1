package linalg

import (
	"runtime"

	"sharpflat/internal/team"
)

// The basis work of a large solve (basis.go) runs on every core: its sweeps are cut into
// parts fixed by the dimension alone, and the parts are shared among the caller and the
// helpers of internal/team (the same goroutines that run the chunks of the products, so
// they are awake between a product and the sweeps after it), each taking the next part not
// yet taken. Each part writes only its own outputs, and whatever is summed over parts is
// summed afterwards in part order on the caller's goroutine, so the bits do not depend on
// how many goroutines ran the parts.

// A sweeper computes parts [lo, hi) of a sweep, as the holder of scratch slot worker.
type sweeper interface {
	sweep(worker, lo, hi int)
}

// slots hands out the indices of per-goroutine scratch, 0 … cap−1, to the parts running at
// one time: at most GOMAXPROCS run at once (team.Run).
type slots chan int

// runParts runs s.sweep over parts [0, parts), a part at a time on every core, and waits
// for them. sl is the caller's slots, made here when GOMAXPROCS grew past them.
func runParts(s sweeper, parts int, sl *slots) {
	g := runtime.GOMAXPROCS(0)
	if g <= 1 || parts <= 1 {
		if parts > 0 {
			s.sweep(0, 0, parts)
		}
		return
	}
	if cap(*sl) < g {
		ch := make(slots, g)
		for i := range g {
			ch <- i
		}
		*sl = ch
	}
	ch := *sl
	team.Run(parts, func(c int) {
		w := <-ch
		s.sweep(w, c, c+1)
		ch <- w
	})
}
