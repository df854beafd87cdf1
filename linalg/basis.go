package linalg

import (
	"math"

	"gonum.org/v1/gonum/floats"

	"sharpflat/internal/gemm"
)

// The basis work of a large solve: block classical Gram–Schmidt with reorthogonalisation
// (CGS2) and the Krylov–Schur rotation, as matrix products (internal/gemm) on the basis held
// as one row-major matrix V (row i is qᵢ, rows n apart), on every core.
//
// The columns of V (the coordinates 0 … n−1) are cut into parts of partRows; a sweep runs
// over the parts, on every core (parallel.go). In a part c the basis block V_c (nq rows of
// partRows) fits in the L2 cache, so one sweep can use it twice: CGS2,
//
//	g₁ = V w,  w ← w − Vᵀ g₁,  g₂ = V w,  w ← w − Vᵀ g₂,
//
// reads V from memory three times (g₁; the first update fused with g₂; the second update),
// not four, and not once per basis vector as loops of dots and axpys do. For p = 1 the
// first pass is mostly known (subtractKnown: the Lanczos recurrence, which reads x and one or
// two more vectors, not V), and the full pass that follows it (fullPass, V read twice) is
// made only when partial reorthogonalisation asks for it (omega.go): 57 expansions of 131
// on the MNIST benchmark. A thick restart's rotation waits for the next product and is made
// part by part in that expansion's first sweep, each part's rotated rows used at once for the
// known couplings and the full pass's dots (restart, sweepRestart): the rotation and that
// sweep read V once, not twice. The dots V_c w_c and
// the squared norms of the parts are summed over the parts afterwards in part order, so the
// bits depend on n (which fixes the parts) and on the GEMM kernel's bits (the same for every
// kernel of internal/gemm but the portable one), never on the number of cores.
//
// Every solve runs this code. Below parallelMin the sweeps run on the calling goroutine: the
// basis is small enough to live in the caches, and a sweep takes microseconds, less than
// waking another core. Until 2026-12-06 solves below 16384 ran loops of gonum's Dot and Axpy
// and gonum's Dgemm for the rotation (orthogonalize and rotateSerial, kept as the reference
// of the tests and benchmarks); the blocked kernels are faster there too, and changed the
// last bits of the small presets' refreshes (BENCHMARKS.md, "the demo engine").

// blockedMin is the smallest dimension n whose basis work is blocked: all of them. A
// variable for the tests and benchmarks, which compare the blocked path with the serial one.
var blockedMin = 0

// parallelMin is the smallest dimension n whose sweeps are shared among the cores. At
// n = 16384 the largest default basis (2K+21 vectors, K ≤ 100) no longer fits in a 1 MiB L2.
// A variable for the tests, which run parallel sweeps on small operators.
var parallelMin = 16384

// partRows is the number of coordinates of a part: 1024 makes V_c 8 KiB a vector, 336 KiB for
// the default basis of K = 10 (41 vectors), so it stays in L2 between the two uses. A variable
// for the tests, which cut small operators into many parts.
var partRows = 1024

// blocked reports whether this solve's basis work runs blocked.
func (ks *krylovSchur) blocked() bool { return ks.n >= blockedMin }

// What the current sweep computes (basisSweep.kind).
const (
	sweepDots           = iota // g_c = V_c w_c, ‖w_c‖²
	sweepUpdateDots            // w_c ← w_c − V_cᵀ g, ‖w_c‖², g'_c = V_c w_c
	sweepUpdate                // w_c ← w_c − V_cᵀ g, ‖w_c‖²
	sweepRotate                // V_c[:l] ← S_lᵀ V_c[:j]
	sweepKnownDots             // x_cᵀ w_c, ‖w_c‖²
	sweepRowsUpdate            // w_c ← w_c − Σ g_i q_i,c for i in rows, ‖w_c‖²
	sweepScale                 // w_c ← s·w_c
	sweepRestart               // restartPart, then the sweep of kind then on the part
	sweepRowsUpdateDots        // sweepRowsUpdate, then g'_c = V_c w_c
)

// basisSweep is the state of the current sweep, and its per-part outputs.
type basisSweep struct {
	kind   int
	then   int       // sweepRestart: the sweep that follows the restart on each part
	nq     int       // rows of V in the sweep (Gram–Schmidt)
	rotJ   int       // rotation: rows of V rotated
	l      int       // rotation: rows kept
	ax     []float64 // sweepRestart: A x, in scratch until the part's rotation is made
	w      []float64 // the vector being orthogonalised
	x      []float64 // sweepKnownDots: the direction just moved into the basis
	rows   []int     // sweepRowsUpdate: the rows of the update, in order
	scale  float64   // sweepScale: the factor
	g      []float64 // coefficients of the update, length nq
	dots   []float64 // parts × stride: part c's V_c w_c at c·stride
	stride int       // m+p
	norm2  []float64 // part c's ‖w_c‖²
}

