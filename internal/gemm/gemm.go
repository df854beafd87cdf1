package gemm

import (
	"fmt"
	"sync"
	"unsafe"

	"gonum.org/v1/gonum/blas"
)

// Blocking. A block of B of kc rows and nc columns is packed once and read by every tile row
// of C; a tile's rows of A (mr × kc) stay in L1 while it sweeps the block's panels. A is read
// where it lies, every row of C for each block of B, so there is no mc.
//
// kc is fixed, not taken from the cache: it fixes the order of every sum (each entry of C adds
// the products of one block of k, then the next block's to it), and with it the bits that
// the passes, and the goldens of the headless runs, produce on every machine. nc only
// partitions C's columns, so it changes no bit: it is taken from the L2 cache the CPU
// reports (blockN).
const kc = 256

// nc is the number of columns of a block of B: blockN of this machine's L2.
var nc = blockN(machine.L2)

// blockN returns the columns of a block of B of kc rows that fills half an L2 of l2 bytes
// (the other half holds A's rows and C's tiles): 256 for a 1 MiB L2 (Zen 4, Zen 5), 320 for
// 1.25 MiB (Ice Lake server), 512 for 2 MiB (Sapphire Rapids); a multiple of 16 in [64, 1024].
func blockN(l2 int) int {
	n := l2 / (2 * 8 * kc) &^ 15
	return min(max(n, 64), 1024)
}

// Blocking returns the block sizes Dgemm uses on this machine: kc rows of k and nc columns
// of n a block.
func Blocking() (kRows, nCols int) { return kc, nc }

// best is the fastest kernel this CPU and build run.
var best = kernels()[0]

