// Package gemm is the matrix product of sharpflat's default build: a row-major DGEMM,
//
//	C = α · op(A) · op(B) + β · C,
//
// with gonum's blas64 calling convention, built the way BLIS and GotoBLAS build theirs
// (Goto & van de Geijn, "Anatomy of high-performance matrix multiplication", ACM TOMS 2008;
// Van Zee & van de Geijn, "BLIS", ACM TOMS 2015): op(B) is packed into panels of nr
// columns, k is cut into blocks of kc, and a micro-kernel keeps an mr×nr tile of C in vector
// registers while it walks k, one rank-1 update a step: a row of B's panel in vector
// registers, one entry of A broadcast per row of the tile, fused multiply-adds.
//
// Kernels, chosen once at start-up from what golang.org/x/sys/cpu reports (not from GOAMD64):
//
//	avx512  8×16, AVX-512F: 16 zmm accumulators; masked loads and stores handle C's last
//	        columns, so B is read in place when it is already in rows and C is short
//	avx2    4×12, AVX2 + FMA: 12 ymm accumulators; edge tiles go through a scratch tile
//	go      2×4, portable Go (eight scalar accumulators, as many as stay in registers): the
//	        kernel of non-amd64 builds, of -tags purego and of CPUs without AVX2+FMA. It is
//	        about as fast as gonum's pure-Go DGEMM (-tags noasm) and slower than gonum's SSE2
//	        assembly; it is there so that one driver, tested on every platform, runs everywhere.
//
// The assembly kernels read A where it lies (its rows, or its columns when transposed, are
// strided loads of the broadcast operand); only a short last tile of rows is copied into a
// zero-padded panel. The Go kernel reads A packed.
//
// Block sizes: kc = 256 rows of k, fixed because it fixes the order of the sums (see gemm.go);
// nc columns of n from the L2 cache the CPU reports (CPUID leaf 4 on Intel, 0x8000001D on
// AMD, else Linux's sysfs, else a 1 MiB default; ThisMachine, Blocking), which changes no bit.
// PeakGFLOPS measures the FMA peak of one core that the kernels' GFLOP/s are a share of.
//
// Gemv and GemvTSub are the matrix–vector products of the eigensolver's Gram–Schmidt, with
// their own fixed order of sums and the same bits in their AVX-512 assembly and their Go code.
//
// Results are deterministic for a given shape and kernel. The avx512 and avx2 kernels give
// the same bits (each entry sums its products in the order of k with fused multiply-adds,
// over the same blocks of k, and is stored as fma(acc, α, β·C)), so AVX2 and AVX-512 machines
// compute the same passes; the Go kernel, without fused multiply-adds, and gonum differ from
// them in the last bits.
package gemm
