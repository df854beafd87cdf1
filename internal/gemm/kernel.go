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
	tile   func(k int, a []float64, rsA, ksA int, b []float64, ksB int, c []float64, ldc int, alpha, beta float64, mr, nc int)
}

// goKernel is the portable kernel: a 4×4 tile in sixteen scalar accumulators.
var goKernel = kernel{name: "go", mr: 4, nr: 4, masked: true, tile: tileGo}

func tileGo(k int, a []float64, rsA, ksA int, b []float64, ksB int, c []float64, ldc int, alpha, beta float64, mr, nc int) {
	if mr != 4 || nc != 4 {
		tileGoEdge(k, a, rsA, ksA, b, ksB, c, ldc, alpha, beta, mr, nc)
		return
	}
	var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 float64
	ia, ib := 0, 0
	for range k {
		a0, a1, a2, a3 := a[ia], a[ia+rsA], a[ia+2*rsA], a[ia+3*rsA]
		bp := b[ib : ib+4 : ib+4]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
		ia += ksA
		ib += ksB
	}
	store4(c[0*ldc:0*ldc+4], alpha, beta, c00, c01, c02, c03)
	store4(c[1*ldc:1*ldc+4], alpha, beta, c10, c11, c12, c13)
	store4(c[2*ldc:2*ldc+4], alpha, beta, c20, c21, c22, c23)
	store4(c[3*ldc:3*ldc+4], alpha, beta, c30, c31, c32, c33)
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
