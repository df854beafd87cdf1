package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// The reference is gonum's DGEMM (gonum.org/v1/gonum/blas/gonum). Every test runs through
// every kernel this CPU has (kernels()), so the Go kernel is tested on amd64 too.

var reference gonum.Implementation

type gemmCase struct {
	tA, tB           blas.Transpose
	m, n, k          int
	alpha, beta      float64
	padA, padB, padC int // leading dimensions beyond the minimum
}

func (tc gemmCase) String() string {
	t := func(x blas.Transpose) string {
		if x == blas.NoTrans {
			return "N"
		}
		return "T"
	}
	return fmt.Sprintf("%s%s/m=%d,n=%d,k=%d/α=%g,β=%g/pad=%d,%d,%d", t(tc.tA), t(tc.tB), tc.m, tc.n, tc.k, tc.alpha, tc.beta, tc.padA, tc.padB, tc.padC)
}

// operands returns A, B and C for the case, with lda, ldb, ldc; C has NaN in its padding
// and, when β = 0, everywhere (β = 0 must not read C).
func (tc gemmCase) operands(rng *rand.Rand) (a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	ar, ac := tc.m, tc.k
	if tc.tA != blas.NoTrans {
		ar, ac = tc.k, tc.m
	}
	br, bc := tc.k, tc.n
	if tc.tB != blas.NoTrans {
		br, bc = tc.n, tc.k
	}
	lda, ldb, ldc = max(1, ac+tc.padA), max(1, bc+tc.padB), max(1, tc.n+tc.padC)
	fill := func(rows, ld int) []float64 {
		s := make([]float64, rows*ld)
		for i := range s {
			s[i] = 2*rng.Float64() - 1
		}
		return s
	}
	a, b, c = fill(ar, lda), fill(br, ldb), fill(tc.m, ldc)
	for i := range c {
		if tc.beta == 0 || i%ldc >= tc.n {
			c[i] = math.NaN()
		}
	}
	return a, lda, b, ldb, c, ldc
}

// check runs the case through kern and compares with the reference: each entry within
// 1e-13·(|α|·‖row i of op(A)‖·‖column j of op(B)‖ + |β·C[i][j]|), a relative bound that a
// cancelling sum cannot defeat (by Cauchy–Schwarz it is at least 1e-13·|α|·Σ_p |A[i][p]·B[p][j]|,
// and for random operands not much more), and C's padding untouched.
func check(t *testing.T, kern kernel, tc gemmCase, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	a, lda, b, ldb, c, ldc := tc.operands(rng)
	want := append([]float64(nil), c...)
	reference.Dgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, want, ldc)
	c0 := append([]float64(nil), c...)
	dgemm(kern, tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
	rowA, colB := make([]float64, tc.m), make([]float64, tc.n)
	for p := range tc.k {
		for i := range rowA {
			var v float64 // op(A)[i][p]
			if tc.tA == blas.NoTrans {
				v = a[i*lda+p]
			} else {
				v = a[p*lda+i]
			}
			rowA[i] += v * v
		}
		for j := range colB {
			var v float64 // op(B)[p][j]
			if tc.tB == blas.NoTrans {
				v = b[p*ldb+j]
			} else {
				v = b[j*ldb+p]
			}
			colB[j] += v * v
		}
	}
	for i := range tc.m {
		for j := range ldc {
			got, w := c[i*ldc+j], want[i*ldc+j]
			if j >= tc.n {
				if math.Float64bits(got) != math.Float64bits(c0[i*ldc+j]) {
					t.Fatalf("%s %v: C[%d][%d] in the padding changed to %v", kern.name, tc, i, j, got)
				}
				continue
			}
			scale := math.Abs(tc.alpha) * math.Sqrt(rowA[i]*colB[j])
			if tc.beta != 0 {
				scale += math.Abs(tc.beta * c0[i*ldc+j])
			}
			if math.IsNaN(got) || math.Abs(got-w) > 1e-13*scale {
				t.Fatalf("%s %v: C[%d][%d] = %v, reference %v (scale %g)", kern.name, tc, i, j, got, w, scale)
			}
		}
	}
}

var transposes = []blas.Transpose{blas.NoTrans, blas.Trans}

