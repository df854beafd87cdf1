package gemm

import "time"

// PeakGFLOPS measures the float64 fused multiply-add peak of one core at the vector width of
// the kernel Dgemm uses (12 independent FMAs a loop, nothing loaded or stored): the figure
// Dgemm's GFLOP/s are a share of. It runs for about d and returns the best of 50 slices (on a
// shared machine a short slice is likelier to run undisturbed), or 0 for the Go kernel, which
// has no such loop.
func PeakGFLOPS(d time.Duration) float64 {
	loop, lanes := peakLoop(best.name)
	if loop == nil {
		return 0
	}
	iters := 1 << 12
	var bestRate float64
	for range 50 {
		t0 := time.Now()
		n := 0
		for time.Since(t0) < d/50 {
			loop(iters)
			n++
		}
		rate := float64(12*lanes*2*iters*n) / time.Since(t0).Seconds() / 1e9
		bestRate = max(bestRate, rate)
	}
	return bestRate
}
