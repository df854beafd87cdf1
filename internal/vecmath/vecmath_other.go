//go:build !amd64 || purego

package vecmath

const hasAVX512 = false

func tanhAVX512(dst, x *float64, n int) { panic("vecmath: no AVX-512 in this build") }