// Dgemm computes
//
//	C = α · op(A) · op(B) + β · C
//
// for row-major matrices, op(X) = X or Xᵀ as tA and tB say: op(A) is m×k, op(B) is k×n and C
// is m×n, with leading dimensions lda, ldb and ldc (row strides, ≥ the number of columns
// stored). The arguments and their checks are those of gonum's blas64 Dgemm.
//
// As in BLAS, β = 0 sets C without reading it (NaN in C does not propagate), and α = 0 or
// k = 0 only scales C by β without reading A or B. The span of memory C covers (from C[0][0]
// to C[m−1][n−1]) must not overlap the spans of A and B: Dgemm panics if it does, since C is
// written tile by tile while A and B are still being read.
//
// Results are deterministic for a given shape on a given CPU: the summation order depends
// only on m, n, k and the kernel, never on the data or on the number of goroutines. Dgemm is
// safe for concurrent use and runs on the calling goroutine only.
func Dgemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	dgemm(best, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func dgemm(kern kernel, tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	checkArgs(tA, tB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		scale(m, n, beta, c, ldc)
		return
	}
	ws := workspaces.Get().(*workspace)
	defer workspaces.Put(ws)
	// B is read in place when it is already in rows (NoTrans) and the kernel masks its edge;
	// otherwise it is packed into panels of nr columns, zero-padded.
	direct := kern.masked && tB == blas.NoTrans && m <= directRows
	// Blocks of k as even as they can be (784 = 4 × 196, not 3 × 256 + 16: a short last block
	// would cost a pass over C for little work), and of n in whole panels.
	kStep := ceilDiv(k, ceilDiv(k, kc))
	panels := ceilDiv(n, kern.nr)
	nStep := ceilDiv(panels, ceilDiv(panels, nc/kern.nr)) * kern.nr
	for pc := 0; pc < k; pc += kStep {
		kb := min(kStep, k-pc)
		betaK := beta
		if pc > 0 {
			betaK = 1 // later blocks of k add to the first
		}
		for jc := 0; jc < n; jc += nStep {
			nb := min(nStep, n-jc)
			if !direct {
				ws.b = packB(ws.b, kern, tB, b, ldb, pc, kb, jc, nb)
			}
			for ic := 0; ic < m; ic += kern.mr {
				mr := min(kern.mr, m-ic)
				var at []float64
				var rsA, ksA int
				switch {
				case mr < kern.mr || kern.packA:
					ws.a = packA(ws.a, kern.mr, tA, a, lda, ic, mr, pc, kb)
					at, rsA, ksA = ws.a, 1, kern.mr
				case tA == blas.NoTrans:
					at, rsA, ksA = a[ic*lda+pc:], lda, 1
				default:
					at, rsA, ksA = a[pc*lda+ic:], 1, lda
				}
				for jr := 0; jr < nb; jr += kern.nr {
					ncols := min(kern.nr, nb-jr)
					var bp []float64
					var ksB int
					if direct {
						bp, ksB = b[pc*ldb+jc+jr:], ldb
					} else {
						bp, ksB = ws.b[jr*kb:], kern.nr
					}
					kern.tile(kb, at, rsA, ksA, bp, ksB, c[ic*ldc+jc+jr:], ldc, alpha, betaK, mr, ncols)
				}
			}
		}
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// directRows is the most rows of C for which B, when it is in rows, is read in place rather
// than packed: up to it (32 tiles of rows; every shape of sharpflat's networks) reading B's
// rows directly was 2–12% faster than packing them; a 512×512×512 product was 17% slower.
var directRows = 256

// scale sets C = β·C, and C = 0 when β = 0.
func scale(m, n int, beta float64, c []float64, ldc int) {
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// workspace holds the packed copies; one is taken from the pool for each call.
type workspace struct {
	a, b []float64
}

var workspaces = sync.Pool{New: func() any { return new(workspace) }}

func checkArgs(tA, tB blas.Transpose, m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	okT := func(t blas.Transpose) bool { return t == blas.NoTrans || t == blas.Trans || t == blas.ConjTrans }
	switch {
	case !okT(tA):
		panic(fmt.Sprintf("gemm: bad tA %v", tA))
	case !okT(tB):
		panic(fmt.Sprintf("gemm: bad tB %v", tB))
	case m < 0 || n < 0 || k < 0:
		panic(fmt.Sprintf("gemm: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	// Rows and columns as stored.
	ar, ac := m, k
	if tA != blas.NoTrans {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB != blas.NoTrans {
		br, bc = n, k
	}
	switch {
	case lda < max(1, ac):
		panic(fmt.Sprintf("gemm: lda=%d < %d columns of A", lda, ac))
	case ldb < max(1, bc):
		panic(fmt.Sprintf("gemm: ldb=%d < %d columns of B", ldb, bc))
	case ldc < max(1, n):
		panic(fmt.Sprintf("gemm: ldc=%d < %d columns of C", ldc, n))
	}
	if m == 0 || n == 0 {
		return
	}
	need := func(rows, cols, ld int) int {
		if rows == 0 || cols == 0 {
			return 0
		}
		return (rows-1)*ld + cols
	}
	switch {
	case len(a) < need(ar, ac, lda):
		panic(fmt.Sprintf("gemm: A has %d entries, a %d×%d matrix with lda=%d needs %d", len(a), ar, ac, lda, need(ar, ac, lda)))
	case len(b) < need(br, bc, ldb):
		panic(fmt.Sprintf("gemm: B has %d entries, a %d×%d matrix with ldb=%d needs %d", len(b), br, bc, ldb, need(br, bc, ldb)))
	case len(c) < need(m, n, ldc):
		panic(fmt.Sprintf("gemm: C has %d entries, a %d×%d matrix with ldc=%d needs %d", len(c), m, n, ldc, need(m, n, ldc)))
	}
	cs := c[:need(m, n, ldc)]
	if k > 0 && (overlap(cs, a[:need(ar, ac, lda)]) || overlap(cs, b[:need(br, bc, ldb)])) {
		panic("gemm: C overlaps A or B")
	}
}

// overlap reports whether the memory of x and y overlaps.
func overlap(x, y []float64) bool {
	if len(x) == 0 || len(y) == 0 {
		return false
	}
	x0, y0 := uintptr(unsafe.Pointer(&x[0])), uintptr(unsafe.Pointer(&y[0]))
	return x0 < y0+uintptr(8*len(y)) && y0 < x0+uintptr(8*len(x))
}

// Kernel names the kernel Dgemm uses on this CPU: "avx512", "avx2" or "go".
func Kernel() string { return best.name }
