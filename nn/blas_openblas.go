//go:build openblas

package nn

// Built with -tags openblas, every GEMM of this package goes through OpenBLAS (Debian's
// libopenblas-dev) by cgo instead of gonum's pure-Go BLAS. Keep OPENBLAS_NUM_THREADS=1: the
// batch is already split across goroutines, and OpenBLAS's own threading is erratic on the
// narrow shapes of small networks.

// #cgo LDFLAGS: -lopenblas
import "C"

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
)

// Every BLAS call through blas64 (linalg's too) goes to OpenBLAS.
func init() { blas64.Use(netlib.Implementation{}) }

// gemm is every matrix product of the passes (see gemm.go for the default build).
func gemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	blas64.Implementation().Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// GEMM names the matrix multiply the passes run on, for reports.
func GEMM() string { return "OpenBLAS (cgo)" }