// TestSmallShapes covers every m, n, k up to 17 (tails of every kernel's tile) for all four
// transpose combinations, with α, β ∈ {0, 1, other}.
func TestSmallShapes(t *testing.T) {
	dims := []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 11, 12, 13, 15, 16, 17}
	if testing.Short() {
		dims = []int{0, 1, 3, 4, 8, 9, 13, 16, 17}
	}
	seed := uint64(0)
	for _, kern := range kernels() {
		for _, tA := range transposes {
			for _, tB := range transposes {
				for _, m := range dims {
					for _, n := range dims {
						for _, k := range dims {
							seed++
							ab := [][2]float64{{1, 0}, {-0.5, 1}, {1.5, -2}, {0, 0.5}}[seed%4]
							tc := gemmCase{tA: tA, tB: tB, m: m, n: n, k: k, alpha: ab[0], beta: ab[1], padA: int(seed % 3), padB: int(seed / 3 % 3), padC: int(seed / 9 % 3)}
							check(t, kern, tc, seed)
						}
					}
				}
			}
		}
	}
}

// TestRandomShapes covers larger random shapes, including k past the kc block and n past
// the nc block, and the shapes sharpflat's networks use.
func TestRandomShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []gemmCase{
		{tA: blas.NoTrans, tB: blas.Trans, m: 256, n: 128, k: 784, alpha: 1},   // forward
		{tA: blas.Trans, tB: blas.NoTrans, m: 128, n: 784, k: 256, alpha: 1},   // ∂W
		{tA: blas.NoTrans, tB: blas.NoTrans, m: 256, n: 128, k: 128, alpha: 1}, // input gradient
		{tA: blas.NoTrans, tB: blas.Trans, m: 50, n: 200, k: 784, alpha: 1, beta: 1},
		{tA: blas.Trans, tB: blas.NoTrans, m: 10, n: 200, k: 232, alpha: 1, beta: 1},
	}
	for range 40 {
		cases = append(cases, gemmCase{
			tA: transposes[rng.IntN(2)], tB: transposes[rng.IntN(2)],
			m: 1 + rng.IntN(90), n: 1 + rng.IntN(300), k: 1 + rng.IntN(600),
			alpha: []float64{1, -1, 0.3}[rng.IntN(3)], beta: []float64{0, 1, -0.7}[rng.IntN(3)],
			padA: rng.IntN(5), padB: rng.IntN(5), padC: rng.IntN(5),
		})
	}
	for _, kern := range kernels() {
		for i, tc := range cases {
			check(t, kern, tc, uint64(100+i))
		}
	}
}

// TestDirectAndPacked runs shapes on both sides of directRows, so that B is both read in
// place and packed.
func TestDirectAndPacked(t *testing.T) {
	for _, kern := range kernels() {
		for _, m := range []int{directRows - 1, directRows, directRows + 1, 3 * directRows} {
			for _, tB := range transposes {
				check(t, kern, gemmCase{tA: blas.Trans, tB: tB, m: m, n: 37, k: 300, alpha: 1, beta: 0.5, padB: 3, padC: 1}, uint64(m))
			}
		}
	}
}

