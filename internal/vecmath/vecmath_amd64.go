//go:build amd64 && !purego

package vecmath

import "golang.org/x/sys/cpu"

var (
	hasAVX512 = cpu.X86.HasAVX512F
	hasAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA
)

// tanhAVX512 sets dst[i] = tanh(x[i]) for i < n (tanh_amd64.s).
//
//go:noescape
func tanhAVX512(dst, x *float64, n int)

// tanhAVX2 sets dst[i] = tanh(x[i]) for i < n, n a multiple of 4 (tanh_amd64.s).
//
//go:noescape
func tanhAVX2(dst, x *float64, n int)

// tanhAVX2All runs tanhAVX2 over x, the last n mod 4 entries through a padded copy, so that
// every entry goes through the same code.
func tanhAVX2All(dst, x []float64) {
	body := len(x) &^ 3
	if body > 0 {
		tanhAVX2(&dst[0], &x[0], body)
	}
	if body < len(x) {
		var t [4]float64
		copy(t[:], x[body:])
		tanhAVX2(&t[0], &t[0], 4)
		copy(dst[body:], t[:])
	}
}

// tanhImpls lists the implementations this CPU runs, for the tests.
func tanhImpls() map[string]func(dst, x []float64) {
	m := map[string]func(dst, x []float64){"go": tanhGo}
	if hasAVX512 {
		m["avx512"] = func(dst, x []float64) {
			if len(x) > 0 {
				tanhAVX512(&dst[0], &x[0], len(x))
			}
		}
	}
	if hasAVX2 {
		m["avx2"] = tanhAVX2All
	}
	return m
}
