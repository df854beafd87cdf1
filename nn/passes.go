package nn

// The forward, backward and R-operator passes of the MLP over one chunk of a batch.
//
// Legend:
//	n     rows in the chunk          N   rows in the whole batch (losses are means over N)
//	L     linear layers              wᵢ  width of activation i (w₀ input, w_L output)
//	zᵢ    pre-activation (n, wᵢ)     aᵢ  = σ(zᵢ) for 0 < i < L, a₀ = x, f = z_L
//	δᵢ    ∂L/∂zᵢ (n, wᵢ)             gᵢ  ∂L/∂aᵢ (n, wᵢ)
//	v     direction (P), in θ's layout: (V_i, c_i) per layer
//	R{·}  directional derivative along v (Pearlmutter's R-operator)
//
// Forward and backward:
//	zᵢ₊₁ = aᵢ Wᵢᵀ + bᵢ            ∂Wᵢ = δᵢ₊₁ᵀ aᵢ,   ∂bᵢ = Σ_rows δᵢ₊₁
//	gᵢ   = δᵢ₊₁ Wᵢ                δᵢ  = gᵢ ⊙ σ′(zᵢ)
//	δ_L  = ∂ℓ/∂f / N
// R-forward (R{a₀} = 0):
//	R{zᵢ₊₁} = R{aᵢ} Wᵢᵀ + aᵢ Vᵢᵀ + cᵢ,   R{aᵢ} = σ′(zᵢ) ⊙ R{zᵢ},   R{f} = J v
// R-backward:
//	R{δ_L} = H_ℓ R{f} / N
//	R{∂Wᵢ} = R{δᵢ₊₁}ᵀ aᵢ + δᵢ₊₁ᵀ R{aᵢ},   R{∂bᵢ} = Σ_rows R{δᵢ₊₁}
//	R{gᵢ}  = R{δᵢ₊₁} Wᵢ + δᵢ₊₁ Vᵢ
//	R{δᵢ}  = R{gᵢ} ⊙ σ′(zᵢ) + gᵢ ⊙ σ″(zᵢ) ⊙ R{zᵢ}
// The Gauss–Newton product G v = Jᵀ H_ℓ J v / N backpropagates H_ℓ R{f} / N through the linear
// part only: the terms with δᵢ₊₁ drop out.

import (
	"gonum.org/v1/gonum/blas"

	"sharpflat/internal/vecmath"
)

// chunk holds the cached passes over rows [lo, hi) of the batch.
type chunk struct {
	lo, hi int
	x      []float64   // (n, w₀) view into the batch
	z      [][]float64 // z[i] (n, wᵢ), i = 1 … L; z[L] = f
	a      [][]float64 // a[i] (n, wᵢ), i = 1 … L−1 (a[0] = x)
	d1     [][]float64 // σ′(z[i]), i = 1 … L−1
	c2     [][]float64 // σ″(z[i]) after forward, g[i] ⊙ σ″(z[i]) after backward
	delta  [][]float64 // δ[i] (n, wᵢ), i = 1 … L
	aux    []float64   // (n, w_L) softmax p for cross-entropy
	grad   []float64   // (P) this chunk's share of ∇L, allocated by the first backward
	loss   float64     // this chunk's share of L
	right  int         // correct predictions (classification)

	// R-pass buffers, allocated on first use.
	rzs    [][]float64 // R{z[i]}, i = 1 … L
	ras    [][]float64 // R{a[i]}, i = 1 … L−1
	rd     [][]float64 // R{δ[i]}, i = 1 … L
	gd     [][]float64 // δ[i] of the Gauss–Newton backward, i = 1 … L
	hv, gv []float64   // (P) this chunk's share of H v and G v
}

func (m *MLP) newChunk(lo, hi int) *chunk {
	n, L := hi-lo, m.NumLayers()
	c := &chunk{lo: lo, hi: hi}
	alloc := func(from, to int) [][]float64 {
		s := make([][]float64, L+1)
		for i := from; i <= to; i++ {
			s[i] = make([]float64, n*m.Widths[i])
		}
		return s
	}
	c.z, c.delta = alloc(1, L), alloc(1, L)
	c.a, c.d1, c.c2 = alloc(1, L-1), alloc(1, L-1), alloc(1, L-1)
	c.aux = make([]float64, n*m.Widths[L])
	return c
}

// act returns aᵢ for the chunk (the input for i = 0).
func (c *chunk) act(i int) []float64 {
	if i == 0 {
		return c.x
	}
	return c.a[i]
}

