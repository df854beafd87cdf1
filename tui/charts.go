package tui

import (
	"math"

	"sharpflat/lab"
)

// chartsView draws the panels of l into one grid and renders it.
func (m Model) chartsView(l layout) string {
	g := newGrid(l.w, l.chartsH)
	a := g.all()
	if !m.have {
		msg := "waiting for the engine's first snapshot…"
		a.text(max(0, (l.w-len([]rune(msg)))/2), l.chartsH/2, msg, inkLabel)
		return g.render(&m.c.Styles.Ink)
	}
	in := func(r rect) area { return a.sub(r.x, r.y, r.w, r.h) }
	m.lossPanel(in(l.loss))
	m.sharpnessPanel(in(l.sharp))
	m.alignmentPanel(in(l.align))
	m.spectrumPanel(in(l.spectrum), !l.wide)
	if l.wide {
		m.splitPanel(in(l.split))
		m.eventsPanel(in(l.events), true, 3)
	} else {
		m.eventsPanel(in(l.events), false, 1)
	}
	return g.render(&m.c.Styles.Ink)
}

// seg is a run of text in one ink; a legend item is a few of them, kept or dropped whole.
type seg struct {
	text string
	k    ink
}

// titleLine writes the panel title and as many legend items as fit after it.
func titleLine(a area, title string, items ...[]seg) {
	x := a.text(0, 0, title, inkTitle)
	for _, it := range items {
		n := 0
		for _, s := range it {
			n += len([]rune(s.text))
		}
		if n == 0 || x+2+n > a.w {
			continue
		}
		x += 2
		for _, s := range it {
			x = a.text(x, 0, s.text, s.k)
		}
	}
}

// last returns the newest value of a series (NaN when empty).
func last(s *lab.Series) float64 {
	if p, ok := s.Last(); ok {
		return p.V
	}
	return math.NaN()
}

func (m Model) lossPanel(a area) {
	h := m.snap.History
	items := [][]seg{
		{{"─", inkTrain}, {" train " + num(last(h.TrainLoss), 3), inkLabel}},
		{{"╌", inkTest}, {" test " + num(last(h.TestLoss), 3), inkLabel}},
		{{"·", inkBatch}, {" batch " + num(last(h.Loss), 3), inkLabel}},
	}
	if acc := last(h.TestAcc); !math.IsNaN(acc) {
		items = append(items, []seg{{"test acc " + pct(acc), inkLabel}})
	}
	items = append(items, []seg{{"(log scale)", inkLabel}})
	titleLine(a, "loss", items...)
	p := linePlot{logY: true, y0: math.NaN(), series: []plotSeries{
		{pts: h.Loss.Points, ink: inkBatch, mode: scatter},
		{pts: h.TestLoss.Points, ink: inkTest, mode: dashed},
		{pts: h.TrainLoss.Points, ink: inkTrain, mode: solid},
	}}
	p.draw(a.sub(0, 1, a.w, a.h-1))
}

func (m Model) sharpnessPanel(a area) {
	s := &m.snap
	h := s.History
	// λ₁ of the basis in use: newer than the history after a refresh while paused.
	lam, thr := last(h.Sharpness), s.Threshold
	if len(s.Basis.Values) > 0 {
		lam = s.Basis.Values[0]
	}
	thrName := "2/η"
	if s.Config.Momentum > 0 {
		thrName = "(2+2β)/η"
	}
	series := []plotSeries{{pts: h.Sharpness.Points, ink: inkSharp, mode: solid}}
	// Past the edge the λ₁ value itself turns into the warning (a "!" without colour).
	above := lam > thr
	lamSeg := seg{" λ₁ " + num(lam, 4), inkLabel}
	if above {
		lamSeg = seg{" λ₁ " + num(lam, 4) + "!", inkWarn}
	}
	items := [][]seg{{{"─", inkSharp}, lamSeg}}
	top := 0.0
	for _, p := range h.Sharpness.Points {
		top = math.Max(top, p.V)
	}
	switch {
	case math.IsNaN(thr):
		items = append(items, []seg{{"adam: no " + thrName + " line", inkLabel}})
	case top > 0 && thr > 3*top:
		// A far-away threshold would flatten λ₁ into the floor: name it instead.
		items = append(items, []seg{{"╌", inkEdge}, {" " + thrName + " " + num(thr, 4) + " ↑", inkLabel}})
	default:
		series = append([]plotSeries{{pts: h.Threshold.Points, ink: inkEdge, mode: dashed}}, series...)
		items = append(items, []seg{{"╌", inkEdge}, {" " + thrName + " " + num(thr, 4), inkLabel}})
	}
	if r := lam / thr; !math.IsNaN(r) {
		if above {
			items = append(items, []seg{{num(r, 2) + "× the edge", inkWarn}})
		} else {
			items = append(items, []seg{{pct(r) + " of the edge", inkLabel}})
		}
	}
	titleLine(a, "sharpness", items...)
	p := linePlot{y0: math.NaN(), zeroY: true, series: series}
	p.draw(a.sub(0, 1, a.w, a.h-1))
}

func (m Model) alignmentPanel(a area) {
	s := &m.snap
	h := s.History
	rnd := math.NaN()
	if s.P > 0 {
		rnd = math.Sqrt(float64(s.Config.K) / float64(s.P))
	}
	items := [][]seg{
		{{"·", inkChiG}, {" g " + num(last(h.ChiGrad), 2), inkLabel}},
		{{"─", inkChiF}, {" ∇L " + num(last(h.ChiFullGrad), 2), inkLabel}},
		{{"╌", inkRandom}, {" random " + num(rnd, 2), inkLabel}},
	}
	titleLine(a, "alignment χ", items...)
	series := []plotSeries{
		{pts: h.ChiGrad.Points, ink: inkChiG, mode: scatter},
		{pts: h.ChiFullGrad.Points, ink: inkChiF, mode: solid},
	}
	if p0, ok := firstPoint(h.Loss); ok && !math.IsNaN(rnd) {
		p1, _ := h.Loss.Last()
		series = append([]plotSeries{{pts: []lab.Point{{Step: p0.Step, V: rnd}, {Step: p1.Step, V: rnd}},
			ink: inkRandom, mode: dashed}}, series...)
	}
	p := linePlot{y0: 0, y1: 1, series: series}
	p.draw(a.sub(0, 1, a.w, a.h-1))
}

func firstPoint(s *lab.Series) (lab.Point, bool) {
	if len(s.Points) == 0 {
		return lab.Point{}, false
	}
	return s.Points[0], true
}
