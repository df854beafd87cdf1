package gemm

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
)

// rotateWidth is the number of columns Rotate computes before it writes them back: 256
// columns of 25 rows are 50 KiB of scratch, and the write-back copies 2 KiB a row.
const rotateWidth = 256

// rotateAhead is how many columns ahead of the kernel Rotate asks for V's rows. The kernel
// reads 16 columns (two cache lines) from each of V's k rows, rows far apart in memory: more
// streams than a core's hardware prefetcher follows, so without the hint each panel waits
// for memory. 256 columns ahead into L2 was the fastest of 64–1024, into L1 or L2, on Zen 5
// (BENCHMARKS.md).
const rotateAhead = 256

// Rotate computes, in place,
//
//	V[:l] ← Sᵀ · V[:k]   (V[i][c] ← Σ_p S[p][i] · V[p][c] for i < l, c < n),
//
// with S a k×l matrix (row-major, row stride lds) and V's rows ldv apart, n columns of each
// used, l ≤ k: the product a Krylov–Schur restart rotates its basis by. V[:l] gets the bits
// Dgemm(Trans, NoTrans, l, n, k, 1, S, lds, V, ldv, 0, D, n) gives D, but V is read once,
// where it lies: Rotate computes the l rows of a few columns into scratch from V's k rows,
// writes them back, and goes on, asking for V's rows ahead of the kernel.
func Rotate(k, l, n int, s []float64, lds int, v []float64, ldv int) {
	rotate(best, k, l, n, s, lds, v, ldv)
}

func rotate(kern kernel, k, l, n int, s []float64, lds int, v []float64, ldv int) {
	switch {
	case l < 0 || k < l || n < 0:
		panic(fmt.Sprintf("gemm: Rotate of %d rows onto %d, %d columns", k, l, n))
	case l == 0 || n == 0:
		return
	case lds < l || ldv < n:
		panic(fmt.Sprintf("gemm: Rotate with lds=%d < l=%d or ldv=%d < n=%d", lds, l, ldv, n))
	case len(s) < (k-1)*lds+l || len(v) < (k-1)*ldv+n:
		panic(fmt.Sprintf("gemm: Rotate of %d rows of %d onto %d: S has %d entries, V %d", k, n, l, len(s), len(v)))
	case overlap(s[:(k-1)*lds+l], v[:(k-1)*ldv+n]):
		panic("gemm: Rotate's S overlaps V") // S would change under the later columns
	}
	ws := workspaces.Get().(*workspace)
	defer workspaces.Put(ws)
	if !kern.masked {
		// A kernel that reads B packed: the product into scratch, then copied back.
		ws.b = grow(ws.b, l*n)
		dgemm(kern, blas.Trans, blas.NoTrans, l, n, k, 1, s, lds, v, ldv, 0, ws.b, n)
		for i := range l {
			copy(v[i*ldv:i*ldv+n], ws.b[i*n:(i+1)*n])
		}
		return
	}
	// Sᵀ in tiles of mr rows, packed once for all the columns: tile t's block of k from pc
	// is at a[t·mr·k + pc·mr]. Dgemm reads full tiles in place and packs a short one; the
	// values, and so the bits, are the same. k is cut into Dgemm's blocks, and a later block
	// adds to the first, as there. With one block, the rows past the last full tile are
	// computed one at a time (kern.row), from S in place.
	mr := kern.mr
	kStep := ceilDiv(k, ceilDiv(k, kc))
	tiles := ceilDiv(l, mr)
	rows := 0 // the rows computed by kern.row, after the full tiles
	if kern.row != nil && kStep == k {
		tiles, rows = l/mr, l%mr
	}
	ws.a = grow(ws.a, tiles*mr*k)
	a := ws.a
	for t := range tiles {
		for pc := 0; pc < k; pc += kStep {
			packA(a[t*mr*k+pc*mr:], mr, blas.Trans, s, lds, t*mr, min(mr, l-t*mr), pc, min(kStep, k-pc))
		}
	}
	ws.b = grow(ws.b, l*rotateWidth)
	d := ws.b
	for jc := 0; jc < n; jc += rotateWidth {
		nb := min(rotateWidth, n-jc)
		for jr := 0; jr < nb; jr += kern.nr {
			if ahead := jc + jr + rotateAhead; ahead < n {
				prefetchRows(v[ahead:], ldv, k)
			}
			ncols := min(kern.nr, nb-jr)
			for pc := 0; pc < k; pc += kStep {
				beta := 1.0
				if pc == 0 {
					beta = 0
				}
				for t := range tiles {
					kern.tile(min(kStep, k-pc), a[t*mr*k+pc*mr:], 1, mr, v[pc*ldv+jc+jr:], ldv,
						d[t*mr*rotateWidth+jr:], rotateWidth, 1, beta, min(mr, l-t*mr), ncols)
				}
			}
			for i := l - rows; i < l; i++ {
				kern.row(k, s[i:], lds, v[jc+jr:], ldv, d[i*rotateWidth+jr:], ncols)
			}
		}
		for i := range l {
			copy(v[i*ldv+jc:i*ldv+jc+nb], d[i*rotateWidth:i*rotateWidth+nb])
		}
	}
}
