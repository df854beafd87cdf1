//go:build amd64 && !purego

package vecmath

import "golang.org/x/sys/cpu"

var hasAVX512 = cpu.X86.HasAVX512F

// tanhAVX512 sets dst[i] = tanh(x[i]) for i < n (tanh_amd64.s).
//
//go:noescape
func tanhAVX512(dst, x *float64, n int)
