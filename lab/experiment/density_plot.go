package experiment

// The density figures of experiment curvature: the smoothed spectral density of H on a
// symmetric-log λ axis (negative eigenvalues exist, and the bulk spans decades near zero),
// with the exact top-k eigenvalues marked, λ_{k+1} (the top of the bulk when the basis holds
// every outlier) and the edge 2/η.

import (
	"fmt"
	"math"
	"strconv"

	"gonum.org/v1/plot"
)

// symLog is the symmetric-log scale of the λ axis,
//
//	s(λ) = sign(λ) · log₁₀(1 + |λ|/λ₀),
//
// linear within about ±λ₀ of zero and logarithmic beyond.
type symLog struct{ lin float64 }

func (s symLog) f(x float64) float64 { return math.Copysign(math.Log10(1+math.Abs(x)/s.lin), x) }

// Normalize implements plot.Normalizer.
func (s symLog) Normalize(min, max, x float64) float64 {
	a, b := s.f(min), s.f(max)
	if b == a {
		return 0.5
	}
	return (s.f(x) - a) / (b - a)
}

// symLogTicks marks 0 and ±10ᵉ for the powers of ten in range, labelling each.
type symLogTicks struct{ lin float64 }

func (t symLogTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	add := func(v float64) {
		if v >= lo && v <= hi {
			ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', 3, 64)})
		}
	}
	top := math.Max(math.Abs(lo), math.Abs(hi))
	var pos []float64
	// From the first power of ten at least 9λ₀ (s ≥ 1), so that the labels next to 0 do not
	// run into each other.
	for e := math.Ceil(math.Log10(9 * t.lin)); e <= math.Ceil(math.Log10(top)) && len(pos) < 12; e++ {
		pos = append(pos, math.Pow(10, e))
	}
	for i := len(pos) - 1; i >= 0; i-- {
		add(-pos[i])
	}
	add(0)
	for _, v := range pos {
		add(v)
	}
	if len(ticks) < 2 {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	return ticks
}

// densityPlot draws one density point: the density (log y), the top-k exact eigenvalues
// (vermillion), λ_{k+1} (green, dashed) and 2/η (black, dotted), on a symmetric-log λ axis
// with λ₀ the kernel width σ. legend adds the legend (the first panel of a row).
func densityPlot(title string, p *densityPoint, legend bool) *plot.Plot {
	pl := newPlot(title, fmt.Sprintf("λ (symmetric log, linear within ±%s = σ)", fmtG(p.Width, 2)), "density (log)")
	setLogY(pl)
	lin := p.Width
	if !(lin > 0) {
		lin = 1e-3
	}
	pl.X.Scale = symLog{lin}
	pl.X.Tick.Marker = symLogTicks{lin}
	pl.Legend.Top, pl.Legend.Left = true, true
	leg := func(s string) string {
		if legend {
			return s
		}
		return ""
	}
	top := 0.0
	for _, d := range p.Density {
		top = math.Max(top, d)
	}
	lo := top * 1e-6 // the Gaussian tails go to 1e-300: show six decades under the peak
	ys := make([]float64, len(p.Density))
	for i, d := range p.Density {
		ys[i] = math.NaN()
		if d >= lo {
			ys[i] = d
		}
	}
	addLine(pl, p.Lambda, ys, lineStyle{Color: plotColor(0), Width: 1.6}, leg("SLQ density of H"))
	vline := func(x float64, st lineStyle, legend string) {
		addLine(pl, []float64{x, x}, []float64{lo, top * 3}, st, legend)
	}
	k := min(p.K, len(p.Top))
	for i := range k {
		l := ""
		if i == 0 {
			l = leg(fmt.Sprintf("top-%d (exact)", k))
		}
		vline(p.Top[i], lineStyle{Color: plotColor(1), Width: 0.8}, l)
	}
	xmin, xmax := p.Lambda[0], p.Lambda[len(p.Lambda)-1]
	if k < len(p.Top) {
		vline(p.Top[k], lineStyle{Color: plotColor(2), Width: 1.4, Dashed: true}, leg("λ_{k+1}"))
	}
	if e := float64(p.Edge); e > 0 && !math.IsInf(e, 0) {
		vline(e, lineStyle{Color: plotColors[7], Width: 1.4, Dotted: true}, leg("2/η"))
		xmax = math.Max(xmax, 1.3*e)
	}
	pl.X.Min, pl.X.Max = xmin, xmax
	pl.Y.Min, pl.Y.Max = lo, top*300 // two decades of room for the legend
	return pl
}
