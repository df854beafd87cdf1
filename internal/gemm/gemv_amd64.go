//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

// hasGemvAVX512 selects the assembly of Gemv and GemvTSub.
var hasGemvAVX512 = cpu.X86.HasAVX512F

// dot16AVX512 returns the dot of the first n16 entries (a multiple of 16) of a and x, in
// Gemv's order (gemv_amd64.s).
//
//go:noescape
func dot16AVX512(n16 int, a, x *float64) float64

// dot16x4AVX512 computes dot16AVX512 of the four rows at a, a+lda, a+2·lda and a+3·lda (lda
// in bytes) with x into y[0…3], streaming the four rows together.
//
//go:noescape
func dot16x4AVX512(n16 int, a *float64, lda int, x, y *float64)

// subMulT32AVX512 does GemvTSub's update of the first n32 entries (a multiple of 32) of x;
// lda is in bytes, m ≥ 1.
//
//go:noescape
func subMulT32AVX512(m, n32 int, a *float64, lda int, y, x *float64)

func dot16(n16 int, a, x []float64) float64 {
	if !hasGemvAVX512 || n16 == 0 {
		return dot16Go(n16, a, x)
	}
	return dot16AVX512(n16, &a[0], &x[0])
}

// dot16x4 computes y[i] = dot16(n16, a[i·lda:], x) for i < 4.
func dot16x4(n16 int, a []float64, lda int, x, y []float64) {
	if !hasGemvAVX512 || n16 == 0 {
		for i := range 4 {
			y[i] = dot16Go(n16, a[i*lda:], x)
		}
		return
	}
	_ = a[3*lda+n16-1]
	_ = x[n16-1]
	_ = y[3]
	dot16x4AVX512(n16, &a[0], 8*lda, &x[0], &y[0])
}

// dot16x8AVX512 computes dot16AVX512 of the eight rows at a, a+lda, …, a+7·lda (lda in
// bytes) with x into y[0…7], streaming the eight rows together.
//
//go:noescape
func dot16x8AVX512(n16 int, a *float64, lda int, x, y *float64)

// dot16x8 computes y[i] = dot16(n16, a[i·lda:], x) for i < 8.
func dot16x8(n16 int, a []float64, lda int, x, y []float64) {
	if !hasGemvAVX512 || n16 == 0 {
		for i := range 8 {
			y[i] = dot16Go(n16, a[i*lda:], x)
		}
		return
	}
	_ = a[7*lda+n16-1]
	_ = x[n16-1]
	_ = y[7]
	dot16x8AVX512(n16, &a[0], 8*lda, &x[0], &y[0])
}

func subMulT32(m, n int, a []float64, lda int, y, x []float64) int {
	n32 := n &^ 31
	if !hasGemvAVX512 || n32 == 0 {
		return subMulT32Go(m, n, a, lda, y, x)
	}
	subMulT32AVX512(m, n32, &a[0], 8*lda, &y[0], &x[0])
	return n32
}