// forward computes z, a, σ′ and the loss; with back it also sets δ_L and backpropagates.
func (m *MLP) forward(c *chunk, theta []float64, data *Dataset, back bool) {
	L, n, N := m.NumLayers(), c.hi-c.lo, data.N
	c.x = data.X[c.lo*data.D : c.hi*data.D]
	for i := 0; i < L; i++ {
		in, out := m.Widths[i], m.Widths[i+1]
		w, b := m.Layer(theta, i)
		z := c.z[i+1]
		gemm(blas.NoTrans, blas.Trans, n, out, in, 1, c.act(i), in, w, in, 0, z, out)
		vecmath.AddRows(z[:n*out], b)
		if i+1 < L {
			m.Act.evalAll(c.a[i+1], c.d1[i+1], c.c2[i+1], z)
		}
	}
	C := m.Widths[L]
	f, dL := c.z[L], c.delta[L]
	c.loss, c.right = 0, 0
	inv := 1 / float64(N)
	for r := 0; r < n; r++ {
		e := c.lo + r
		label := -1
		var y []float64
		if data.Classes > 0 {
			label = data.Labels[e]
		} else {
			y = data.Y[e*data.Out : (e+1)*data.Out]
		}
		fr := f[r*C : (r+1)*C]
		c.loss += m.Loss.rowLoss(dL[r*C:(r+1)*C], c.aux[r*C:(r+1)*C], fr, label, y, inv)
		if label >= 0 && argmax(fr) == label {
			c.right++
		}
	}
	c.loss *= inv
	if back {
		if c.grad == nil {
			c.grad = make([]float64, m.NumParams())
		}
		m.backward(c, theta)
	}
}

func argmax(x []float64) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// backward computes the chunk's gradient share from δ_L, and turns c2 into g ⊙ σ″(z).
func (m *MLP) backward(c *chunk, theta []float64) {
	L, n := m.NumLayers(), c.hi-c.lo
	for i := L - 1; i >= 0; i-- {
		in, out := m.Widths[i], m.Widths[i+1]
		w, _ := m.Layer(theta, i)
		dw, db := m.Layer(c.grad, i)
		d := c.delta[i+1]
		gemm(blas.Trans, blas.NoTrans, out, in, n, 1, d, out, c.act(i), in, 0, dw, in)
		colSums(db, d, n, out)
		if i == 0 {
			break
		}
		// g = δ W (into δᵢ's buffer);  δᵢ = g ⊙ σ′(z);  c2 = g ⊙ σ″(z)
		di, d1, c2 := c.delta[i], c.d1[i], c.c2[i]
		gemm(blas.NoTrans, blas.NoTrans, n, in, out, 1, d, out, w, in, 0, di, in)
		for j, g := range di {
			di[j] = g * d1[j]
			c2[j] *= g
		}
	}
}

// colSums stores the column sums of the (n, w) matrix a in dst, each summed from 0 in the
// order of the rows. Eight columns at a time are summed in registers (eight independent
// chains of additions): on the demo net's 10- and 16-wide layers a row-by-row update of dst
// took a tenth of a Hessian-vector product. The order, and so every bit, is that of the
// row-by-row loop.
func colSums(dst, a []float64, n, w int) {
	j := 0
	for ; j+8 <= w; j += 8 {
		var s0, s1, s2, s3, s4, s5, s6, s7 float64
		for r := 0; r < n; r++ {
			x := a[r*w+j : r*w+j+8 : r*w+j+8]
			s0 += x[0]
			s1 += x[1]
			s2 += x[2]
			s3 += x[3]
			s4 += x[4]
			s5 += x[5]
			s6 += x[6]
			s7 += x[7]
		}
		dst[j], dst[j+1], dst[j+2], dst[j+3] = s0, s1, s2, s3
		dst[j+4], dst[j+5], dst[j+6], dst[j+7] = s4, s5, s6, s7
	}
	for ; j+2 <= w; j += 2 {
		var s0, s1 float64
		for r := 0; r < n; r++ {
			x := a[r*w+j : r*w+j+2 : r*w+j+2]
			s0 += x[0]
			s1 += x[1]
		}
		dst[j], dst[j+1] = s0, s1
	}
	if j < w {
		var s float64
		for r := 0; r < n; r++ {
			s += a[r*w+j]
		}
		dst[j] = s
	}
}

