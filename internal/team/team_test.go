package team

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
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
