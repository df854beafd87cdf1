//go:build amd64 && !purego

package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestPackedAAgrees checks that the assembly kernels give the same bits when every tile of A
// is read from a packed copy (as BLIS does on Intel) as when A is read where it lies: packing
// moves the entries, not the order of the sums. BenchmarkDgemmPackA measures what it costs.
func TestPackedAAgrees(t *testing.T) {
	seed := uint64(100)
	for _, kern := range kernels() {
		if kern.name == "go" {
			continue
		}
		packed := kern
		packed.packA = true
		for _, tA := range transposes {
			for _, tB := range transposes {
				for _, sh := range [][3]int{{7, 13, 5}, {8, 16, 300}, {33, 50, 513}, {200, 784, 256}} {
					seed++
					tc := gemmCase{tA: tA, tB: tB, m: sh[0], n: sh[1], k: sh[2], alpha: -0.7, beta: 1.3, padA: 1, padB: 2, padC: 3}
					var out [2][]float64
					for i, k := range []kernel{kern, packed} {
						rng := rand.New(rand.NewPCG(seed, 1))
						a, lda, b, ldb, c, ldc := tc.operands(rng)
						dgemm(k, tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
						out[i] = c
					}
					for i := range out[0] {
						if math.Float64bits(out[0][i]) != math.Float64bits(out[1][i]) {
							t.Fatalf("%s %v: entry %d: A in place %v, packed %v", kern.name, tc, i, out[0][i], out[1][i])
						}
					}
				}
			}
		}
	}
}

// BenchmarkDgemmPackA compares the AVX-512 kernel reading A in place (the default) with
// reading every tile of A packed, on the shapes of BenchmarkDgemm: the measurement to make on
// an Intel CPU before packing A there (issue 22; on Zen 5 reading in place is as fast or faster).
func BenchmarkDgemmPackA(b *testing.B) {
	var kern kernel
	for _, k := range kernels() {
		if k.name == "avx512" {
			kern = k
		}
	}
	if kern.name == "" {
		b.Skip("no AVX-512")
	}
	packed := kern
	packed.packA = true
	for _, s := range benchShapes {
		rng := rand.New(rand.NewPCG(1, 1))
		tc := gemmCase{tA: s.tA, tB: s.tB, m: s.m, n: s.n, k: s.k, alpha: 1}
		a, lda, bm, ldb, c, ldc := tc.operands(rng)
		for _, v := range []struct {
			name string
			k    kernel
		}{{"inplace", kern}, {"packed", packed}} {
			b.Run(s.name+"/"+v.name, func(b *testing.B) {
				for b.Loop() {
					dgemm(v.k, s.tA, s.tB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, ldc)
				}
				b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
