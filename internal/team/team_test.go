package team

import (
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Every iteration runs exactly once, and all of them have returned when Run returns, for
// any number of iterations and of cores (more cores than iterations, and fewer).
func TestRunCallsEachIterationOnce(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 3, 8} {
		runtime.GOMAXPROCS(procs)
		for n := 0; n <= 40; n++ {
			for round := range 20 {
				calls := make([]atomic.Int32, n)
				Run(n, func(i int) { calls[i].Add(1) })
				for i := range calls {
					if c := calls[i].Load(); c != 1 {
						t.Fatalf("GOMAXPROCS %d, n %d, round %d: iteration %d ran %d times", procs, n, round, i, c)
					}
				}
			}
		}
	}
}

// With one core the iterations run in order on the caller's goroutine.
func TestRunSerialInOrder(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var got []int
	Run(5, func(i int) { got = append(got, i) })
	for i, v := range got {
		if v != i {
			t.Fatalf("order %v, want 0 … 4", got)
		}
	}
}

// Loops run inside loops, and from many goroutines at once (the race's trainers share the
// helpers): nothing waits for a helper busy elsewhere, so nothing deadlocks, and every
// iteration runs once.
func TestRunNestedAndConcurrent(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0))))
	var total atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				Run(4, func(int) {
					Run(3, func(int) { total.Add(1) })
				})
			}
		})
	}
	wg.Wait()
	if got, want := total.Load(), int64(8*50*4*3); got != want {
		t.Fatalf("%d inner iterations ran, want %d", got, want)
	}
}

// A panic in an iteration the caller runs reaches the caller, as in a plain loop.
func TestRunPanicOnCaller(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	defer func() {
		if recover() == nil {
			t.Fatal("the panic was lost")
		}
	}()
	Run(3, func(i int) {
		if i == 1 {
			panic("iteration 1")
		}
	})
}

// A panic on the caller reaches it only after the iterations helpers had started have
// returned, so that a caller that recovers and reuses the iterations' memory races with
// nothing, for Run and for a Loop (which then runs again, all its iterations). The caller
// panics once a helper has started an iteration, which takes a while (a sleep): with the
// wait it has always finished when the panic arrives, however slow the machine; without
// it, it has almost never.
func TestPanicWaitsForHelpers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	caller := goid()
	var started, finished atomic.Int32
	panicking := true
	body := func(int) {
		if goid() == caller && panicking {
			// Panic once a helper is inside an iteration (the helper was sent the loop,
			// so it takes one).
			for started.Load() == 0 {
				runtime.Gosched()
			}
			panic("on the caller")
		}
		started.Add(1)
		time.Sleep(2 * time.Millisecond)
		finished.Add(1)
	}
	l := NewLoop(body)
	for _, name := range []string{"Run", "Loop"} {
		for range 20 {
			started.Store(0)
			finished.Store(0)
			func() {
				defer func() {
					if recover() == nil {
						t.Fatalf("%s: the panic was lost", name)
					}
				}()
				queueDrained()
				if name == "Run" {
					Run(8, body)
				} else {
					l.Run(8)
				}
			}()
			if s, f := started.Load(), finished.Load(); s != f {
				t.Fatalf("%s: the panic reached the caller with %d of %d helper iterations still running", name, s-f, s)
			}
		}
	}
	panicking = false
	started.Store(0)
	l.Run(8)
	if s := started.Load(); s != 8 {
		t.Fatalf("after the panics a Loop's run made %d iterations, want 8", s)
	}
}

// goid returns the current goroutine's number, from its stack header ("goroutine N [").
func goid() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	f := strings.Fields(string(buf))
	return f[1]
}

// queueDrained waits until the helpers have taken every job queued for them. The tests that
// wait inside an iteration for a helper to start one need their job to reach a helper: a
// Run or Loop.Run whose caller did all the work leaves its jobs queued until a helper takes
// them, and with the queue full (64) a new job is dropped and the caller works alone, as it
// should, so such a test would wait forever. The helpers take jobs whenever they are free;
// the tests of this package do not run in parallel.
func queueDrained() {
	for len(helpers.loops) > 0 {
		runtime.Gosched()
	}
}
