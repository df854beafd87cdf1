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
