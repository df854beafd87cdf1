//go:build amd64 && !purego

package gemm

import (
	"testing"

	"golang.org/x/sys/cpu"
)

// BenchmarkPeak measures the float64 FMA peak of one core: 12 independent fused
// multiply-adds an iteration on 8 lanes (AVX-512) or 4 (AVX2), 2 flops each.
func BenchmarkPeak(b *testing.B) {
	const iters = 1 << 20
	if cpu.X86.HasAVX512F {
		b.Run("avx512", func(b *testing.B) {
			for b.Loop() {
				peakAVX512(iters)
			}
			b.ReportMetric(12*8*2*iters*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		b.Run("avx2", func(b *testing.B) {
			for b.Loop() {
				peakAVX2(iters)
			}
			b.ReportMetric(12*4*2*iters*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
