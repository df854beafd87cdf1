//go:build !amd64 || purego

package vecmath

const (
	hasAVX512 = false
	hasAVX2   = false
)

func tanhAVX512(dst, x *float64, n int) { panic("vecmath: no AVX-512 in this build") }
func tanhAVX2All(dst, x []float64)      { panic("vecmath: no AVX2 in this build") }

// tanhImpls lists the implementations this build runs, for the tests.
func tanhImpls() map[string]func(dst, x []float64) {
	return map[string]func(dst, x []float64){"go": tanhGo}
}

func mulAVX2(dst, a, b *float64, n int)                   { panic("vecmath: no AVX2 in this build") }
func mulAddMulAVX2(dst, a, b, c *float64, n int)          { panic("vecmath: no AVX2 in this build") }
func addRowsAVX2(x *float64, rows int, v *float64, w int) { panic("vecmath: no AVX2 in this build") }
