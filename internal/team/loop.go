package team

import (
	"fmt"
	"math"
	"runtime"
	"sync/atomic"
)

// A Loop runs one loop body again and again, as Run does, without allocating: Run makes a
// loop, a channel and usually a closure per call, and an eigensolver that promises no
// allocations in steady state runs a loop per sweep of its basis. A Loop keeps them, and
// its body is fixed when it is made.
//
// A helper may find a Loop's earlier run still in its queue after that run has returned:
// the caller may take every iteration itself before a helper looks. So each run is a
// generation, and the state a helper takes iterations from holds the generation and the
// next iteration in one word: a helper sent an older generation takes nothing from a
// newer one.
type Loop struct {
	fn       func(i int)
	gen      uint32        // the current generation; written by the caller only
	n        atomic.Uint32 // the current generation's iterations
	state    atomic.Uint64 // generation << 32 | next iteration to take
	done     atomic.Int64  // iterations of the current generation finished
	finished chan struct{} // a token when done reaches n (possibly left from an earlier run)
}

// NewLoop returns a Loop whose runs call fn.
func NewLoop(fn func(i int)) *Loop {
	return &Loop{fn: fn, finished: make(chan struct{}, 1)}
}

// Run calls fn(i) for every i in [0, n), on the calling goroutine and on the helpers Run
// uses, and returns when every call has returned; with GOMAXPROCS 1 or n ≤ 1 it calls fn in
// order on the calling goroutine. It allocates nothing once the helpers exist. A panic or a
// runtime.Goexit in fn on the calling goroutine goes on once the iterations helpers had
// started have returned, as in Run. A Loop must not run on two goroutines at once.
func (l *Loop) Run(n int) {
	w := min(runtime.GOMAXPROCS(0), n)
	if w <= 1 {
		for i := range n {
			l.fn(i)
		}
		return
	}
	if uint64(n) > math.MaxUint32 {
		panic(fmt.Sprintf("team: Loop.Run of %d iterations", n))
	}
	start(w - 1)
	l.gen++
	j := job{r: l, gen: l.gen, n: uint32(n)}
	l.done.Store(0)
	l.n.Store(j.n)
	l.state.Store(uint64(j.gen) << 32) // publishes the generation: next = 0
	for range w - 1 {
		select {
		case helpers.loops <- j:
		default: // every helper has loops waiting: the caller does the work
		}
	}
	worked := false
	defer func() {
		if !worked {
			// fn panicked or called runtime.Goexit on the caller: no more iterations for
			// anyone; wait for those helpers took, then let the panic or Goexit go on.
			// Without the wait their iterations would finish during the next run and
			// count as its own.
			taken := l.stop(j)
			for l.done.Load() < int64(taken)-1 {
				runtime.Gosched()
			}
		}
	}()
	l.work(j)
	worked = true
	for range 64 {
		if l.done.Load() == int64(n) {
			return
		}
		runtime.Gosched()
	}
	// The helper that finishes the last iteration leaves a token unless one is there
	// already, from an earlier run: take tokens until every iteration is done.
	for l.done.Load() < int64(n) {
		<-l.finished
	}
}

// work runs iterations of generation j until none is left to take.
func (l *Loop) work(j job) {
	for {
		i, ok := l.take(j)
		if !ok {
			return
		}
		l.fn(i)
		if l.done.Add(1) == int64(l.n.Load()) {
			select {
			case l.finished <- struct{}{}:
			default:
			}
		}
	}
}

// take claims the next iteration of generation j, if j is still the current generation and
// an iteration is left. (A job left unread for exactly 2³² runs would match the generation
// again; the current run's n, not the job's, bounds what it can take.)
func (l *Loop) take(j job) (int, bool) {
	for {
		s := l.state.Load()
		next := uint32(s)
		if uint32(s>>32) != j.gen || next >= j.n || next >= l.n.Load() {
			return 0, false
		}
		if l.state.CompareAndSwap(s, s+1) {
			return int(next), true
		}
	}
}

// stop lets no more iterations of generation j be taken and returns how many were.
func (l *Loop) stop(j job) uint32 {
	for {
		s := l.state.Load()
		if l.state.CompareAndSwap(s, uint64(j.gen)<<32|uint64(j.n)) {
			return min(uint32(s), j.n)
		}
	}
}