// allocR allocates the R-pass buffers on first use.
func (m *MLP) allocR(c *chunk) {
	if c.rzs != nil {
		return
	}
	n, L := c.hi-c.lo, m.NumLayers()
	c.rzs, c.ras = make([][]float64, L+1), make([][]float64, L+1)
	c.rd, c.gd = make([][]float64, L+1), make([][]float64, L+1)
	for i := 1; i <= L; i++ {
		c.rzs[i] = make([]float64, n*m.Widths[i])
		c.rd[i] = make([]float64, n*m.Widths[i])
		c.gd[i] = make([]float64, n*m.Widths[i])
		if i < L {
			c.ras[i] = make([]float64, n*m.Widths[i])
		}
	}
	c.hv, c.gv = make([]float64, m.NumParams()), make([]float64, m.NumParams())
}

// rForward computes R{z}, R{a} along v and then u = H_ℓ R{f} / N into rd[L].
func (m *MLP) rForward(c *chunk, theta, v []float64, N int) {
	L, n := m.NumLayers(), c.hi-c.lo
	for i := 0; i < L; i++ {
		in, out := m.Widths[i], m.Widths[i+1]
		w, _ := m.Layer(theta, i)
		vw, vb := m.Layer(v, i)
		rz := c.rzs[i+1]
		gemm(blas.NoTrans, blas.Trans, n, out, in, 1, c.act(i), in, vw, in, 0, rz, out)
		if i > 0 {
			gemm(blas.NoTrans, blas.Trans, n, out, in, 1, c.ras[i], in, w, in, 1, rz, out)
		}
		vecmath.AddRows(rz[:n*out], vb)
		if i+1 < L {
			vecmath.Mul(c.ras[i+1][:len(rz)], c.d1[i+1][:len(rz)], rz)
		}
	}
	C := m.Widths[L]
	rf, u := c.rzs[L], c.rd[L]
	inv := 1 / float64(N)
	m.Loss.curvHess(u[:n*C], c.aux[:n*C], rf[:n*C], C, inv)
}

// rBackward computes the chunk's share of H v into c.hv. It needs rForward first.
func (m *MLP) rBackward(c *chunk, theta, v []float64) {
	L, n := m.NumLayers(), c.hi-c.lo
	for i := L - 1; i >= 0; i-- {
		in, out := m.Widths[i], m.Widths[i+1]
		w, _ := m.Layer(theta, i)
		vw, _ := m.Layer(v, i)
		hw, hb := m.Layer(c.hv, i)
		rd, d := c.rd[i+1], c.delta[i+1]
		gemm(blas.Trans, blas.NoTrans, out, in, n, 1, rd, out, c.act(i), in, 0, hw, in)
		if i > 0 {
			gemm(blas.Trans, blas.NoTrans, out, in, n, 1, d, out, c.ras[i], in, 1, hw, in)
		}
		colSums(hb, rd, n, out)
		if i == 0 {
			break
		}
		// R{g} = R{δ} W + δ V;  R{δᵢ} = R{g} ⊙ σ′ + c2 ⊙ R{z}
		rdi := c.rd[i]
		gemm(blas.NoTrans, blas.NoTrans, n, in, out, 1, rd, out, w, in, 0, rdi, in)
		gemm(blas.NoTrans, blas.NoTrans, n, in, out, 1, d, out, vw, in, 1, rdi, in)
		k := len(rdi)
		vecmath.MulAddMul(rdi, c.d1[i][:k], c.c2[i][:k], c.rzs[i][:k])
	}
}

// rBackwardGGN computes the chunk's share of G v into c.gv: u = rd[L] backpropagated
// through the linear part. It needs rForward first.
func (m *MLP) rBackwardGGN(c *chunk, theta []float64) {
	L, n := m.NumLayers(), c.hi-c.lo
	copy(c.gd[L], c.rd[L])
	for i := L - 1; i >= 0; i-- {
		in, out := m.Widths[i], m.Widths[i+1]
		w, _ := m.Layer(theta, i)
		gw, gb := m.Layer(c.gv, i)
		gemm(blas.Trans, blas.NoTrans, out, in, n, 1, c.gd[i+1], out, c.act(i), in, 0, gw, in)
		colSums(gb, c.gd[i+1], n, out)
		if i == 0 {
			break
		}
		gdi := c.gd[i]
		gemm(blas.NoTrans, blas.NoTrans, n, in, out, 1, c.gd[i+1], out, w, in, 0, gdi, in)
		vecmath.Mul(gdi, gdi, c.d1[i][:len(gdi)])
	}
}
