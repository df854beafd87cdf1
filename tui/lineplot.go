package tui

import (
	"math"
	"slices"

	"github.com/NimbleMarkets/ntcharts/canvas/runes"

	"sharpflat/lab"
)

// drawMode is how a series is drawn.
type drawMode int

const (
	solid   drawMode = iota // a braille line through the points
	dashed                  // the same, two dots on, two off
	scatter                 // the points alone (noisy series: the dots show the spread)
	marker                  // one glyph per column at the column's newest point (cell resolution)
	rule                    // a level drawn with ╌ cells, holding each value until the next
)

// plotSeries is one series of a line plot, X = step. Series differ by pattern as well as by
// ink (braille line, braille cloud, a glyph, a ╌ rule), so that they stay apart without
// colour.
type plotSeries struct {
	pts   []lab.Point
	ink   ink
	mode  drawMode
	glyph rune // the glyph of a marker series
}

// linePlot draws series against the step with braille dots, with Y and (if there is room)
// X axes and "nice" tick labels. Every range is computed from the points drawn (or fixed),
// never accumulated, so the plot follows the data both ways.
type linePlot struct {
	series []plotSeries
	marks  []lab.Mark // vertical marks with a short label: the update changed, a rollback, a divergence
	// armMarks are marks of a race's arms, each in its arm's ink (drawn with marks, by step).
	armMarks []armMark
	logY     bool    // plot log10 of the values (labels stay in the values' units)
	y0, y1   float64 // a fixed Y range (in value units); NaN: from the data
	zeroY    bool    // a data Y range includes 0 (linear plots)
}

// armMark is a mark that belongs to one arm of a race: its label starts with the arm's
// glyph, and the mark and the label are drawn in the arm's ink.
type armMark struct {
	step  int
	label string
	ink   ink
}

// plotMarks is every mark of p, oldest first: marks in the ink of their kind, arm marks in
// their arm's.
func (p *linePlot) plotMarks() []armMark {
	out := make([]armMark, 0, len(p.marks)+len(p.armMarks))
	for _, mk := range p.marks {
		out = append(out, armMark{mk.Step, mk.Label, markInk(mk.Kind)})
	}
	out = append(out, p.armMarks...)
	slices.SortStableFunc(out, func(a, b armMark) int { return a.step - b.step })
	return out
}

// xAxisMinRows is the plot height from which an X axis with step labels is drawn.
const xAxisMinRows = 7

