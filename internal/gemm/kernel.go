package gemm

// A kernel computes one tile of C: at most mr×nr entries, mr ≤ kernel.mr rows and the first nc
// ≤ kernel.nr columns,
//
//	C[r][j] = α · Σ_p A[r][p] · B[p][j] + β · C[r][j],   p = 0 … k−1,
//
// with C[r][j] = c[r·ldc + j], A[r][p] = a[r·rsA + p·ksA] and B[p][j] = b[p·ksB + j]. A always
// has kernel.mr readable rows (the driver pads a short tile), and B's rows are kernel.nr wide
// unless the kernel is masked. β = 0 never reads C.
type kernel struct {
	name   string
	mr, nr int
	// masked kernels read only B's first nc columns, so B can be read where it lies instead of
	// from a packed, zero-padded copy.
	masked bool
	// packA kernels read every tile of A from a packed copy (A[r][p] at p·mr + r).
	packA bool
	// packT, if set, packs a panel of nr columns of a transposed B faster than packB's loop:
	// dst[p·nr + j] = b[j·ldb + p] for p < kb, j < w, and 0 for w ≤ j < nr.
	packT func(dst, b []float64, ldb, kb, w int)
	tile  func(k int, a []float64, rsA, ksA int, b []float64, ksB int, c []float64, ldc int, alpha, beta float64, mr, nc int)
	// row, if set, computes one row of a tile with α = 1, β = 0 and the bits tile gives it,
	// c[j] = Σ_p a[p·ksA]·b[p·ksB + j] for j < nc, at the cost of one row (Rotate's last rows),
	// for any nc ≥ 1: not only nc ≤ nr.
	row func(k int, a []float64, ksA int, b []float64, ksB int, c []float64, nc int)
	// tileAhead, if set, is tile with α = 1 and β = 0, with its bits, that also asks at each
	// step p for the two cache lines ahead entries on from B's row p (Rotate's prefetch,
	// spread over the steps).
	tileAhead func(k int, a []float64, rsA, ksA int, b []float64, ksB int, c []float64, ldc int, mr, nc, ahead int)
}

// goKernel is the portable kernel: a 2×4 tile in eight scalar accumulators, few enough that
// the Go compiler keeps them, A's two entries and B's four in registers on amd64.
var goKernel = kernel{name: "go", mr: 2, nr: 4, packA: true, tile: tileGo}

// tileGo reads A and B packed: A[r][p] = a[2p + r], B[p][j] = b[4p + j].
func tileGo(k int, a []float64, rsA, ksA int, b []float64, ksB int, c []float64, ldc int, alpha, beta float64, mr, nc int) {
	if mr != 2 || nc != 4 {
		tileGoEdge(k, a, rsA, ksA, b, ksB, c, ldc, alpha, beta, mr, nc)
		return
	}
	var c00, c01, c02, c03, c10, c11, c12, c13 float64
	ap, bp := a[:2*k], b[:4*k]
	for p := range k {
		a2, b4 := ap[2*p:2*p+2:2*p+2], bp[4*p:4*p+4:4*p+4]
		a0, a1 := a2[0], a2[1]
		b0, b1, b2, b3 := b4[0], b4[1], b4[2], b4[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
	}
	store4(c[0:4], alpha, beta, c00, c01, c02, c03)
	store4(c[ldc:ldc+4], alpha, beta, c10, c11, c12, c13)
}

func store4(c []float64, alpha, beta, s0, s1, s2, s3 float64) {
	c = c[:4]
	if beta == 0 {
		c[0], c[1], c[2], c[3] = alpha*s0, alpha*s1, alpha*s2, alpha*s3
		return
	}
	c[0] = alpha*s0 + beta*c[0]
	c[1] = alpha*s1 + beta*c[1]
	c[2] = alpha*s2 + beta*c[2]
	c[3] = alpha*s3 + beta*c[3]
}

// tileGoEdge is the same sum for a tile with fewer rows or columns, one entry at a time.
func tileGoEdge(k int, a []float64, rsA, ksA int, b []float64, ksB int, c []float64, ldc int, alpha, beta float64, mr, nc int) {
	for r := range mr {
		for j := range nc {
			s := 0.0
			for p := range k {
				s += a[r*rsA+p*ksA] * b[p*ksB+j]
			}
			if beta == 0 {
				c[r*ldc+j] = alpha * s
			} else {
				c[r*ldc+j] = alpha*s + beta*c[r*ldc+j]
			}
		}
	}
}
