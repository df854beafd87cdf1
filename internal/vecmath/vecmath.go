// Package vecmath evaluates elementary functions over slices, eight lanes at a time with
// AVX-512 or four with AVX2+FMA where the CPU has them (golang.org/x/sys/cpu), and with
// package math elsewhere.
package vecmath

import "math"

// Tanh sets dst[i] = tanh(x[i]). With AVX-512 or AVX2+FMA it follows math.Tanh's algorithm
// (Cephes: a rational function below |x| = 0.625, 1 − 2/(e^{2|x|}+1) above) with a vector
// exponential: bit-identical to math.Tanh below 0.625, within 2 ulp of it above, ±0, ±Inf
// and NaN as math.Tanh; the AVX2 and AVX-512 paths give the same bits. The result for an
// entry depends only on its value, not on its position or on len(x). dst and x must have the
// same length; they may be the same slice.
func Tanh(dst, x []float64) {
	if len(dst) != len(x) {
		panic("vecmath: Tanh: dst and x differ in length")
	}
	if len(x) == 0 {
		return
	}
	switch {
	case hasAVX512:
		tanhAVX512(&dst[0], &x[0], len(x))
	case hasAVX2:
		tanhAVX2All(dst, x)
	default:
		tanhGo(dst, x)
	}
}

func tanhGo(dst, x []float64) {
	for i, v := range x {
		dst[i] = math.Tanh(v)
	}
}
