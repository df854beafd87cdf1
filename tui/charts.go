package tui

import (
	"fmt"
	"math"

	"sharpflat/lab"
	"sharpflat/lab/train"
)

// last returns the newest value of a series (NaN when empty).
func last(s *lab.Series) float64 {
	if p, ok := s.Last(); ok {
		return p.V
	}
	return math.NaN()
}

func (m Model) lossPanel(a area) {
	h := m.snap.History
	items := []item{
		title("loss", "", keep),
		seriesKey("•", inkTrain, "train", num(last(h.TrainLoss), 3), 2),
		seriesKey("×", inkTest, "test", num(last(h.TestLoss), 3), 2),
		seriesKey("·", inkBatch, "batch", num(last(h.Loss), 3), 2),
	}
	if acc := last(h.TestAcc); !math.IsNaN(acc) {
		items = append(items, note("test acc "+pct(acc), "acc "+pct(acc), inkLabel, 1))
	}
	items = append(items, note("(log scale)", "", inkLabel, 0))
	n := legendRows(a, items, compareLegend(m.runs))
	p := linePlot{logY: true, y0: math.NaN(), marks: h.Marks, series: append(compareSeries(m.runs, compareLoss),
		plotSeries{pts: h.Loss.Points, ink: inkBatch, mode: scatter},
		plotSeries{pts: h.TestLoss.Points, ink: inkTest, mode: marker, glyph: '×'},
		plotSeries{pts: h.TrainLoss.Points, ink: inkTrain, mode: marker, glyph: '•'},
	)}
	p.draw(a.sub(0, n, a.w, a.h-n))
}

// felt is the curvature the update in force moves along (train.Rule.Felt: for a blend
// max(w_dom·λ₁, w_bulk·λ_{k+1})), and its name: "λ₁" (SGD, Dom-SGD), "λ₁₁" (Bulk-SGD,
// k = 10), or a weighted one ("0.5·λ₁"; Dom-damped's "0.4·λ₁" when λ₁ is above the edge).
func (m Model) felt() (v float64, name string) {
	s := &m.snap
	l1 := math.NaN()
	if len(s.Basis.Values) > 0 {
		l1 = s.Basis.Values[0]
	}
	f := s.Config.Rule().Felt(train.Curvatures{Top: l1, Next: s.Basis.Next, Edge: s.Threshold})
	name = "λ₁"
	if f.Bulk {
		name = "λ" + sub(len(s.Basis.Values)+1)
	}
	if math.IsNaN(f.V) || f.Weight == 1 {
		return f.V, name
	}
	return f.V, num(f.Weight, 2) + "·" + name
}

// batchFelt is λ_d, the update's batch curvature, when it is the gauge to hold against the
// edge: the training takes minibatches, batch sharpness is being estimated, and the latest
// estimate drew minibatches under the update in force (no update or rollback mark since).
// Under minibatch SGD it is batch sharpness, not the full-batch λ₁, that settles at 2/η
// (Andreyev & Beneventano, arXiv 2412.20553); along a projected update, λ_d.
func (m Model) batchFelt() (float64, bool) {
	s := &m.snap
	h := s.History
	if h == nil || s.Config.Batch <= 0 {
		return math.NaN(), false
	}
	p, ok := h.FeltBatch.Last()
	if q, _ := h.UpdateSharp.Last(); !ok || q.Step != p.Step {
		return math.NaN(), false // none, or the latest estimate took the full batch
	}
	for _, mk := range h.Marks {
		// The estimate at step p.Step was taken before that step's update, under the rule
		// in force from the step before: a mark at p.Step or later changed it since.
		if (mk.Kind == lab.MarkUpdate || mk.Kind == lab.MarkRollback) && mk.Step >= p.Step {
			return math.NaN(), false
		}
	}
	return p.V, true
}

// batchKey is the key of λ_B or λ_d: a series key that degrades as a note of rank 0, so it
// loses its value, then goes, before any other item of the line gives anything up (the
// title aside): they are measured only every few steps and add to λ₁ and the edge.
func batchKey(glyph string, k ink, name, value string) item {
	it := seriesKey(glyph, k, name, value, 0)
	it.kind = kindNote
	return it
}

