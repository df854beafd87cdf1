//go:build amd64 && !purego

package gemm

import (
	"math"

	"golang.org/x/sys/cpu"
)

// The assembly kernels (kernel_amd64.s). Strides are in bytes; a, b and c point at the
// tile's first entries.

// kern8x16AVX512 computes an 8×16 tile, of which it stores the first mr rows and the columns
// set in mask (bit j for column j); it loads only those columns of B and C.
//
//go:noescape
func kern8x16AVX512(k int, a *float64, rsA, ksA int, b *float64, ksB int, c *float64, ldc int, alpha, beta float64, mr int, mask uint64)

// rot8x16AVX512 is kern8x16AVX512 with α = 1 and β = 0, with the same bits, whose steps also
// prefetch the two cache lines ahead bytes past B's row.
//
//go:noescape
func rot8x16AVX512(k int, a *float64, rsA, ksA int, b *float64, ksB int, c *float64, ldc int, mr int, mask uint64, ahead int)

// row16AVX512 computes one row of an 8×16 tile, with α = 1 and β = 0, as kern8x16AVX512
// computes each of its rows: c[j] = Σ_p a[p·ksA]·b[p·ksB + j] for the columns set in mask.
//
//go:noescape
func row16AVX512(k int, a *float64, ksA int, b *float64, ksB int, c *float64, mask uint64)

// row64AVX512 is row16AVX512 for 64 columns, all of them, with the same bits.
//
//go:noescape
func row64AVX512(k int, a *float64, ksA int, b *float64, ksB int, c *float64)

// kern4x12AVX2 computes and stores a full 4×12 tile.
//
//go:noescape
func kern4x12AVX2(k int, a *float64, rsA, ksA int, b *float64, ksB int, c *float64, ldc int, alpha, beta float64)

var (
	avx512Kernel = kernel{name: "avx512", mr: 8, nr: 16, masked: true, packT: packTAVX512, tile: tileAVX512, row: rowAVX512, tileAhead: tileAheadAVX512}
	avx2Kernel   = kernel{name: "avx2", mr: 4, nr: 12, tile: tileAVX2}
)

// kernels lists the kernels this CPU runs, fastest first; the last is always the Go kernel.
func kernels() []kernel {
	var ks []kernel
	if cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL && cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, avx512Kernel)
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, avx2Kernel)
	}
	return append(ks, goKernel)
}

func tileAVX512(k int, a []float64, rsA, ksA int, b []float64, ksB int, c []float64, ldc int, alpha, beta float64, mr, nc int) {
	kern8x16AVX512(k, &a[0], 8*rsA, 8*ksA, &b[0], 8*ksB, &c[0], 8*ldc, alpha, beta, mr, 1<<nc-1)
}

func tileAheadAVX512(k int, a []float64, rsA, ksA int, b []float64, ksB int, c []float64, ldc int, mr, nc, ahead int) {
	rot8x16AVX512(k, &a[0], 8*rsA, 8*ksA, &b[0], 8*ksB, &c[0], 8*ldc, mr, 1<<nc-1, 8*ahead)
}

func rowAVX512(k int, a []float64, ksA int, b []float64, ksB int, c []float64, nc int) {
	j := 0
	for ; j+64 <= nc; j += 64 {
		row64AVX512(k, &a[0], 8*ksA, &b[j], 8*ksB, &c[j])
	}
	for ; j < nc; j += 16 {
		row16AVX512(k, &a[0], 8*ksA, &b[j], 8*ksB, &c[j], 1<<min(16, nc-j)-1)
	}
}

func packTAVX512(dst, b []float64, ldb, kb, w int) {
	var idx [16]int64
	for j := range idx {
		idx[j] = int64(j * ldb)
	}
	packT16AVX512(&dst[0], &b[0], ldb, &idx[0], kb, 1<<w-1)
}

func tileAVX2(k int, a []float64, rsA, ksA int, b []float64, ksB int, c []float64, ldc int, alpha, beta float64, mr, nc int) {
	if mr == 4 && nc == 12 {
		kern4x12AVX2(k, &a[0], 8*rsA, 8*ksA, &b[0], 8*ksB, &c[0], 8*ldc, alpha, beta)
		return
	}
	// A short tile: compute all of it into t, then combine the part that is in C.
	var t [4 * 12]float64
	kern4x12AVX2(k, &a[0], 8*rsA, 8*ksA, &b[0], 8*ksB, &t[0], 8*12, 1, 0)
	for r := range mr {
		cr, tr := c[r*ldc:r*ldc+nc], t[r*12:r*12+nc]
		for j, v := range tr {
			if beta == 0 {
				cr[j] = alpha * v
			} else {
				cr[j] = math.FMA(v, alpha, beta*cr[j]) // as the assembly's stores
			}
		}
	}
}

// peakAVX512 and peakAVX2 run n iterations of 12 independent FMAs (peak_amd64.s), for
// BenchmarkPeak: the FMA peak that the kernels' GFLOP/s are measured against.
func peakAVX512(n int)
func peakAVX2(n int)

// packT16AVX512 packs a panel of 16 columns of a transposed B (pack_amd64.s): column j of
// op(B) is row j of b, ldb entries apart, and idx[j] = j·ldb; mask has a bit for each column
// that exists.
//
//go:noescape
func packT16AVX512(dst *float64, b *float64, ldb int, idx *int64, kb int, mask uint64)
