package tui

import (
	"fmt"
	"math"

	"sharpflat/lab"
)

// The line charts of a race: every arm's train loss, λ₁ and felt curvature against the edge,
// and χ, one glyph and ink an arm, with each arm named in the legend with its current value.

// raceLossPanel draws every arm's full-train loss (log scale).
func (m Model) raceLossPanel(a area) {
	arms := m.raceArms()
	head := []item{title("loss", "", keep), note("train (log scale)", "train", inkLabel, 0)}
	var keys []item
	var series []plotSeries
	for i := range arms {
		keys = append(keys, armKey(&arms[i], num(lastOf(arms[i].History.TrainLoss), 3), 2))
	}
	series = m.raceSeries(arms, func(a *raceArm) []lab.Point { return a.History.TrainLoss.Points }, marker,
		plotSeries{ink: inkTrain, mode: marker, glyph: '•'})
	n := raceLegend(a, head, append(keys, compareLegend(m.runs)...), armLines(a.h))
	shared, own := m.raceMarks(arms)
	p := linePlot{logY: true, y0: math.NaN(), marks: shared, armMarks: own,
		series: append(compareSeries(m.runs, compareLoss), series...)}
	p.draw(a.sub(0, n, a.w, a.h-n))
}

// raceSharpnessPanel draws every arm's λ₁ (its glyph) and the curvature its update feels (a
// line in its ink: on λ₁ for SGD and Dom-SGD, λ_{k+1} for Bulk-SGD), against the edge 2/η.
// Each arm's key gives its λ₁ and what it feels as a share of its edge ("△ Dom 8.78 · λ₁
// 44%"), "!" past the edge; the short form keeps the share ("△ Dom 44%").
func (m Model) raceSharpnessPanel(a area) {
	arms := m.raceArms()
	s := &m.snap
	thr := s.Threshold
	thrName := edgeName(&s.Config)
	var keys []item
	var series []plotSeries
	series = append(
		m.raceSeries(arms, func(a *raceArm) []lab.Point { return a.History.Felt.Points }, solid, plotSeries{ink: inkSharp, mode: solid}),
		m.raceSeries(arms, func(a *raceArm) []lab.Point { return a.History.Sharpness.Points }, marker,
			plotSeries{ink: inkSharp, mode: solid})...)
	top := 0.0
	edges := map[float64]bool{}
	for i := range arms {
		ar := &arms[i]
		for _, p := range ar.History.Sharpness.Points {
			top = math.Max(top, p.V)
		}
		if t := ar.State.Threshold; !math.IsNaN(t) {
			edges[t] = true
		}
		l1 := lastOf(ar.History.Sharpness)
		if len(ar.State.Basis.Values) > 0 {
			l1 = ar.State.Basis.Values[0] // the basis in use: newer than the history after a refresh while paused
		}
		g, name := seg{string(ar.glyph), ar.ink}, seg{" " + ar.name(), inkLabel}
		felt, feltName := m.armFelt(ar)
		var share seg
		switch r := felt / ar.State.Threshold; {
		case math.IsNaN(r):
			share = seg{"", inkLabel}
		case r > 1:
			share = seg{fmt.Sprintf(" %.2f×!", r), inkWarn}
		default:
			share = seg{" " + pct(r), inkLabel}
		}
		full := []seg{g, {name.text + " " + num(l1, 3), inkLabel}}
		if share.text != "" {
			full = append(full, seg{" · " + feltName, inkLabel}, share)
		}
		keys = append(keys, item{full: full, short: []seg{g, name, share}, rank: 4, kind: kindKey})
	}
	head := []item{title("sharpness λ₁", "λ₁", 0)}
	logY := top > 5*thr
	switch {
	case math.IsNaN(thr):
		head = append(head, note("adam: no edge line", "adam", inkLabel, 5))
	case top > 0 && thr > 3*top:
		v := " " + thrName + " " + num(thr, 4) + " ↑"
		head = append(head, item{full: []seg{{"╌", inkEdge}, {v + " above the chart", inkLabel}},
			short: []seg{{"╌", inkEdge}, {v, inkLabel}}, rank: 1, kind: kindKey})
	default:
		// One edge an arm (equal edges draw over each other), the common past's once.
		rules := m.raceSeries(arms, func(a *raceArm) []lab.Point { return a.History.Threshold.Points }, rule,
			plotSeries{ink: inkEdge, mode: rule})
		for i := range rules {
			rules[i].ink = inkEdge
		}
		series = append(rules, series...)
		edge := seriesKey("╌", inkEdge, thrName, num(thr, 4), 5)
		if len(edges) > 1 { // arms at different η: the focused arm's edge is named
			edge = seriesKey("╌", inkEdge, thrName, num(thr, 4)+" (focus)", 5)
		}
		head = append(head, edge)
	}
	head = append(head, note("felt, % of the edge", "% of edge", inkLabel, 0))
	if logY {
		head = append(head, note("(log scale)", "log", inkLabel, 1))
	}
	n := raceLegend(a, head, append(keys, compareLegend(m.runs)...), armLines(a.h))
	shared, own := m.raceMarks(arms)
	p := linePlot{y0: math.NaN(), zeroY: true, marks: shared, armMarks: own, logY: logY,
		series: append(compareSeries(m.runs, compareSharpness), series...)}
	p.draw(a.sub(0, n, a.w, a.h-n))
}

// raceAlignmentPanel draws every arm's χ of the minibatch gradient, averaged over the last
// chiWindow steps (one step's χ scatters too much to tell arms apart), and the random
// baseline √(k/P) of the focused arm.
func (m Model) raceAlignmentPanel(a area) {
	arms := m.raceArms()
	s := &m.snap
	rnd := math.NaN()
	if s.P > 0 {
		rnd = math.Sqrt(float64(s.Config.K) / float64(s.P))
	}
	var keys []item
	var series []plotSeries
	lastStep := 0
	means := make([][]lab.Point, len(arms))
	for i := range arms {
		ar := &arms[i]
		means[i] = trailingMean(ar.History.ChiGrad.Points, chiWindow)
		if mean := means[i]; len(mean) > 0 {
			lastStep = max(lastStep, mean[len(mean)-1].Step)
		}
		keys = append(keys, armKey(ar, num(chiNow(ar), 2), 2))
	}
	series = m.raceSeries(arms, func(a *raceArm) []lab.Point { return means[a.index] },
		marker, plotSeries{ink: inkChiG, mode: marker, glyph: '•'})
	head := []item{title("alignment χ", "χ", 0), seriesKey("╌", inkRandom, "random", num(rnd, 2), 1),
		note(fmt.Sprintf("g, mean of %d", chiWindow), "", inkLabel, 0)}
	n := raceLegend(a, head, append(keys, compareLegend(m.runs)...), armLines(a.h))
	if p0, ok := firstPoint(s.History.ChiGrad); ok && !math.IsNaN(rnd) {
		for _, r := range m.runs {
			lastStep = max(lastStep, r.Last)
		}
		series = append([]plotSeries{{pts: []lab.Point{{Step: p0.Step, V: rnd}, {Step: lastStep, V: rnd}}, ink: inkRandom, mode: rule}}, series...)
	}
	shared, own := m.raceMarks(arms)
	p := linePlot{y0: 0, y1: 1, marks: shared, armMarks: own, series: append(compareSeries(m.runs, compareChi), series...)}
	p.draw(a.sub(0, n, a.w, a.h-n))
}