// TestDeterministic checks that the same product twice gives the same bits.
func TestDeterministic(t *testing.T) {
	tc := gemmCase{tA: blas.NoTrans, tB: blas.Trans, m: 61, n: 45, k: 530, alpha: 1}
	for _, kern := range kernels() {
		rng := rand.New(rand.NewPCG(3, 4))
		a, lda, b, ldb, c, ldc := tc.operands(rng)
		c2 := append([]float64(nil), c...)
		dgemm(kern, tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
		dgemm(kern, tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c2, ldc)
		for i := range c {
			if math.Float64bits(c[i]) != math.Float64bits(c2[i]) {
				t.Fatalf("%s: entry %d differs between two runs: %v, %v", kern.name, i, c[i], c2[i])
			}
		}
	}
}

// TestBadArguments checks the panics: dimensions, leading dimensions, lengths, and C
// overlapping A or B.
func TestBadArguments(t *testing.T) {
	s := make([]float64, 100)
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"negative m", func() { Dgemm(blas.NoTrans, blas.NoTrans, -1, 2, 2, 1, s, 2, s, 2, 0, s, 2) }},
		{"short lda", func() { Dgemm(blas.NoTrans, blas.NoTrans, 2, 2, 3, 1, s, 2, s, 2, 0, s, 2) }},
		{"short ldb", func() { Dgemm(blas.NoTrans, blas.Trans, 2, 2, 3, 1, s, 3, s, 2, 0, s, 2) }},
		{"short ldc", func() { Dgemm(blas.NoTrans, blas.NoTrans, 2, 3, 2, 1, s, 2, s, 3, 0, s, 2) }},
		{"short A", func() { Dgemm(blas.NoTrans, blas.NoTrans, 20, 2, 10, 1, s, 10, s, 2, 0, s, 2) }},
		{"bad transpose", func() { Dgemm('x', blas.NoTrans, 2, 2, 2, 1, s, 2, s, 2, 0, s, 2) }},
		{"C is A", func() { Dgemm(blas.NoTrans, blas.NoTrans, 2, 2, 2, 1, s, 2, s[50:], 2, 0, s, 2) }},
		{"C overlaps B", func() { Dgemm(blas.NoTrans, blas.NoTrans, 2, 2, 2, 1, s, 2, s[50:], 2, 0, s[53:], 2) }},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tc.name)
				}
			}()
			tc.f()
		}()
	}
}

// TestKernels checks that the Go kernel is always there, last, and logs what this CPU runs.
func TestKernels(t *testing.T) {
	ks := kernels()
	var names []string
	for _, k := range ks {
		names = append(names, k.name)
	}
	t.Logf("kernels: %v (Dgemm uses %s)", names, best.name)
	if ks[len(ks)-1].name != "go" || best.name != ks[0].name {
		t.Fatalf("kernels %v, best %s: want the Go kernel last and the first one used", names, best.name)
	}
}

// TestDisjointNeighbours checks that operands side by side in one slice are accepted.
func TestDisjointNeighbours(t *testing.T) {
	s := make([]float64, 12)
	for i := range 8 {
		s[i] = float64(i + 1)
	}
	// A = [1 2; 3 4], B = [5 6; 7 8], C in s[8:12]
	Dgemm(blas.NoTrans, blas.NoTrans, 2, 2, 2, 1, s[:4], 2, s[4:8], 2, 0, s[8:], 2)
	want := []float64{19, 22, 43, 50}
	for i, w := range want {
		if s[8+i] != w {
			t.Fatalf("C = %v, want %v", s[8:], want)
		}
	}
}

// TestAVXKernelsAgree checks that the AVX-512 and AVX2 kernels give the same bits: both sum
// each entry's products in the order of p with fused multiply-adds, over the same blocks of k,
// and store fma(acc, α, β·C); so AVX2 and AVX-512 machines compute the same passes.
func TestAVXKernelsAgree(t *testing.T) {
	var avx []kernel
	for _, k := range kernels() {
		if k.name == "avx512" || k.name == "avx2" {
			avx = append(avx, k)
		}
	}
	if len(avx) < 2 {
		t.Skip("needs both AVX-512 and AVX2")
	}
	seed := uint64(0)
	for _, tA := range transposes {
		for _, tB := range transposes {
			for _, sh := range [][3]int{{1, 1, 1}, {7, 13, 5}, {8, 16, 300}, {33, 50, 513}, {256, 128, 784}} {
				for _, ab := range [][2]float64{{1, 0}, {1, 1}, {-0.7, 1.3}} {
					seed++
					tc := gemmCase{tA: tA, tB: tB, m: sh[0], n: sh[1], k: sh[2], alpha: ab[0], beta: ab[1], padA: 1, padB: 2, padC: 3}
					var out [2][]float64
					for i, kern := range avx {
						rng := rand.New(rand.NewPCG(seed, 1))
						a, lda, b, ldb, c, ldc := tc.operands(rng)
						dgemm(kern, tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
						out[i] = c
					}
					for i := range out[0] {
						if math.Float64bits(out[0][i]) != math.Float64bits(out[1][i]) && !(math.IsNaN(out[0][i]) && math.IsNaN(out[1][i])) {
							t.Fatalf("%v: entry %d: avx512 %v, avx2 %v", tc, i, out[0][i], out[1][i])
						}
					}
				}
			}
		}
	}
}