func (m Model) sharpnessPanel(a area) {
	s := &m.snap
	h := s.History
	// The basis in use: newer than the history after a refresh while paused.
	lam, next, thr := last(h.Sharpness), last(h.BulkTop), s.Threshold
	if len(s.Basis.Values) > 0 {
		lam, next = s.Basis.Values[0], s.Basis.Next
	}
	nextName := "λ" + sub(len(s.Basis.Values)+1)
	thrName := edgeName(&s.Config)
	felt, feltName := m.felt()
	if v, ok := m.batchFelt(); ok {
		felt, feltName = v, "λ_d"
	}
	series := []plotSeries{
		{pts: h.Sharpness.Points, ink: inkSharp, mode: solid},
		{pts: h.BulkTop.Points, ink: inkBulk, mode: marker, glyph: '+'},
	}
	// Batch sharpness λ_B and the update's batch curvature λ_d where they were estimated.
	// Their keys give way first when the line is short (a note's rank 0), before any other
	// key loses its value.
	var batchKeys []item
	for _, b := range []struct {
		s     *lab.Series
		glyph rune
		ink   ink
		name  string
	}{{h.BatchSharp, '∘', inkChiF, "λ_B"}, {h.UpdateSharp, '⋄', inkTest, "λ_d"}} {
		if len(b.s.Points) == 0 {
			continue
		}
		series = append(series, plotSeries{pts: b.s.Points, ink: b.ink, mode: marker, glyph: b.glyph})
		batchKeys = append(batchKeys, batchKey(string(b.glyph), b.ink, b.name, num(last(b.s), 3)))
	}
	// With room for two lines, the second says what the update feels against the edge.
	twoLines := a.h >= 10
	lamKey := seriesKey("─", inkSharp, "λ₁", num(lam, 4), 4)
	var wdNote item
	if wd := s.Config.WeightDecay; wd > 0 {
		// Every eigenvalue on this chart is of H + λI: λ₁'s key says so in both its forms,
		// and the second line, when it has room, says by how much (the glossary's "weight
		// decay" tells what it does to the edge).
		lamKey.full[1].text += " +wd"
		lamKey.short[1].text += " +wd"
		wdNote = note("λ₁ incl. wd "+num(wd, 3), "", inkLabel, 0)
	}
	items := []item{title("sharpness", "", 0), lamKey}
	if !math.IsNaN(next) {
		items = append(items, seriesKey("+", inkBulk, nextName, num(next, 3), 3))
	}
	items = append(items, batchKeys...)
	series = append(compareSeries(m.runs, compareSharpness), series...)
	top := 0.0
	for _, s := range []*lab.Series{h.Sharpness, h.BatchSharp, h.UpdateSharp} {
		for _, p := range s.Points {
			top = math.Max(top, p.V)
		}
	}
	for _, r := range m.runs {
		for _, p := range r.Sharpness {
			top = math.Max(top, p.V)
		}
	}
	// When λ₁ runs far above the edge (Bulk-SGD at a large η), a log scale keeps λ_{k+1}
	// and the edge apart instead of squashing them into the floor; the legend says so.
	logY := top > 5*thr
	switch {
	case math.IsNaN(thr):
		items = append(items, note("adam: no edge line", "adam", inkLabel, 5))
	case top > 0 && thr > 3*top:
		// A far-away threshold would flatten λ₁ into the floor: name it, and say where it is.
		// Its words go before any value does (rank 1: the glossary explains the ↑); the key
		// itself stays to the last, as every key does.
		v := " " + thrName + " " + num(thr, 4) + " ↑"
		items = append(items, item{
			full:  []seg{{"╌", inkEdge}, {v + " above the chart", inkLabel}},
			short: []seg{{"╌", inkEdge}, {v, inkLabel}},
			rank:  1, kind: kindKey,
		})
	default:
		series = append([]plotSeries{{pts: h.Threshold.Points, ink: inkEdge, mode: rule}}, series...)
		items = append(items, seriesKey("╌", inkEdge, thrName, num(thr, 4), 5))
	}
	// What the update feels, against the edge: "!" past it, a warning that outlasts the
	// values of the keys.
	var feltLine item
	if r := felt / thr; !math.IsNaN(r) {
		if r > 1 {
			x := fmt.Sprintf("%.2f×", r)
			feltLine = note(fmt.Sprintf("felt %s %s = %s the edge!", feltName, num(felt, 3), x), "", inkWarn, keep)
			items = append(items, note("felt "+feltName+" "+x+" edge!", x+" edge!", inkWarn, 6))
		} else {
			feltLine = note(fmt.Sprintf("felt %s %s = %s of the edge", feltName, num(felt, 3), pct(r)), "", inkLabel, keep)
			items = append(items, note("felt "+feltName+" "+pct(r)+" of edge", pct(r)+" of edge", inkLabel, 1))
		}
	}
	var extra []item // what the second line says besides the felt curvature
	if age := m.basisAge(); age > 0 && m.stale() {
		extra = append(extra, note(fmt.Sprintf("stale: basis %d steps old", age), "stale", inkStale, 2))
	}
	if logY {
		extra = append(extra, note("(log scale)", "log", inkLabel, 0))
	}
	if wdNote.full != nil {
		extra = append(extra, wdNote)
	}
	n := 0
	if twoLines && feltLine.full != nil {
		items = items[:len(items)-1]
		legend(a, items...)
		n = 1 + legendRows(a.sub(0, 1, a.w, a.h-1), append([]item{feltLine}, extra...), compareLegend(m.runs))
	} else {
		n = legendRows(a, append(items, extra...), compareLegend(m.runs))
	}
	p := linePlot{y0: math.NaN(), zeroY: true, marks: h.Marks, series: series, logY: logY}
	p.draw(a.sub(0, n, a.w, a.h-n))
}

