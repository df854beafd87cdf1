//go:build amd64 && !purego

package vecmath

// mulAVX2 sets dst[i] = a[i]·b[i] for i < n (elementwise_amd64.s).
//
//go:noescape
func mulAVX2(dst, a, b *float64, n int)

// mulAddMulAVX2 sets dst[i] = dst[i]·a[i] + b[i]·c[i] for i < n (elementwise_amd64.s).
//
//go:noescape
func mulAddMulAVX2(dst, a, b, c *float64, n int)

// addRowsAVX2 adds v[:w] to each of the rows rows of x (elementwise_amd64.s).
//
//go:noescape
func addRowsAVX2(x *float64, rows int, v *float64, w int)
