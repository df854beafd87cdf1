package gemm_test

import (
	"fmt"

	"gonum.org/v1/gonum/blas"

	"sharpflat/internal/gemm"
)

// The forward pass of a linear layer on two examples: z = x·Wᵀ, x is (2, 3), W is (2, 3).
func ExampleDgemm() {
	x := []float64{
		1, 2, 3,
		4, 5, 6,
	}
	w := []float64{
		1, 0, -1,
		0.5, 0.5, 0.5,
	}
	z := make([]float64, 2*2)
	gemm.Dgemm(blas.NoTrans, blas.Trans, 2, 2, 3, 1, x, 3, w, 3, 0, z, 2)
	fmt.Println(z)
	// Output: [-2 3 -2 7.5]
}
