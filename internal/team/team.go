// Package team runs the iterations of a short loop on every core: the calling goroutine and
// helper goroutines kept between loops share the iterations, each taking the next one not
// yet taken.
//
// It is made for loops that take tens of microseconds to a few milliseconds and come one
// after another, such as the chunks of one Hessian-vector product inside an eigensolver,
// where starting a goroutine per loop costs a visible share: waking a parked thread takes
// microseconds (tens on a virtual machine), and a loop split into fixed shares waits for
// the slowest share to start. Here the caller never waits for a helper to wake up: it takes
// iterations itself until none is left, then waits only for the iterations helpers already
// started. A helper that finished a loop polls for the next one for a short while before it
// parks, so loops that follow each other closely find it awake.
//
// Which goroutine runs which iteration is not fixed, and neither is their order: fn must
// write only the outputs of its own iteration. Whatever is summed over iterations must be
// summed by the caller afterwards, in iteration order, for the bits not to depend on the
// number of cores.
//
// Run makes a loop per call. A Loop (loop.go) runs one body again and again on the same
// helpers without allocating: the eigensolver's sweeps over its basis (linalg), which
// promise no allocations in steady state.
package team

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// spin is how long a helper polls for the next loop after finishing one before it parks.
// Chosen, not tuned: longer than the serial work between the products of an eigensolver on
// the small nets (10–100 µs), short enough that an idle lab uses no CPU.
const spin = 100 * time.Microsecond

// A loop is one call of Run as the helpers see it.
type loop struct {
	fn       func(i int)
	n        int64
	next     atomic.Int64  // the next iteration to take
	done     atomic.Int64  // iterations finished
	finished chan struct{} // receives once, when done reaches n
}

// work runs iterations of l until none is left to take.
func (l *loop) work(job) {
	for {
		i := l.next.Add(1) - 1
		if i >= l.n {
			return
		}
		l.fn(int(i))
		if l.done.Add(1) == l.n {
			l.finished <- struct{}{}
		}
	}
}

// helpers is shared by every caller in the process; helpers are started on demand, up to
// GOMAXPROCS−1, and live as long as the process.
var helpers struct {
	mu      sync.Mutex
	started int
	loops   chan job
}

// A job is a loop as sent to the helpers: a Run's loop, or a generation of a Loop's.
type job struct {
	r   runner
	gen uint32 // the Loop's generation (a Run's loop has one)
	n   uint32 // the Loop's iterations in that generation
}

// A runner is what a helper works on.
type runner interface {
	work(j job)
}

// Run calls fn(i) for every i in [0, n) and returns when every call has returned. With
// GOMAXPROCS 1 or n ≤ 1 it calls fn in order on the calling goroutine. A panic in fn on the
// calling goroutine propagates once the iterations helpers had started have returned (no
// more are started), so a caller that recovers finds nothing still running; a panic on a
// helper ends the process, as in any goroutine.
func Run(n int, fn func(i int)) {
	w := min(runtime.GOMAXPROCS(0), n)
	if w <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	start(w - 1)
	l := &loop{fn: fn, n: int64(n), finished: make(chan struct{}, 1)}
	for range w - 1 {
		select {
		case helpers.loops <- job{r: l}:
		default: // every helper has loops waiting: the caller does the work
		}
	}
	worked := false
	defer func() {
		if !worked {
			// fn panicked or called runtime.Goexit on the caller (t.FatalNow in a test
			// does): no more iterations for anyone. Those taken so far are min(next, n),
			// one of them the caller's, which never finished; wait for the others, then
			// let the panic or the Goexit go on.
			taken := min(l.next.Swap(1<<62), l.n)
			for l.done.Load() < taken-1 {
				runtime.Gosched()
			}
		}
	}()
	l.work(job{})
	worked = true
	// Every iteration is taken; wait for those a helper is still running.
	for range 64 {
		if l.done.Load() == l.n {
			return
		}
		runtime.Gosched()
	}
	<-l.finished
}

// start makes sure that at least n helpers exist.
func start(n int) {
	helpers.mu.Lock()
	defer helpers.mu.Unlock()
	if helpers.loops == nil {
		helpers.loops = make(chan job, 64)
	}
	for ; helpers.started < n; helpers.started++ {
		go help()
	}
}

// help is a helper's life: take a loop, work on it, poll briefly for the next one, park.
func help() {
	for {
		var j job
		select {
		case j = <-helpers.loops:
		default:
			j = poll()
		}
		j.r.work(j)
	}
}

// poll waits for the next loop, polling for up to spin before it parks. It looks at the
// queue's length, which takes no lock, and yields its core now and then, so that other
// goroutines run and the caller's sends do not contend with it.
func poll() job {
	t0 := time.Now()
	for i := 1; ; i++ {
		if len(helpers.loops) > 0 {
			select {
			case j := <-helpers.loops:
				return j
			default:
			}
		}
		if i%256 == 0 {
			if time.Since(t0) >= spin {
				return <-helpers.loops
			}
			runtime.Gosched()
		}
	}
}
