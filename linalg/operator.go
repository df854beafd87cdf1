package linalg

// Operator is a symmetric linear map on ℝⁿ known only through its products.
//
// MulVecTo stores A·x in dst; dst and x have length Dim() and do not overlap.
type Operator interface {
	Dim() int
	MulVecTo(dst, x []float64)
}

// Counter wraps an Operator and counts its products.
type Counter struct {
	Op       Operator
	Products int
}

// Dim returns the dimension of the wrapped operator.
func (c *Counter) Dim() int { return c.Op.Dim() }

// MulVecTo computes dst = A·x and counts one product.
func (c *Counter) MulVecTo(dst, x []float64) {
	c.Products++
	c.Op.MulVecTo(dst, x)
}

// Func adapts a function to the Operator interface. The function must compute
// dst = A·x for a symmetric A of order N.
type Func struct {
	N   int
	Mul func(dst, x []float64)
}

// Dim returns N.
func (f Func) Dim() int { return f.N }

// MulVecTo calls f.Mul(dst, x).
func (f Func) MulVecTo(dst, x []float64) { f.Mul(dst, x) }
