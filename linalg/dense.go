package linalg

import (
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// Dense is an Operator backed by a dense symmetric matrix. It is the ground
// truth for tests and examples, and a convenient way to hand a small
// explicitly formed matrix to the solvers of this package.
type Dense struct {
	a blas64.Symmetric
}

// NewDense returns an Operator computing products with a.
//
// If a is a *mat.SymDense (or any mat.RawSymmetricer) the operator shares its
// storage, so later changes to a are seen by the operator; any other
// mat.Symmetric is copied.
func NewDense(a mat.Symmetric) *Dense {
	if r, ok := a.(mat.RawSymmetricer); ok {
		return &Dense{a: r.RawSymmetric()}
	}
	n := a.SymmetricDim()
	s := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			s.SetSym(i, j, a.At(i, j))
		}
	}
	return &Dense{a: s.RawSymmetric()}
}

// Dim returns the order of the matrix.
func (d *Dense) Dim() int { return d.a.N }

// MulVecTo computes
//
//	dst = A x
//
// dst and x must have length Dim and must not overlap.
func (d *Dense) MulVecTo(dst, x []float64) {
	n := d.a.N
	if len(dst) != n || len(x) != n {
		panic("linalg: Dense.MulVecTo length mismatch")
	}
	blas64.Symv(1, d.a, blas64.Vector{N: n, Inc: 1, Data: x}, 0, blas64.Vector{N: n, Inc: 1, Data: dst})
}
