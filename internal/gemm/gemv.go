package gemm

import "math"

// Matrix–vector products on a row-major matrix whose rows are vectors, as the eigensolver's
// Gram–Schmidt makes them (linalg/basis.go): the rows are a basis q₀ … q_{m−1} and x a vector
// of the same length n.
//
// The order of every sum is fixed by n alone, the same in the AVX-512 assembly and the Go
// code that stands in for it elsewhere (math.FMA is an exactly rounded fused multiply-add on
// every platform), so the results are bit-identical on every CPU and build:
//
//   - Gemv: the dot of row i with x sums its products in 8 lanes (lane b takes the
//     entries r ≡ b mod 8) twice over, one set of lanes for the even 8-blocks of r and one
//     for the odd, each by fused multiply-adds in the order of r, over the first n − n mod 16
//     entries; the two sets are added lane by lane (s_b), the lanes as
//     ((s₀+s₄)+(s₂+s₆)) + ((s₁+s₅)+(s₃+s₇)), and the last n mod 16 products are added one
//     at a time by fused multiply-adds.
//   - GemvTSub: entry r of x becomes x_r − a_r, a_r = Σᵢ yᵢ·A[i][r] by fused multiply-adds
//     from 0 in the order of i: each entry on its own, so the vector width does not matter.

// Gemv computes y[i] = Σ_r A[i][r]·x[r] for i < m, r < n, with A[i][r] = a[i·lda + r].
func Gemv(m, n int, a []float64, lda int, x, y []float64) {
	checkGemv(m, n, a, lda, x, y)
	n16 := n &^ 15
	i := 0
	// Eight rows at a time, then four, share the loads of x and stream from memory
	// together: more streams than four kept the sweeps of the eigensolver 5–10% closer to
	// the memory's speed on Zen 5 (BENCHMARKS.md).
	for ; i+8 <= m; i += 8 {
		dot16x8(n16, a[i*lda:], lda, x, y[i:i+8])
	}
	for ; i+4 <= m; i += 4 {
		dot16x4(n16, a[i*lda:], lda, x, y[i:i+4])
	}
	for ; i < m; i++ {
		y[i] = dot16(n16, a[i*lda:i*lda+n], x)
	}
	for i := range m {
		row := a[i*lda : i*lda+n]
		s := y[i]
		for r := n16; r < n; r++ {
			s = math.FMA(row[r], x[r], s)
		}
		y[i] = s
	}
}

// GemvTSub computes x[r] −= Σᵢ y[i]·A[i][r] for r < n, i < m, with A[i][r] = a[i·lda + r].
func GemvTSub(m, n int, a []float64, lda int, y, x []float64) {
	checkGemv(m, n, a, lda, x, y)
	if m == 0 {
		return
	}
	n32 := subMulT32(m, n, a, lda, y, x)
	for r := n32; r < n; r++ {
		var s float64
		for i := range m {
			s = math.FMA(y[i], a[i*lda+r], s)
		}
		x[r] -= s
	}
}

func checkGemv(m, n int, a []float64, lda int, x, y []float64) {
	switch {
	case m < 0 || n < 0:
		panic("gemm: Gemv: negative dimension")
	case m == 0 || n == 0:
		return
	case lda < n:
		panic("gemm: Gemv: lda < n")
	case len(a) < (m-1)*lda+n:
		panic("gemm: Gemv: A too short")
	case len(x) < n:
		panic("gemm: Gemv: x too short")
	case len(y) < m:
		panic("gemm: Gemv: y too short")
	}
}

// dot16Go is dot16 in Go: the dot of the first n16 (a multiple of 16) entries of a and x in
// the order described above.
func dot16Go(n16 int, a, x []float64) float64 {
	var e, o [8]float64
	for r := 0; r < n16; r += 16 {
		ab, xb := a[r:r+16:r+16], x[r:r+16:r+16]
		for b := range 8 {
			e[b] = math.FMA(ab[b], xb[b], e[b])
			o[b] = math.FMA(ab[8+b], xb[8+b], o[b])
		}
	}
	var s [8]float64
	for b := range 8 {
		s[b] = e[b] + o[b]
	}
	return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]))
}

// subMulT32Go is subMulT32 in Go: x[r] −= Σᵢ y[i]·A[i][r] for the first n − n mod 32
// entries; it returns that count.
func subMulT32Go(m, n int, a []float64, lda int, y, x []float64) int {
	n32 := n &^ 31
	for r := range n32 {
		var s float64
		for i := range m {
			s = math.FMA(y[i], a[i*lda+r], s)
		}
		x[r] -= s
	}
	return n32
}
