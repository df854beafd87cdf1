package tui

import (
	"fmt"
	"math"
	"strings"

	"github.com/NimbleMarkets/ntcharts/canvas/runes"

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
	p := linePlot{logY: true, y0: math.NaN(), x0: math.NaN(), series: []plotSeries{
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
	if len(s.Spectrum) > 0 {
		lam = s.Spectrum[0]
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
	p := linePlot{y0: math.NaN(), x0: math.NaN(), zeroY: true, series: series}
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
	p := linePlot{y0: 0, y1: 1, x0: math.NaN(), series: series}
	p.draw(a.sub(0, 1, a.w, a.h-1))
}

func firstPoint(s *lab.Series) (lab.Point, bool) {
	if len(s.Points) == 0 {
		return lab.Point{}, false
	}
	return s.Points[0], true
}

// spectrumPanel draws λ₁…λ_k as bars; with gShare (the narrow layout, which has no G/F
// panel) each row also gives the G share vᵢᵀGvᵢ/λᵢ of the latest split.
func (m Model) spectrumPanel(a area, gShare bool) {
	s := &m.snap
	k := len(s.Spectrum)
	var items [][]seg
	if s.BasisStep >= 0 {
		items = append(items, []seg{{fmt.Sprintf("@%d", s.BasisStep), inkLabel}})
	}
	if len(s.Residuals) > 0 {
		r := 0.0
		for _, v := range s.Residuals {
			r = math.Max(r, v)
		}
		if s.Converged {
			items = append(items, []seg{{"residual ≤ " + num(r, 1), inkLabel}})
		} else {
			items = append(items, []seg{{"not converged: residual " + num(r, 1), inkWarn}})
		}
	}
	if gShare && len(s.GGN) > 0 {
		items = append(items, []seg{{"G share @" + fmt.Sprint(s.SplitStep), inkLabel}})
	}
	title := "spectrum"
	if k > 0 {
		title = "spectrum λ₁…λ" + sub(k)
	}
	titleLine(a, title, items...)
	if k == 0 {
		a.text(0, 2, "no eigenspace yet (e computes it)", inkLabel)
		return
	}
	rows := a.h - 1
	show := min(k, rows)
	if k > rows {
		show = max(0, rows-1)
	}
	lw := 1 + len([]rune(sub(k))) // "λ₁₀"
	top := 0.0
	for _, v := range s.Spectrum {
		top = math.Max(top, math.Abs(v))
	}
	for i := 0; i < show; i++ {
		y := 1 + i
		x := a.text(0, y, "λ"+sub(i+1), inkLabel)
		v := fmt.Sprintf("%8s", num(s.Spectrum[i], 4))
		x = a.text(lw+1, y, v, inkNone)
		tail := ""
		if gShare && i < len(s.GGN) && s.Spectrum[i] != 0 && i < len(s.Func) {
			tail = " G " + pct(s.GGN[i]/(s.GGN[i]+s.Func[i]))
		}
		bw := a.w - x - 1 - len([]rune(tail))
		if bw > 0 && top > 0 {
			hbar(a, x+1, y, bw, math.Max(0, s.Spectrum[i])/top, inkSharp)
		}
		if tail != "" {
			a.text(a.w-len([]rune(tail)), y, tail, inkLabel)
		}
	}
	if show < k {
		a.text(0, 1+show, fmt.Sprintf("… %d more, down to λ%s %s", k-show, sub(k), num(s.Spectrum[k-1], 3)), inkLabel)
	}
}

// hbar draws a horizontal bar of frac×w cells from (x, y), in eighths of a cell.
func hbar(a area, x, y, w int, frac float64, k ink) {
	cells := frac * float64(w)
	full := int(cells)
	for i := 0; i < full && i < w; i++ {
		a.set(x+i, y, runes.FullBlock, k)
	}
	if full < w {
		if r := runes.LeftBlockElementFromFloat64(cells - float64(full)); r != runes.Null {
			a.set(x+full, y, r, k)
		}
	}
}

// splitPanel draws the GGN/functional split λᵢ = Gᵢ + Fᵢ (Gᵢ = vᵢᵀGvᵢ, Fᵢ = vᵢᵀFvᵢ) of the
// dominant directions as two-part bars (█ G, then ▓ a positive F, or ░ over the end of G
// for a negative F, so the solid part always ends at λᵢ), and the curvature energies in V.
func (m Model) splitPanel(a area) {
	s := &m.snap
	var items [][]seg
	if len(s.GGN) > 0 {
		items = append(items, []seg{{fmt.Sprintf("@%d", s.SplitStep), inkLabel}})
	}
	items = append(items, []seg{{"█", inkG}, {" G ", inkLabel}, {"▓", inkF}, {" F>0 ", inkLabel}, {"░", inkF}, {" F<0", inkLabel}})
	titleLine(a, "split λᵢ = Gᵢ + Fᵢ", items...)
	n := min(len(s.GGN), len(s.Func))
	// The energies E_A = ‖VᵀAV‖²_F/‖A‖²_F at the bottom, when there is room.
	var foot []string
	if a.h >= 6 && s.Energy != ([3]lab.Estimate{}) { // all zero: never estimated
		e := s.Energy
		f := func(name string, x lab.Estimate) string {
			if math.IsNaN(x.Mean) {
				return name + " –"
			}
			return fmt.Sprintf("%s %.0f±%.0f%%", name, 100*x.Mean, math.Ceil(100*x.Stderr))
		}
		es := f("H", e[0]) + "  " + f("G", e[1]) + "  " + f("F", e[2])
		if line := "energy in V: " + es; len([]rune(line)) <= a.w {
			foot = append(foot, line)
		} else {
			foot = append(foot, "energy in V:", "  "+es)
		}
		if ov := last(s.History.Overlap); !math.IsNaN(ov) && a.h >= 9 {
			foot = append(foot, "overlap with the last basis "+num(ov, 4))
		}
	}
	for i, l := range foot {
		a.text(0, a.h-len(foot)+i, l, inkLabel)
	}
	if n == 0 {
		a.text(0, 2, "no split yet (e computes one)", inkLabel)
		return
	}
	rows := a.h - 1 - len(foot)
	if len(foot) > 0 {
		rows-- // a blank line above the energies
	}
	show := min(n, rows)
	if n > rows {
		show = max(0, rows-1)
	}
	lw := 1 + len([]rune(sub(n)))
	top := 0.0
	for i := 0; i < n; i++ {
		top = math.Max(top, math.Max(s.GGN[i], s.GGN[i]+s.Func[i]))
	}
	for i := 0; i < show; i++ {
		y := 1 + i
		gv, fv := s.GGN[i], s.Func[i]
		a.text(0, y, "v"+sub(i+1), inkLabel)
		x := a.text(lw, y, fmt.Sprintf(" %7s %7s", num(gv, 3), signed(fv)), inkNone)
		bw := a.w - x - 1
		if bw <= 0 || top <= 0 {
			continue
		}
		cells := func(v float64) int { return int(math.Round(math.Max(0, v) / top * float64(bw))) }
		lam, gc := cells(gv+fv), cells(gv)
		for j := 0; j < bw; j++ {
			switch {
			case j < min(gc, lam):
				a.set(x+1+j, y, '█', inkG)
			case fv >= 0 && j < lam:
				a.set(x+1+j, y, '▓', inkF)
			case fv < 0 && j < gc:
				a.set(x+1+j, y, '░', inkF)
			}
		}
	}
	if show < n {
		a.text(0, 1+show, fmt.Sprintf("… %d more", n-show), inkLabel)
	}
}

func signed(v float64) string {
	if v > 0 {
		return "+" + num(v, 3)
	}
	return num(v, 3)
}

// eventTag names and colours an event kind of lab.Event.
func eventTag(kind string) (string, ink) {
	switch kind {
	case "command":
		return "set", inkLabel
	case "refresh":
		return "eigen", inkChiG
	case "divergence":
		return "DIVERGED", inkWarn
	case "rollback":
		return "rollback", inkNote
	case "checkpoint":
		return "ckpt", inkOK
	case "error":
		return "ERROR", inkWarn
	}
	return kind, inkLabel
}

// eventsPanel lists the newest events, newest last: step, kind, text. An event's text
// wraps onto at most wrap lines.
func (m Model) eventsPanel(a area, titled bool, wrap int) {
	ev := m.snap.Events
	y0 := 0
	if titled {
		titleLine(a, "events", []seg{{"checkpoints " + stepsList(m.snap.Checkpoints), inkLabel}})
		y0 = 1
	}
	rows := a.h - y0
	if rows <= 0 || len(ev) == 0 {
		return
	}
	if len(ev) > rows {
		ev = ev[len(ev)-rows:]
	}
	sw := 1
	for _, e := range ev {
		sw = max(sw, len(fmt.Sprint(e.Step)))
	}
	indent := sw + 1 + 9 // "step tag      "
	avail := a.w - indent
	if avail < 8 {
		return
	}
	type line struct {
		ev    *lab.Event
		first bool
		text  string
	}
	var lines []line // newest event first, its lines in order
	for i := len(ev) - 1; i >= 0 && len(lines) < rows; i-- {
		parts := wrapText(ev[i].Text, avail, wrap)
		block := make([]line, len(parts))
		for j, p := range parts {
			block[j] = line{&ev[i], j == 0, p}
		}
		if len(lines)+len(block) > rows {
			block = block[:rows-len(lines)]
			if len(block) > 0 && len(parts) > len(block) {
				b := &block[len(block)-1]
				b.text = string([]rune(b.text)[:max(0, len([]rune(b.text))-1)]) + "…"
			}
		}
		lines = append(block, lines...)
	}
	for i, l := range lines {
		y := y0 + i
		if l.first {
			tag, tk := eventTag(l.ev.Kind)
			a.text(0, y, fmt.Sprintf("%*d ", sw, l.ev.Step), inkLabel)
			a.text(sw+1, y, tag, tk)
		}
		k := inkNone
		if l.ev.Kind == "divergence" || l.ev.Kind == "error" {
			k = inkWarn
		}
		a.text(indent, y, l.text, k)
	}
}

// wrapText breaks s at spaces into lines of at most w runes, at most n lines; a line cut
// short ends in "…".
func wrapText(s string, w, n int) []string {
	var out []string
	var cur []rune
	for _, word := range strings.Fields(s) {
		wr := []rune(word)
		if len(cur) > 0 && len(cur)+1+len(wr) > w {
			out = append(out, string(cur))
			cur = cur[:0]
		}
		if len(cur) > 0 {
			cur = append(cur, ' ')
		}
		cur = append(cur, wr...)
	}
	if len(cur) > 0 {
		out = append(out, string(cur))
	}
	cut := func(l string) string {
		r := []rune(l)
		return string(r[:min(len(r), w-1)]) + "…"
	}
	for i, l := range out {
		if len([]rune(l)) > w {
			out[i] = cut(l)
		}
	}
	if len(out) > n {
		out = out[:n]
		out[n-1] = cut(out[n-1])
	}
	return out
}

// stepsList formats checkpoint steps: "0, 100, 200".
func stepsList(s []int) string {
	if len(s) == 0 {
		return "none"
	}
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = fmt.Sprint(v)
	}
	return strings.Join(parts, ", ")
}
