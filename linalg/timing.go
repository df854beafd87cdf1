package linalg

import (
	"sync/atomic"
	"time"
)

// The basis work's share of a solve, for the benchmarks (issue 22: "the basis work ≤ 15% of
// the MNIST Lanczos"). Built with -tags sftiming, every solve adds to one counter of the
// process the wall time of its basis work: each expansion but its product (the recurrence,
// the Gram–Schmidt passes and partial reorthogonalisation's bookkeeping, the
// normalisation) and each rotation of the basis. Built without the tag, timing is a false
// constant and the timers compile to nothing.
//
//	go test -tags sftiming -run XXX -bench LanczosMNIST ./nn/   # basis-share

var basisNanos atomic.Int64

// BasisWork returns the wall time spent in basis work by the solves of this process so far:
// zero unless the program was built with -tags sftiming.
func BasisWork() time.Duration { return time.Duration(basisNanos.Load()) }

// basisTimer starts a timing of basis work; its stop adds the time since.
type basisTimer struct{ t0 time.Time }

func startBasisTimer() basisTimer {
	if !timing {
		return basisTimer{}
	}
	return basisTimer{time.Now()}
}

func (b basisTimer) stop() {
	if timing {
		basisNanos.Add(int64(time.Since(b.t0)))
	}
}
