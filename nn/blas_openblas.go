//go:build openblas

package nn

// Built with -tags openblas, every GEMM of this package goes through OpenBLAS (Debian's
// libopenblas-dev) by cgo instead of gonum's pure-Go BLAS. Keep OPENBLAS_NUM_THREADS=1: the
// batch is already split across goroutines, and OpenBLAS's own threading is erratic on the
// narrow shapes of small networks.

// #cgo LDFLAGS: -lopenblas
import "C"

import (
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
)

func init() { blas64.Use(netlib.Implementation{}) }