// draw renders the plot into a.
func (p *linePlot) draw(a area) {
	if a.w < 8 || a.h < 2 {
		return
	}
	tf := func(v float64) float64 { return v }
	if p.logY {
		tf = func(v float64) float64 { return math.Log10(math.Max(v, 1e-300)) }
	}
	// Ranges from the finite points.
	xlo, xhi := math.Inf(1), math.Inf(-1)
	ylo, yhi := math.Inf(1), math.Inf(-1)
	for _, s := range p.series {
		for _, pt := range s.pts {
			x := float64(pt.Step)
			xlo, xhi = math.Min(xlo, x), math.Max(xhi, x)
			if v := pt.V; !math.IsNaN(v) && !math.IsInf(v, 0) && (!p.logY || v > 0) {
				v = tf(v)
				ylo, yhi = math.Min(ylo, v), math.Max(yhi, v)
			}
		}
	}
	if math.IsInf(xlo, 0) {
		xlo, xhi = 0, 1
	}
	if xhi <= xlo {
		xhi = xlo + 1
	}
	if !math.IsNaN(p.y0) {
		ylo, yhi = tf(p.y0), tf(p.y1)
	} else {
		if math.IsInf(ylo, 0) {
			ylo, yhi = 0, 1
			if p.logY {
				ylo, yhi = -1, 0
			}
		}
		if p.zeroY && !p.logY {
			ylo, yhi = math.Min(ylo, 0), math.Max(yhi, 0)
		}
	}

	xAxis := a.h >= xAxisMinRows
	ph := a.h
	if xAxis {
		ph -= 2
	}
	maxTicks := max(2, ph/3)
	var yt []float64
	if p.logY {
		yt, ylo, yhi = logTicks(ylo, yhi, maxTicks)
	} else {
		yt, ylo, yhi = linearTicks(ylo, yhi, maxTicks)
	}
	labels := make([]string, len(yt))
	lw := 0
	for i, t := range yt {
		if p.logY {
			labels[i] = num(math.Pow(10, t), 2)
		} else {
			labels[i] = num(t, 3)
		}
		lw = max(lw, len([]rune(labels[i])))
	}
	pw := a.w - lw - 1
	if pw < 4 {
		return
	}
	rowOf := func(y float64) int {
		return ph - 1 - int(math.Round((y-ylo)/(yhi-ylo)*float64(ph-1)))
	}

	// Y axis, ticks and labels.
	for y := 0; y < ph; y++ {
		a.set(lw, y, runes.LineVertical, inkAxis)
	}
	last := -10
	for i, t := range yt {
		y := rowOf(t)
		if y < 0 || y >= ph || abs(y-last) < 1 {
			continue
		}
		a.set(lw, y, runes.LineVerticalLeft, inkAxis)
		a.text(lw-len([]rune(labels[i])), y, labels[i], inkLabel)
		last = y
	}

	// X axis with step ticks.
	if xAxis {
		a.set(lw, ph, runes.LineUpRight, inkAxis)
		for x := lw + 1; x < a.w; x++ {
			a.set(x, ph, runes.LineHorizontal, inkAxis)
		}
		xt, _, _ := linearTicks(xlo, xhi, max(2, pw/10))
		end := -1 // the column after the last label; labels keep a blank between them
		for _, t := range xt {
			if t < xlo || t > xhi || t != math.Trunc(t) {
				continue
			}
			col := lw + 1 + int(math.Round((t-xlo)/(xhi-xlo)*float64(pw-1)))
			s := count(t)
			start := min(max(col-len(s)/2, 0), a.w-len(s))
			if start <= end || start < 0 {
				continue
			}
			a.set(col, ph, runes.LineHorizontalUp, inkAxis)
			end = a.text(start, ph+1, s, inkLabel)
		}
	}

	// Marks under the series, their labels over them.
	plot := a.sub(lw+1, 0, pw, ph)
	colOf := func(step int) int { return int(math.Round((float64(step) - xlo) / (xhi - xlo) * float64(pw-1))) }
	marks := p.plotMarks()
	var markCols []int
	for _, mk := range marks {
		if float64(mk.step) < xlo || float64(mk.step) > xhi {
			markCols = append(markCols, -1)
			continue
		}
		c := colOf(mk.step)
		markCols = append(markCols, c)
		for y := 0; y < ph; y++ {
			plot.set(c, y, '┊', mk.ink)
		}
	}
	// Rules first, then lines and clouds, then markers on top.
	for _, order := range []drawMode{rule, solid, marker} {
		for _, s := range p.series {
			layer := s.mode
			if layer == dashed || layer == scatter {
				layer = solid
			}
			if layer == order {
				p.drawSeries(plot, s, tf, xlo, xhi, ylo, yhi)
			}
		}
	}
	end := -1 // the column after the last label
	for i, mk := range marks {
		c := markCols[i]
		if c < 0 || mk.label == "" {
			continue
		}
		n := len([]rune(mk.label))
		x := c + 1
		if x+n > pw {
			x = c - n
		}
		if x <= end || x < 0 {
			continue
		}
		end = plot.text(x, 0, mk.label, mk.ink)
	}
}

// markInk is the ink of a mark of kind k.
func markInk(k lab.MarkKind) ink {
	switch k {
	case lab.MarkDivergence:
		return inkWarn
	case lab.MarkRollback:
		return inkNote
	}
	return inkLabel
}

