package linalg

import (
	"runtime"
	"sync"
)

// The basis work of a large solve (basis.go) runs on every core: its sweeps are cut into
// parts fixed by the dimension alone, and the parts are shared among goroutines in
// contiguous ranges. Each part writes only its own outputs, and whatever is summed over
// parts is summed afterwards in part order on the caller's goroutine, so the bits do not
// depend on how many goroutines ran the parts.

// A sweeper computes parts [lo, hi) of a sweep, as the worker-th of the goroutines.
type sweeper interface {
	sweep(worker, lo, hi int)
}

// A poolTask is one goroutine's share of a sweep.
type poolTask struct {
	s              sweeper
	worker, lo, hi int
	wg             *sync.WaitGroup
}

// pool holds goroutines that run the shares of sweeps; they block on tasks when idle. They
// are shared by every solver of the process and started on demand, up to GOMAXPROCS−1 (the
// caller of a sweep runs the first share itself). Sending a pointer to a task kept by the
// solver allocates nothing, as a go statement per sweep would.
var pool struct {
	mu      sync.Mutex
	started int
	tasks   chan *poolTask
}

// runParts runs s.sweep over parts [0, parts), split into at most GOMAXPROCS contiguous
// ranges of the same size within one part, and waits for them. tasks is the caller's
// memory for the shares (grown here when GOMAXPROCS grew); wg must not be in use.
func runParts(s sweeper, parts int, tasks *[]poolTask, wg *sync.WaitGroup) {
	w := min(runtime.GOMAXPROCS(0), parts)
	if w <= 1 {
		if parts > 0 {
			s.sweep(0, 0, parts)
		}
		return
	}
	startWorkers(w - 1)
	if len(*tasks) < w {
		*tasks = make([]poolTask, w)
	}
	ts := *tasks
	wg.Add(w - 1)
	for t := 1; t < w; t++ {
		ts[t] = poolTask{s: s, worker: t, lo: t * parts / w, hi: (t + 1) * parts / w, wg: wg}
		pool.tasks <- &ts[t]
	}
	s.sweep(0, 0, parts/w)
	wg.Wait()
	for t := 1; t < w; t++ {
		ts[t].s = nil // the pool keeps no reference to the solver
	}
}

// startWorkers makes sure that at least n pool goroutines exist.
func startWorkers(n int) {
	pool.mu.Lock()
	defer pool.mu.Unlock()
	if pool.tasks == nil {
		pool.tasks = make(chan *poolTask, 64)
	}
	for ; pool.started < n; pool.started++ {
		go func() {
			for t := range pool.tasks {
				t.s.sweep(t.worker, t.lo, t.hi)
				t.wg.Done()
			}
		}()
	}
}
