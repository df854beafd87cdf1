package team

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Every iteration of every run of a Loop runs exactly once, and all of them have returned
// when Run returns, for any number of iterations and of cores, run after run: most runs
// end before a helper looks at them, so helpers keep finding older generations in their
// queue, and must take nothing from the newer ones.
func TestLoopCallsEachIterationOnce(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var calls []atomic.Int32
	l := NewLoop(func(i int) { calls[i].Add(1) })
	for _, procs := range []int{1, 2, 3, 8} {
		runtime.GOMAXPROCS(procs)
		for round := range 200 {
			for n := range 41 {
				calls = make([]atomic.Int32, n)
				l.Run(n)
				for i := range calls {
					if c := calls[i].Load(); c != 1 {
						t.Fatalf("GOMAXPROCS %d, round %d, n %d: iteration %d ran %d times", procs, round, n, i, c)
					}
				}
			}
		}
	}
}

// Loops run from many goroutines at once, each its own Loop, with Run's loops inside their
// iterations: nothing deadlocks, and every iteration runs once.
func TestLoopConcurrentAndNested(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0))))
	var total atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			l := NewLoop(func(int) {
				Run(3, func(int) { total.Add(1) })
			})
			for range 50 {
				l.Run(4)
			}
		})
	}
	wg.Wait()
	if got, want := total.Load(), int64(8*50*4*3); got != want {
		t.Fatalf("%d inner iterations ran, want %d", got, want)
	}
}

// A Loop's runs allocate nothing once its helpers exist, on two cores (on one, Run is a
// plain loop).
func TestLoopAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	var sink [16]float64
	l := NewLoop(func(i int) { sink[i] += float64(i) })
	l.Run(16)
	if a := testing.AllocsPerRun(200, func() { l.Run(16) }); a != 0 {
		t.Fatalf("%v allocations a run", a)
	}
}

// A panic on the caller reaches it only after the iterations helpers had started have
// returned, as TestRunPanicWaitsForHelpers checks for Run; the Loop runs again after it.
func TestLoopPanicWaitsForHelpers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	caller := goid()
	var started, finished atomic.Int32
	panicking := true
	l := NewLoop(func(int) {
		if goid() == caller && panicking {
			for started.Load() == 0 {
				runtime.Gosched()
			}
			panic("on the caller")
		}
		started.Add(1)
		time.Sleep(2 * time.Millisecond)
		finished.Add(1)
	})
	for range 20 {
		started.Store(0)
		finished.Store(0)
		func() {
			defer func() {
				if recover() == nil {
					t.Fatal("the panic was lost")
				}
			}()
			l.Run(8)
		}()
		if s, f := started.Load(), finished.Load(); s != f {
			t.Fatalf("the panic reached the caller with %d of %d helper iterations still running", s-f, s)
		}
	}
	panicking = false
	started.Store(0)
	l.Run(8)
	if s := started.Load(); s != 8 {
		t.Fatalf("after the panics a run made %d iterations, want 8", s)
	}
}