// drawSeries draws one series into the plot area.
func (p *linePlot) drawSeries(plot area, s plotSeries, tf func(float64) float64, xlo, xhi, ylo, yhi float64) {
	dw, dh := float64(2*plot.w-1), float64(4*plot.h-1)
	var phase int
	havePrev := false
	var px0, py0 int
	ruleCol, ruleRow := -1, 0
	for _, pt := range s.pts {
		x := float64(pt.Step)
		v := pt.V
		if math.IsNaN(v) || (p.logY && v <= 0) {
			havePrev = false
			continue
		}
		y := tf(v)
		if math.IsInf(y, 0) {
			havePrev = false
			continue
		}
		// Clamp to the plot: values outside a fixed range sit on its edge.
		fy := math.Max(0, math.Min(1, (y-ylo)/(yhi-ylo)))
		px := int(math.Round((x - xlo) / (xhi - xlo) * dw))
		py := int(math.Round((1 - fy) * dh))
		k := s.ink
		if pt.Stale {
			k = inkStale
		}
		switch s.mode {
		case marker:
			g := s.glyph
			if pt.Stale {
				g = '·'
			}
			plot.set(px/2, py/4, g, k) // the newest point of a column wins it
			continue
		case rule:
			c, r := px/2, py/4
			for ruleCol >= 0 && ruleCol < c {
				ruleCol++
				if ruleCol < c && plot.at(ruleCol, ruleRow) == 0 {
					plot.set(ruleCol, ruleRow, '╌', k)
				}
			}
			if plot.at(c, r) == 0 || plot.at(c, r) == '╌' {
				plot.set(c, r, '╌', k)
			}
			ruleCol, ruleRow = c, r
			continue
		}
		dash := 0
		switch {
		case pt.Stale:
			dash = 1
		case s.mode == dashed:
			dash = 2
		}
		switch {
		case havePrev && px == px0 && py == py0:
			// The same dot again: nothing to draw (and the dash pattern keeps its pace).
		case s.mode == scatter || !havePrev:
			plot.dot(px, py, k)
		default:
			plot.line(px0, py0, px, py, k, dash, &phase)
		}
		px0, py0, havePrev = px, py, true
	}
}

// niceStep returns a step of 1, 2 or 5 × 10ⁿ that cuts span into at most about n parts.
func niceStep(span float64, n int) float64 {
	raw := span / float64(max(1, n))
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= raw*(1-1e-9) {
			return m * mag
		}
	}
	return 10 * mag
}

// linearTicks returns tick values on [lo, hi] at a nice step, and the range widened to the
// ticks around it.
func linearTicks(lo, hi float64, n int) (ticks []float64, lo2, hi2 float64) {
	if !(hi > lo) {
		d := math.Max(math.Abs(lo)*0.1, 1e-9)
		lo, hi = lo-d, hi+d
	}
	st := niceStep(hi-lo, n)
	i0, i1 := math.Floor(lo/st+1e-9), math.Ceil(hi/st-1e-9)
	for i := i0; i <= i1; i++ {
		ticks = append(ticks, i*st)
	}
	return ticks, i0 * st, i1 * st
}

// logTicks works in log10 units: 1, 2 and 5 × 10ⁿ when there is room for them (n ticks),
// else decades (every few decades if there are many); the range widens to whole decades.
func logTicks(lo, hi float64, n int) (ticks []float64, lo2, hi2 float64) {
	lo2, hi2 = math.Floor(lo), math.Ceil(hi)
	if hi2 <= lo2 {
		hi2 = lo2 + 1
	}
	dec := hi2 - lo2
	if dec >= 2 && dec*3 > float64(n) {
		st := math.Ceil(dec / float64(max(1, n)))
		hi2 = lo2 + math.Ceil(dec/st)*st
		for t := lo2; t <= hi2; t += st {
			ticks = append(ticks, t)
		}
		return ticks, lo2, hi2
	}
	for d := lo2; d < hi2; d++ {
		for _, m := range []float64{1, 2, 5} {
			ticks = append(ticks, d+math.Log10(m))
		}
	}
	return append(ticks, hi2), lo2, hi2
}
