package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// TestRotate checks Rotate against Dgemm into separate memory (the same bits, signs of zeros
// included, on every kernel this CPU has), and against a plain loop of products in the order
// of k (within a few ulps of the sum's magnitude): rows ≥ l, and the columns of V past n,
// unchanged. A few entries of S and V are ±0 or subnormal, and two columns of V are all −0.
// The shapes cover a short last tile of rows (l mod 8 ≠ 0), a short last panel (n mod 16 ≠
// 0), fewer columns than the prefetch runs ahead, more than one block of columns, and k
// cut into two blocks (k > kc = 256).
func TestRotate(t *testing.T) {
	shapes := []struct{ k, l, n int }{
		{1, 1, 1}, {3, 2, 5}, {8, 8, 16}, {40, 25, 1000}, {40, 40, 1024}, {41, 26, 3000},
		{17, 1, 700}, {26, 26, 257}, {300, 9, 300}, {513, 20, 40},
	}
	for _, kern := range kernels() {
		for _, sh := range shapes {
			t.Run(fmt.Sprintf("%s/k=%d,l=%d,n=%d", kern.name, sh.k, sh.l, sh.n), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(sh.k*1000+sh.n), 7))
				k, l, n := sh.k, sh.l, sh.n
				lds, ldv := l+3, n+5
				s := make([]float64, k*lds)
				for i := range s {
					s[i] = 2*rng.Float64() - 1
				}
				v := make([]float64, k*ldv)
				for i := range v {
					v[i] = 2*rng.Float64() - 1
				}
				special := []float64{0, math.Copysign(0, -1), 0x1p-1060, -0x1p-1070}
				for i := 0; i < len(s); i += 7 {
					s[i] = special[i%len(special)]
				}
				for i := 0; i < len(v); i += 5 {
					v[i] = special[i%len(special)]
				}
				for _, c := range []int{0, n / 2} {
					for i := range k {
						v[i*ldv+c] = math.Copysign(0, -1)
					}
				}
				v0 := append([]float64(nil), v...)
				want := make([]float64, l*n)
				dgemm(kern, blas.Trans, blas.NoTrans, l, n, k, 1, s, lds, v0, ldv, 0, want, n)
				rotate(kern, k, l, n, s, lds, v, ldv)
				for i := range k {
					for c := range ldv {
						got := v[i*ldv+c]
						if i >= l || c >= n {
							if math.Float64bits(got) != math.Float64bits(v0[i*ldv+c]) {
								t.Fatalf("V[%d][%d] = %v changed (l=%d, n=%d)", i, c, got, l, n)
							}
							continue
						}
						if math.Float64bits(got) != math.Float64bits(want[i*n+c]) {
							t.Fatalf("V[%d][%d] = %v, Dgemm gives %v", i, c, got, want[i*n+c])
						}
						// A plain sum: |error| ≤ k·ε·Σ|terms| for either order.
						var sum, abs float64
						for p := range k {
							sum += s[p*lds+i] * v0[p*ldv+c]
							abs += math.Abs(s[p*lds+i] * v0[p*ldv+c])
						}
						if d := math.Abs(got - sum); d > 2*float64(k)*0x1p-52*abs {
							t.Fatalf("V[%d][%d] = %v, the plain sum %v: off by %.3g, |terms| %.3g", i, c, got, sum, d, abs)
						}
					}
				}
			})
		}
	}
}

func TestRotateBadArguments(t *testing.T) {
	s, v := make([]float64, 16), make([]float64, 16)
	for _, tc := range []struct {
		name     string
		k, l, n  int
		s        []float64
		lds, ldv int
	}{
		{"l > k", 2, 3, 4, s, 3, 4},
		{"negative n", 2, 2, -1, s, 2, 4},
		{"lds < l", 2, 2, 4, s, 1, 4},
		{"ldv < n", 2, 2, 4, s, 2, 3},
		{"short S", 4, 4, 4, s[:15], 4, 4},
		{"S inside V", 2, 2, 4, v[4:], 2, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Rotate(%d, %d, %d, …) did not panic", tc.k, tc.l, tc.n)
				}
			}()
			Rotate(tc.k, tc.l, tc.n, tc.s, tc.lds, v, tc.ldv)
		})
	}
}
