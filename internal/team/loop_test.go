package team

import (
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
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

// runtime.Goexit in an iteration on the caller (a test's t.FatalNow does it) ends the
// caller's goroutine only once the iterations helpers had started have returned, for Run and
// for a Loop, whose next run would otherwise count the old run's last iterations as its own
// (a review found a run that then never returned). The order is checked by events alone: a
// helper holds its iteration until the caller's goroutine is seen inside Run's deferred
// wait, or has exited, which fails the test.
func TestGoexitWaitsForHelpers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	for _, name := range []string{"Run", "Loop"} {
		t.Run(name, func(t *testing.T) {
			var caller string
			callerSet := make(chan struct{})
			helperIn := make(chan struct{})
			release := make(chan struct{})
			var helperDone atomic.Bool
			body := func(int) {
				<-callerSet
				if goid() == caller {
					<-helperIn
					runtime.Goexit()
				}
				close(helperIn)
				<-release
				helperDone.Store(true)
			}
			var again atomic.Bool // the Loop's second run: count the iterations
			var calls [2]atomic.Int32
			l := NewLoop(func(i int) {
				if again.Load() {
					calls[i].Add(1)
					return
				}
				body(i)
			})
			exited := make(chan bool, 1)
			go func() {
				defer func() { exited <- helperDone.Load() }()
				caller = goid()
				close(callerSet)
				queueDrained()
				if name == "Run" {
					Run(2, body)
				} else {
					l.Run(2)
				}
			}()
			<-helperIn
			// Wait for the caller's goroutine to be in the deferred wait (or gone).
			for waiting := false; !waiting; {
				select {
				case <-exited:
					t.Fatal("the caller's goroutine ended while a helper was inside an iteration")
				default:
				}
				buf := make([]byte, 1<<20)
				for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
					if strings.HasPrefix(g, "goroutine "+caller+" ") && strings.Contains(g, "runtime.Goexit") {
						waiting = true
					}
				}
				runtime.Gosched()
			}
			close(release)
			if !<-exited {
				t.Fatal("the caller's goroutine ended before the helper's iteration returned")
			}
			if name == "Loop" {
				// The Loop runs again, and counts only its own iterations.
				again.Store(true)
				l.Run(2)
				for i := range calls {
					if c := calls[i].Load(); c != 1 {
						t.Fatalf("the run after: iteration %d ran %d times", i, c)
					}
				}
			}
		})
	}
}
