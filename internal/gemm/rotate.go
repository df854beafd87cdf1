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
// for memory. The first tile of a panel asks for the panel rotateAhead columns on, a row at
// each of its steps (kernel.tileAhead). Asking for all k rows in one burst before the panel
// (prefetchRows, 256 columns ahead: what Rotate did until 2026-12-07, and still does when l < 8
// leaves no tile) hid about a third less of the memory's time. 64 columns ahead was the
// fastest of 32–256 on Zen 5 (BENCHMARKS.md, "the rotation and the restart").
const rotateAhead = 64

// rotateRowWidth is the number of columns Rotate computes a row past the last full tile of
// at a time: kern.row sums them side by side (64: eight vectors), so that the row costs the
// FMA units' throughput, not their latency, as one panel's two vectors did. When there are
// tiles (l ≥ 8) and k is moderate (40 rows of 512 bytes: 20 KiB), its rows of V are still in
// L1 from them.
const rotateRowWidth = 64

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
		for jg := 0; jg < nb; jg += rotateRowWidth {
			gw := min(rotateRowWidth, nb-jg)
			for jr := jg; jr < jg+gw; jr += kern.nr {
				// tileAhead prefetches past the last panel too, into the columns a caller
				// that rotates V part by part rotates next: a prefetch never faults.
				if tiles == 0 || kern.tileAhead == nil {
					if ahead := jc + jr + rotateAhead; ahead < n {
						prefetchRows(v[ahead:], ldv, k) // in one burst
					}
				}
				ncols := min(kern.nr, jg+gw-jr)
				for pc := 0; pc < k; pc += kStep {
					beta := 1.0
					if pc == 0 {
						beta = 0
					}
					kb := min(kStep, k-pc)
					for t := range tiles {
						at, b, c, mrt := a[t*mr*k+pc*mr:], v[pc*ldv+jc+jr:], d[t*mr*rotateWidth+jr:], min(mr, l-t*mr)
						if t == 0 && pc == 0 && kern.tileAhead != nil {
							kern.tileAhead(kb, at, 1, mr, b, ldv, c, rotateWidth, mrt, ncols, rotateAhead)
							continue
						}
						kern.tile(kb, at, 1, mr, b, ldv, c, rotateWidth, 1, beta, mrt, ncols)
					}
				}
			}
			for i := l - rows; i < l; i++ {
				kern.row(k, s[i:], lds, v[jc+jg:], ldv, d[i*rotateWidth+jg:], gw)
			}
		}
		for i := range l {
			copy(v[i*ldv+jc:i*ldv+jc+nb], d[i*rotateWidth:i*rotateWidth+nb])
		}
	}
}
