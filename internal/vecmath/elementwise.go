package vecmath

// The elementwise products of the R-passes (nn/passes.go). Each entry is computed with the
// same operations, rounded the same way, as the Go loop beside it (no fused multiply-add:
// the explicit float64 conversions forbid it), so the assembly and the Go code give the same
// bits and the passes keep theirs.

// Mul sets dst[i] = a[i]·b[i]. The slices must have the same length; dst may be a or b.
func Mul(dst, a, b []float64) {
	if len(a) != len(dst) || len(b) != len(dst) {
		panic("vecmath: Mul: slices differ in length")
	}
	if len(dst) == 0 {
		return
	}
	if hasAVX2 {
		mulAVX2(&dst[0], &a[0], &b[0], len(dst))
		return
	}
	mulGo(dst, a, b)
}

func mulGo(dst, a, b []float64) {
	for i := range dst {
		dst[i] = a[i] * b[i]
	}
}

// MulAddMul sets dst[i] = dst[i]·a[i] + b[i]·c[i], each product rounded before the sum.
// The slices must have the same length; dst must not overlap a, b or c unless it is one of
// them.
func MulAddMul(dst, a, b, c []float64) {
	if len(a) != len(dst) || len(b) != len(dst) || len(c) != len(dst) {
		panic("vecmath: MulAddMul: slices differ in length")
	}
	if len(dst) == 0 {
		return
	}
	if hasAVX2 {
		mulAddMulAVX2(&dst[0], &a[0], &b[0], &c[0], len(dst))
		return
	}
	mulAddMulGo(dst, a, b, c)
}

func mulAddMulGo(dst, a, b, c []float64) {
	for i := range dst {
		dst[i] = float64(dst[i]*a[i]) + float64(b[i]*c[i])
	}
}

// AddRows adds v to every row of x, a row-major matrix of rows of len(v):
// x[r·len(v)+j] += v[j]. len(x) must be a multiple of len(v); x and v must not overlap.
func AddRows(x, v []float64) {
	w := len(v)
	if w == 0 {
		if len(x) != 0 {
			panic("vecmath: AddRows: rows of length 0")
		}
		return
	}
	if len(x)%w != 0 {
		panic("vecmath: AddRows: len(x) is not a multiple of len(v)")
	}
	if len(x) == 0 {
		return
	}
	if hasAVX2 {
		addRowsAVX2(&x[0], len(x)/w, &v[0], w)
		return
	}
	addRowsGo(x, v)
}

func addRowsGo(x, v []float64) {
	w := len(v)
	for r := 0; r+w <= len(x); r += w {
		row := x[r : r+w]
		for j := range row {
			row[j] += v[j]
		}
	}
}