// numParts returns the number of parts of a vector of length n.
func numParts(n int) int { return (n + partRows - 1) / partRows }

// allocBasis makes q rows of one block of (m+p)·n numbers, reusing the block if it is large
// enough, and the per-part buffers of the blocked path.
func (ks *krylovSchur) allocBasis(n, rows int) {
	if cap(ks.qbuf) < rows*n {
		ks.qbuf = make([]float64, rows*n)
	}
	ks.qbuf = ks.qbuf[:rows*n]
	ks.q = ks.q[:0]
	for i := range rows {
		ks.q = append(ks.q, ks.qbuf[i*n:(i+1)*n:(i+1)*n])
	}
	ks.bs.stride = rows
	if n >= blockedMin {
		ks.allocParts(n)
	}
}

// allocParts sizes the per-part outputs for the current n and basis.
func (ks *krylovSchur) allocParts(n int) {
	parts := numParts(n)
	if len(ks.bs.dots) != parts*ks.bs.stride || len(ks.bs.norm2) != parts {
		ks.bs.dots = make([]float64, parts*ks.bs.stride)
		ks.bs.norm2 = make([]float64, parts)
	}
}

// orthogonalize removes from w its components along q[:nq] (orthonormal) by CGS2, as
// orthogonalize does, and adds the coefficients to h. w must be a vector not among q[:nq]:
// on the blocked path, q[nq] itself or memory outside the basis.
func (ks *krylovSchur) orthogonalize(w []float64, nq int, h []float64) (before, after float64) {
	if !ks.blocked() {
		return orthogonalize(w, ks.q[:nq], h, ks.g)
	}
	ks.allocParts(ks.n) // a no-op but where a test changed partRows or blockedMin
	bs := &ks.bs
	bs.nq, bs.w = nq, w
	g := ks.g[:nq]
	// g₁ = V w and ‖w‖.
	before = safeSqrt(ks.runSweep(sweepDots, g), w)
	after = before
	for pass := 0; pass < 3; pass++ {
		prev := after
		for i, v := range g {
			h[i] += v
		}
		if nq == 0 {
			break
		}
		// The first pass is always followed by a second: its update and the
		// second pass's dots share the sweep. A third pass, if the second
		// removed more than half of what was left, needs its dots first.
		kind := sweepUpdate
		if pass == 0 {
			kind = sweepUpdateDots
		}
		after = safeSqrt(ks.runSweep(kind, g), w)
		if pass >= 1 && after > 0.5*prev {
			break
		}
		if pass == 1 {
			ks.runSweep(sweepDots, g)
		}
	}
	return before, after
}

// orthogonalizeAx orthogonalizes w = A x, x = q[j] the direction just moved into the basis,
// against q[:j+1] when x was the only pending direction (p = 1), and adds the coefficients
// to h; it returns ‖A x‖ and ‖w‖ after. It reads the basis twice, not three times as CGS2
// does, because most of the first Gram–Schmidt pass is known: in exact arithmetic
// qᵢᵀ A x = cᵢ (x's coupling to Q_j, C's first row: β_{j−1} alone but right after a thick
// restart) and xᵀ A x = α. So
//
//	w ← A x − α x − Σ cᵢ qᵢ      (α = xᵀ A x; one axpy per nonzero cᵢ, or one sweep if many)
//	g = Vᵀ w,  w ← w − V g        (one full pass of classical Gram–Schmidt)
//
// and, as DGKS's criterion asks (Daniel, Gragg, Kaufman and Stewart 1976; ARPACK's dgetv0
// and dsaitr use it with 1/√2), a second full pass only if the first removed more than
// 1 − 1/√2 of what was left. The first, known, pass is the Lanczos recurrence; the full pass
// removes what rounding left along the basis, as the second pass of CGS2 does.
func (ks *krylovSchur) orthogonalizeAx(w []float64, j int, c []float64, h []float64) (before, after float64) {
	before, mid, _, dots := ks.subtractKnown(w, ks.q[j], j, c, h, false)
	return before, ks.fullPass(w, j+1, h, mid, dots)
}

