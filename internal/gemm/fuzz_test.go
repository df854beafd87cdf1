package gemm

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// FuzzGemm compares every kernel with gonum's DGEMM on fuzzed shapes, transposes, padding
// and α, β. Sizes are folded into ranges that cross every tile and block edge: m < 40,
// n < 300 (past nc = 256), k < 600 (past kc = 256). Run with
//
//	go test -fuzz FuzzGemm -fuzztime 1m ./internal/gemm/
func FuzzGemm(f *testing.F) {
	f.Add(false, false, uint16(8), uint16(16), uint16(1), uint8(0), uint8(0), uint8(0), uint8(0), uint64(1))
	f.Add(false, true, uint16(256), uint16(128), uint16(300), uint8(1), uint8(2), uint8(3), uint8(1), uint64(2))
	f.Add(true, false, uint16(10), uint16(257), uint16(257), uint8(3), uint8(0), uint8(1), uint8(2), uint64(3))
	f.Add(true, true, uint16(17), uint16(9), uint16(513), uint8(0), uint8(5), uint8(0), uint8(3), uint64(4))
	f.Add(false, false, uint16(0), uint16(5), uint16(5), uint8(0), uint8(0), uint8(0), uint8(1), uint64(5))
	f.Add(true, false, uint16(7), uint16(3), uint16(0), uint8(2), uint8(2), uint8(2), uint8(2), uint64(6))
	f.Fuzz(func(t *testing.T, transA, transB bool, m, n, k uint16, padA, padB, padC, ab uint8, seed uint64) {
		tc := gemmCase{tA: blas.NoTrans, tB: blas.NoTrans, m: int(m % 40), n: int(n % 300), k: int(k % 600),
			padA: int(padA % 8), padB: int(padB % 8), padC: int(padC % 8)}
		if transA {
			tc.tA = blas.Trans
		}
		if transB {
			tc.tB = blas.Trans
		}
		pairs := [][2]float64{{1, 0}, {1, 1}, {-0.5, 0}, {2, -1.5}, {0, 0.5}, {1, math.Copysign(0, -1)}}
		tc.alpha, tc.beta = pairs[int(ab)%len(pairs)][0], pairs[int(ab)%len(pairs)][1]
		for _, kern := range kernels() {
			check(t, kern, tc, seed)
		}
	})
}
