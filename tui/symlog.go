package tui

import (
	"cmp"
	"math"
	"slices"
	"strconv"
)

// The symmetric-log axis of the density panel. A Hessian's spectrum is a bulk piled within a
// few hundredths of zero, on both sides (negative eigenvalues exist away from a minimum), and
// a few outliers decades above it. A linear axis shows the bulk as one column; a log axis
// cannot show zero or the negative side. The symmetric log
//
//	s(λ) = sign(λ)·log10(1 + |λ|/c)
//
// is linear within ±c (s ≈ λ/(c·ln 10)) and logarithmic beyond, one decade a unit, so the bulk
// spreads over the first unit around zero and each outlier sits at its decade. c is the scale
// of the bulk (symlogScale).

// symlog is an axis s(λ) = sign(λ)·log10(1 + |λ|/c) from λ lo to hi (lo < hi) over w cells.
type symlog struct {
	c      float64
	s0, s1 float64 // s(lo), s(hi)
	w      int
}

// newSymlog returns the axis of [lo, hi] with scale c over w cells.
func newSymlog(lo, hi, c float64, w int) symlog {
	ax := symlog{c: c, w: w}
	ax.s0, ax.s1 = ax.s(lo), ax.s(hi)
	if !(ax.s1 > ax.s0) {
		ax.s1 = ax.s0 + 1
	}
	return ax
}

// s is the symmetric log of λ.
func (ax symlog) s(l float64) float64 {
	return math.Copysign(math.Log10(1+math.Abs(l)/ax.c), l)
}

// inv is the λ whose symmetric log is s: sign(s)·c·(10^|s| − 1).
func (ax symlog) inv(s float64) float64 {
	return math.Copysign(ax.c*(math.Pow(10, math.Abs(s))-1), s)
}

// col is the cell of λ (it may lie outside 0…w−1).
func (ax symlog) col(l float64) int {
	return int(math.Floor((ax.s(l) - ax.s0) / (ax.s1 - ax.s0) * float64(ax.w)))
}

// edge is the λ at the left edge of cell x (x = w: the right edge of the last cell).
func (ax symlog) edge(x int) float64 {
	return ax.inv(ax.s0 + float64(x)/float64(ax.w)*(ax.s1-ax.s0))
}

// symlogScale is c, the scale of the bulk: the median of |λ| under the quadrature's
// distribution (half of the spectrum's mass lies within ±c), and never below the smoothing
// width sigma (the density shows nothing finer) nor below 1e-9 of the largest |λ|.
// nodes and weights are the probes' Gauss quadratures, each probe's weights summing to 1.
func symlogScale(nodes, weights [][]float64, sigma float64) float64 {
	type nw struct{ a, w float64 }
	var all []nw
	total, top := 0.0, 0.0
	for i := range nodes {
		for j, v := range nodes[i] {
			all = append(all, nw{math.Abs(v), weights[i][j]})
			total += weights[i][j]
			top = math.Max(top, math.Abs(v))
		}
	}
	slices.SortFunc(all, func(x, y nw) int { return cmp.Compare(x.a, y.a) })
	med, acc := 0.0, 0.0
	for _, x := range all {
		acc += x.w
		if acc >= total/2 {
			med = x.a
			break
		}
	}
	c := math.Max(med, sigma)
	if floor := 1e-9 * top; c < floor || c == 0 {
		c = math.Max(floor, 1e-12)
	}
	return c
}

// symlogTick is a tick of the axis: its cell and label.
type symlogTick struct {
	x     int
	label string
}

// ticks are the axis's decade ticks: 0 and ±10ʲ for every power of ten on the axis at or
// above the decade of c (below it the axis is linear: the ticks would pile up), each labelled
// ("0.01", "1", "100", "1e3", "-0.1"), left to right. A label that would touch one already
// placed is left out, placing 0 first, then the largest decades first: the bulk's zero and
// the outliers' decades are what the axis is read for.
func (ax symlog) ticks() []symlogTick {
	lo, hi := ax.inv(ax.s0), ax.inv(ax.s1)
	var ls []float64
	if lo <= 0 && hi >= 0 {
		ls = append(ls, 0)
	}
	var ds []float64
	j0 := int(math.Ceil(math.Log10(ax.c)))
	for j := j0; j <= j0+40; j++ {
		p := math.Pow(10, float64(j))
		if p > math.Max(-lo, hi) {
			break
		}
		if p <= hi {
			ds = append(ds, p)
		}
		if -p >= lo {
			ds = append(ds, -p)
		}
	}
	slices.Reverse(ds)
	ls = append(ls, ds...)
	type span struct{ a, b int } // the cells a label takes, with a blank on either side
	var taken []span
	var out []symlogTick
	for _, l := range ls {
		x := ax.col(l)
		if x < 0 || x > ax.w {
			continue
		}
		x = min(x, ax.w-1)
		lab := decadeLabel(l)
		start := max(0, min(x-len(lab)/2, ax.w-len(lab)))
		sp := span{start - 1, start + len(lab)}
		if slices.ContainsFunc(taken, func(t span) bool { return sp.a <= t.b && t.a <= sp.b }) {
			continue
		}
		taken = append(taken, sp)
		out = append(out, symlogTick{x: x, label: lab})
	}
	slices.SortFunc(out, func(a, b symlogTick) int { return cmp.Compare(a.x, b.x) })
	return out
}

// decadeLabel writes 0 or ±10ʲ briefly: 0.001, 0.01, 0.1, 1, 10, 100, 1e3, 1e4, -1.
func decadeLabel(l float64) string {
	if l == 0 {
		return "0"
	}
	a := math.Abs(l)
	j := int(math.Round(math.Log10(a)))
	var s string
	switch {
	case j >= 3 || j <= -4:
		s = "1e" + strconv.Itoa(j)
	default:
		s = strconv.FormatFloat(math.Pow(10, float64(j)), 'f', max(0, -j), 64)
	}
	if l < 0 {
		s = "-" + s
	}
	return s
}
