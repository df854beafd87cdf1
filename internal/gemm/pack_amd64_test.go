//go:build amd64 && !purego

package gemm

import (
	"testing"

	"golang.org/x/sys/cpu"
	"gonum.org/v1/gonum/blas"
)

// TestPackTAVX512 compares the assembly packing of a transposed B with packB's Go loop, for
// full and partial panels and every remainder of kb modulo the 8×8 transposes.
func TestPackTAVX512(t *testing.T) {
	if !cpu.X86.HasAVX512F {
		t.Skip("no AVX-512")
	}
	const ldb = 787
	b := make([]float64, 200*ldb)
	for i := range b {
		b[i] = float64(i)
	}
	plain := avx512Kernel
	plain.packT = nil
	for _, kb := range []int{1, 7, 8, 9, 16, 17, 196} {
		for _, nb := range []int{16, 197, 5} {
			want := packB(nil, plain, blas.Trans, b, ldb, 3, kb, 2, nb)
			got := packB(nil, avx512Kernel, blas.Trans, b, ldb, 3, kb, 2, nb)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("kb=%d nb=%d: entry %d = %v, want %v", kb, nb, i, got[i], want[i])
				}
			}
		}
	}
}