// subtractKnown is the known part of orthogonalizeAx's first pass: w ← A x − α x − Σ cᵢ qᵢ.
// It returns ‖A x‖ and ‖w‖ after, and reports whether the couplings were many (a thick
// restart's arrow): their update is a sweep over the basis, which also leaves the dots
// g = Vᵀw of the full pass that follows it in ks.g. It reports too whether ks.g holds those
// dots: after the arrow, and, if predict (partial reorthogonalisation), when the full pass is
// likely to follow (the basis was rotated, or fullPassLikely for the ‖w‖ that the known
// couplings leave in exact arithmetic): the few couplings' update is then fused with the
// dots, and the full pass reads w, x and the coupled rows from L1, not from memory again.
// On the MNIST benchmark the guess was right for all 262 expansions of two solves.
//
// x is the direction just moved into the basis: q[j], or while a restart's rotation waits for
// this expansion (ks.deferred) P's place before it, w then in scratch. The update sweep then
// makes the rotation first, part by part (sweepRestart), and leaves w at q[j+1].
func (ks *krylovSchur) subtractKnown(w, x []float64, j int, c []float64, h []float64, predict bool) (before, mid float64, arrow, dots bool) {
	bs := &ks.bs
	bs.w, bs.x = w, x
	// α = xᵀw and ‖w‖ in one sweep.
	bs.kind = sweepKnownDots
	parts := numParts(ks.n)
	ks.runParts(parts)
	var alpha, ww float64
	for c := range parts {
		alpha += bs.dots[c*bs.stride]
		ww += bs.norm2[c]
	}
	before = safeSqrt(ww, w)
	h[j] += alpha
	g := ks.g[:j+1]
	copy(g, c[:j])
	g[j] = alpha
	bs.rows = append(bs.rows[:0], j)
	for i, v := range c[:j] {
		if v != 0 {
			bs.rows = append(bs.rows, i)
			h[i] += v
		}
	}
	// w ← w − α x − Σ cᵢ qᵢ: row by row for a few couplings, else (a thick restart's arrow)
	// as one update of Gram–Schmidt over the basis, fused with the full pass's dots.
	kind := sweepRowsUpdate
	if arrow = len(bs.rows) > 1+sparseCoupling; arrow {
		kind = sweepUpdateDots
	} else if predict {
		ks.t[j*ks.m+j] = alpha // T's column j, as omegaNext will read it
		if ks.rotated || guessFullPass(ks, j, knownRest(before, g, bs.rows)) {
			kind = sweepRowsUpdateDots
		}
	}
	dots = kind != sweepRowsUpdate
	bs.nq = j + 1
	if ks.deferred > 0 {
		bs.then, kind = kind, sweepRestart
		bs.ax, w = w, ks.q[j+1]
		bs.w = w
	}
	mid = safeSqrt(ks.runSweep(kind, g), w)
	return before, mid, arrow, dots
}

// guessFullPass is subtractKnown's guess: fullPassLikely, a variable for the test that
// checks that the guess changes no bits.
var guessFullPass = (*krylovSchur).fullPassLikely

// knownRest returns the norm that w of norm before keeps, in exact arithmetic, once its
// components g[i] along the orthonormal rows i of rows are subtracted: before·√(1 − Σ(gᵢ/before)²),
// or 0 if rounding leaves nothing.
func knownRest(before float64, g []float64, rows []int) float64 {
	if !(before > 0) {
		return 0
	}
	r := 1.0
	for _, i := range rows {
		r -= (g[i] / before) * (g[i] / before)
	}
	return before * math.Sqrt(max(r, 0))
}

// scaleVec sets w ← s·w: on every core from parallelMin on (each entry is one product, so the
// bits are floats.Scale's).
func (ks *krylovSchur) scaleVec(s float64, w []float64) {
	if ks.n < parallelMin || !ks.blocked() {
		floats.Scale(s, w)
		return
	}
	ks.bs.kind, ks.bs.w, ks.bs.scale = sweepScale, w, s
	ks.runParts(numParts(ks.n))
}

// safeSqrt returns √s, s = ‖w‖² summed over the parts, or where that sum could have
// overflowed or lost digits to underflow, gonum's scaled norm of w.
func safeSqrt(s float64, w []float64) float64 {
	if s > 0x1p-900 && s < 0x1p900 {
		return math.Sqrt(s)
	}
	return floats.Norm(w, 2)
}

// fullPass makes one full pass of classical Gram–Schmidt of w against q[:nq], and a second
// if DGKS's criterion asks for it, adds the coefficients to h and returns ‖w‖ after; mid is
// ‖w‖ before. If dots, ks.g already holds the pass's dots Vᵀw (subtractKnown made them).
func (ks *krylovSchur) fullPass(w []float64, nq int, h []float64, mid float64, dots bool) (after float64) {
	ks.fullPasses++
	bs := &ks.bs
	bs.nq, bs.w = nq, w
	g := ks.g[:nq]
	if !dots {
		ks.runSweep(sweepDots, g)
	}
	after = mid
	for pass := 0; pass < 2 && nq > 0; pass++ {
		prev := after
		floats.Add(h[:nq], g)
		after = safeSqrt(ks.runSweep(sweepUpdate, g), w)
		if after >= prev*math.Sqrt2/2 || pass == 1 {
			break
		}
		ks.runSweep(sweepDots, g)
	}
	return after
}

