package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// gemvGo is Gemv with the Go code only (the reference order of the sums).
func gemvGo(m, n int, a []float64, lda int, x, y []float64) {
	n16 := n &^ 15
	for i := range m {
		s := dot16Go(n16, a[i*lda:], x)
		for r := n16; r < n; r++ {
			s = math.FMA(a[i*lda+r], x[r], s)
		}
		y[i] = s
	}
}

// TestGemv checks Gemv and GemvTSub against sums in the plain order of r and i (to 1e-14 of
// the sum of |products|), and, bit for bit, against the Go code that defines their order (the
// assembly on AVX-512 machines, the same Go code elsewhere), for every remainder of n modulo
// 16 and 32 and a short and a long basis.
func TestGemv(t *testing.T) {
	rnd := rand.New(rand.NewPCG(91, 1))
	for _, m := range []int{1, 3, 7, 12, 41} { // every path of Gemv: 8, 4 and 1 rows at a time
		for _, n := range []int{0, 1, 15, 16, 17, 31, 32, 33, 63, 100, 1024, 1029} {
			lda := n + 3
			a := make([]float64, m*lda)
			for i := range a {
				a[i] = rnd.NormFloat64()
			}
			x := make([]float64, n)
			y := make([]float64, m)
			for i := range x {
				x[i] = rnd.NormFloat64()
			}
			for i := range y {
				y[i] = rnd.NormFloat64()
			}
			got, want := make([]float64, m), make([]float64, m)
			Gemv(m, n, a, lda, x, got)
			gemvGo(m, n, a, lda, x, want)
			for i := range m {
				var s, abs float64
				for r := range n {
					s += a[i*lda+r] * x[r]
					abs += math.Abs(a[i*lda+r] * x[r])
				}
				if got[i] != want[i] || math.Abs(got[i]-s) > 1e-14*abs {
					t.Fatalf("Gemv m=%d n=%d: y[%d] = %v, Go order %v, plain sum %v", m, n, i, got[i], want[i], s)
				}
			}
			gx, wx := append([]float64(nil), x...), append([]float64(nil), x...)
			GemvTSub(m, n, a, lda, y, gx)
			subMulT32Go(m, n, a, lda, y, wx)
			for r := n &^ 31; r < n; r++ {
				var s float64
				for i := range m {
					s = math.FMA(y[i], a[i*lda+r], s)
				}
				wx[r] -= s
			}
			for r := range n {
				var s, abs float64
				for i := range m {
					s += y[i] * a[i*lda+r]
					abs += math.Abs(y[i] * a[i*lda+r])
				}
				if gx[r] != wx[r] || math.Abs(gx[r]-(x[r]-s)) > 1e-14*(abs+math.Abs(x[r])) {
					t.Fatalf("GemvTSub m=%d n=%d: x[%d] = %v, Go order %v, plain %v", m, n, r, gx[r], wx[r], x[r]-s)
				}
			}
		}
	}
}