// basisAge is how many steps old the basis in use is (-1: none).
func (m Model) basisAge() int {
	if m.snap.Basis.Step < 0 {
		return -1
	}
	return m.snap.Step - m.snap.Basis.Step
}

// stale reports whether the basis is older than the refresh schedule promises (the rule of
// lab.History's stale points).
func (m Model) stale() bool {
	return lab.Stale(m.snap.Step, m.snap.Basis.Step, m.snap.Config.RefreshEvery)
}

func (m Model) alignmentPanel(a area) {
	s := &m.snap
	h := s.History
	rnd := math.NaN()
	if s.P > 0 {
		rnd = math.Sqrt(float64(s.Config.K) / float64(s.P))
	}
	n := legendRows(a, []item{
		title("alignment χ", "χ", 0),
		seriesKey("·", inkChiG, "g", num(last(h.ChiGrad), 2), 2),
		seriesKey("•", inkChiF, "∇L", num(last(h.ChiFullGrad), 2), 2),
		seriesKey("╌", inkRandom, "random", num(rnd, 2), 1),
	}, compareLegend(m.runs))
	series := append(compareSeries(m.runs, compareChi),
		plotSeries{pts: h.ChiGrad.Points, ink: inkChiG, mode: scatter},
		plotSeries{pts: h.ChiFullGrad.Points, ink: inkChiF, mode: marker, glyph: '•'},
	)
	if p0, ok := firstPoint(h.Loss); ok && !math.IsNaN(rnd) {
		p1, _ := h.Loss.Last()
		for _, r := range m.runs {
			p1.Step = max(p1.Step, r.Last)
		}
		series = append([]plotSeries{{pts: []lab.Point{{Step: p0.Step, V: rnd}, {Step: p1.Step, V: rnd}},
			ink: inkRandom, mode: rule}}, series...)
	}
	p := linePlot{y0: 0, y1: 1, marks: h.Marks, series: series}
	p.draw(a.sub(0, n, a.w, a.h-n))
}

func firstPoint(s *lab.Series) (lab.Point, bool) {
	if len(s.Points) == 0 {
		return lab.Point{}, false
	}
	return s.Points[0], true
}
