// Package vecmath evaluates elementary functions over slices, eight lanes at a time with
// AVX-512 where the CPU has it (golang.org/x/sys/cpu), and with package math elsewhere.
package vecmath

import "math"

// Tanh sets dst[i] = tanh(x[i]). With AVX-512 it follows math.Tanh's algorithm (Cephes: a
// rational function below |x| = 0.625, 1 − 2/(e^{2|x|}+1) above) with a vector exponential:
// bit-identical to math.Tanh below 0.625, within 2 ulp of it above, ±0, ±Inf and NaN as
// math.Tanh. The result for an entry depends only on its value, not on its position or len.
// dst and x must have the same length; they may be the same slice.
func Tanh(dst, x []float64) {
	if len(dst) != len(x) {
		panic("vecmath: Tanh: dst and x differ in length")
	}
	if len(x) == 0 {
		return
	}
	if hasAVX512 {
		tanhAVX512(&dst[0], &x[0], len(x))
		return
	}
	tanhGo(dst, x)
}

func tanhGo(dst, x []float64) {
	for i, v := range x {
		dst[i] = math.Tanh(v)
	}
}
