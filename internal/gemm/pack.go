package gemm

import "gonum.org/v1/gonum/blas"

// packB copies rows [pc, pc+kb) and columns [jc, jc+nb) of op(B) into dst as panels of nr
// columns: panel q holds columns jc+q·nr … in kb rows of nr entries, zero past column nb.
func packB(dst []float64, kern kernel, tB blas.Transpose, b []float64, ldb, pc, kb, jc, nb int) []float64 {
	nr := kern.nr
	panels := (nb + nr - 1) / nr
	dst = grow(dst, panels*kb*nr)
	for q := range panels {
		j0 := jc + q*nr
		w := min(nr, jc+nb-j0)
		p := dst[q*kb*nr : (q+1)*kb*nr]
		if tB == blas.NoTrans {
			// B[p][j] = b[p·ldb + j]: row pieces
			for r := range kb {
				row := p[r*nr : r*nr+nr]
				copy(row, b[(pc+r)*ldb+j0:(pc+r)*ldb+j0+w])
				clear(row[w:])
			}
			continue
		}
		// B[p][j] = b[j·ldb + p]: column j of the panel is a piece of a row of b
		if kern.packT != nil {
			kern.packT(p, b[j0*ldb+pc:], ldb, kb, w)
			continue
		}
		if w < nr {
			clear(p)
		}
		for jj := range w {
			src := b[(j0+jj)*ldb+pc : (j0+jj)*ldb+pc+kb]
			for r, v := range src {
				p[r*nr+jj] = v
			}
		}
	}
	return dst
}

// packA copies rows [ic, ic+mr) and columns [pc, pc+kb) of op(A) into dst as one panel of
// mrMax rows: A[r][p] at dst[p·mrMax + r], zero for r ≥ mr. (A loop per layout, not a switch
// per entry: on the demo net's 10-row weight gradients this copy was 5% of a refresh.)
func packA(dst []float64, mrMax int, tA blas.Transpose, a []float64, lda, ic, mr, pc, kb int) []float64 {
	dst = grow(dst, kb*mrMax)
	if tA == blas.NoTrans {
		for r := range mr {
			row := a[(ic+r)*lda+pc : (ic+r)*lda+pc+kb]
			for p, v := range row {
				dst[p*mrMax+r] = v
			}
		}
	} else {
		for p := range kb {
			src := a[(pc+p)*lda+ic : (pc+p)*lda+ic+mr]
			col := dst[p*mrMax : p*mrMax+mr]
			copy(col, src)
		}
	}
	if mr < mrMax {
		for p := range kb {
			clear(dst[p*mrMax+mr : (p+1)*mrMax])
		}
	}
	return dst
}

// grow returns s resliced to n entries, reallocated if it is too short.
func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}
