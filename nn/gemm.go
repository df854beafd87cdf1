//go:build !openblas

package nn

import (
	"gonum.org/v1/gonum/blas"

	fastgemm "sharpflat/internal/gemm"
)

// gemm is every matrix product of the passes: C = α·op(A)·op(B) + β·C, row-major. The default
// build runs sharpflat/internal/gemm (AVX-512 or AVX2+FMA kernels where the CPU has them, Go
// elsewhere); -tags openblas runs OpenBLAS instead (blas_openblas.go).
func gemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	fastgemm.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// GEMM names the matrix multiply the passes run on, for reports: the default build's kernel.
func GEMM() string { return "sharpflat/internal/gemm, " + fastgemm.Kernel() + " kernel" }