// sparseCoupling is the most nonzero couplings orthogonalizeAx subtracts one axpy at a time;
// more (a thick restart's arrow) take one sweep over the basis.
const sparseCoupling = 4

// runSweep runs a Gram–Schmidt sweep of the given kind with coefficients g (read by the
// updates; the dots, if the sweep makes any, replace them), and returns Σ_c ‖w_c‖².
func (ks *krylovSchur) runSweep(kind int, g []float64) float64 {
	bs := &ks.bs
	bs.kind, bs.g = kind, g
	parts := numParts(ks.n)
	ks.runParts(parts)
	if kind == sweepRestart {
		kind = bs.then
	}
	if kind == sweepDots || kind == sweepUpdateDots || kind == sweepRowsUpdateDots {
		clear(g)
		for c := range parts {
			floats.Add(g, bs.dots[c*bs.stride:c*bs.stride+len(g)])
		}
	}
	var s float64
	for _, v := range bs.norm2[:parts] {
		s += v
	}
	return s
}

// sweep computes parts [lo, hi) of the current sweep (the sweeper of runParts).
func (ks *krylovSchur) sweep(lo, hi int) {
	bs := &ks.bs
	n, nq, w := ks.n, bs.nq, bs.w
	if bs.kind == sweepRotate {
		// The rotation sums nothing across columns: its bits do not depend on how the
		// columns are cut, and one call over the whole range prefetches across parts.
		c0 := lo * partRows
		ks.rotateColumns(c0, min(hi*partRows, n)-c0)
		return
	}
	for c := lo; c < hi; c++ {
		c0 := c * partRows
		cw := min(partRows, n-c0)
		kind := bs.kind
		if kind == sweepRestart {
			ks.restartPart(c0, cw)
			kind = bs.then
		}
		wc := w[c0 : c0+cw]
		switch kind {
		case sweepKnownDots:
			bs.dots[c*bs.stride] = floats.Dot(bs.x[c0:c0+cw], wc)
			bs.norm2[c] = floats.Dot(wc, wc)
			continue
		case sweepRowsUpdate, sweepRowsUpdateDots:
			for _, i := range bs.rows {
				floats.AddScaled(wc, -bs.g[i], ks.q[i][c0:c0+cw])
			}
			bs.norm2[c] = floats.Dot(wc, wc)
			if kind == sweepRowsUpdateDots {
				gemm.Gemv(nq, cw, ks.qbuf[c0:], n, wc, bs.dots[c*bs.stride:]) // V_c w_c
			}
			continue
		case sweepScale:
			floats.Scale(bs.scale, wc)
			continue
		}
		if kind != sweepDots {
			gemm.GemvTSub(nq, cw, ks.qbuf[c0:], n, bs.g, wc) // w_c ← w_c − V_cᵀ g
		}
		bs.norm2[c] = floats.Dot(wc, wc)
		if kind != sweepUpdate {
			gemm.Gemv(nq, cw, ks.qbuf[c0:], n, wc, bs.dots[c*bs.stride:]) // V_c w_c
		}
	}
}

// rotateBlocked replaces V[:l] by S_lᵀ V[:j] (Q_j S_l in the column view), part by part.
func (ks *krylovSchur) rotateBlocked(l int) {
	bs := &ks.bs
	bs.kind, bs.rotJ, bs.l = sweepRotate, ks.j, l
	ks.runParts(numParts(ks.n))
}

// restartPart makes a deferred restart's changes to the basis on the columns [c0, c0+cw):
// V[:l] ← S_lᵀ V[:j] (rotateBlocked's bits: the rotation sums nothing across columns), then
// P from q[j] to q[l] and A x from scratch to q[l+1], as rotate and expand would.
func (ks *krylovSchur) restartPart(c0, cw int) {
	bs := &ks.bs
	ks.rotateColumns(c0, cw)
	copy(ks.q[bs.l][c0:c0+cw], ks.q[bs.rotJ][c0:c0+cw])
	copy(ks.q[bs.l+1][c0:c0+cw], bs.ax[c0:c0+cw])
}

// runParts runs the current sweep over parts [0, parts): on the calling goroutine below
// parallelMin, on every core from it.
func (ks *krylovSchur) runParts(parts int) {
	if ks.n < parallelMin {
		ks.sweep(0, parts)
		return
	}
	ks.runner.run(ks, parts)
}

// rotateColumns rotates the columns [c0, c0+cw) of the basis, in place: S is j×j, column i
// the i-th Ritz vector, and gemm.Rotate gives the bits gemm.Dgemm gives S_lᵀ V_c.
func (ks *krylovSchur) rotateColumns(c0, cw int) {
	gemm.Rotate(ks.bs.rotJ, ks.bs.l, cw, ks.s, ks.bs.rotJ, ks.qbuf[c0:], ks.n)
}
