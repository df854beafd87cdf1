//go:build !amd64 || purego

package gemm

func dot16(n16 int, a, x []float64) float64 { return dot16Go(n16, a, x) }

func dot16x4(n16 int, a []float64, lda int, x, y []float64) {
	for i := range 4 {
		y[i] = dot16Go(n16, a[i*lda:], x)
	}
}

func dot16x8(n16 int, a []float64, lda int, x, y []float64) {
	for i := range 8 {
		y[i] = dot16Go(n16, a[i*lda:], x)
	}
}

func subMulT32(m, n int, a []float64, lda int, y, x []float64) int {
	return subMulT32Go(m, n, a, lda, y, x)
}
