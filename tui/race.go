package tui

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"sharpflat/internal/safetext"
	"sharpflat/lab"
)

// A race (Snapshot.Race): arms forked from one state train in lockstep, and every line chart
// draws them together, each arm with a glyph and an ink of its own (raceLooks). The snapshot's
// State and History are the focused arm's, so whatever draws one run (the optimizer bar, the
// spectrum, the split, the banner) draws the focused arm unchanged; this file draws the others
// over it. Before the fork every arm has the same past: it is drawn once, from the focused arm.

// maxArms is the most arms a race has.
const maxArms = lab.MaxArms

// raceGlyphs are the arms' markers by slot: SGD ◇, Dom-SGD △ and Bulk-SGD □ as the compared
// runs of an experiment switch get them in its plan's order, then three more.
var raceGlyphs = [maxArms]rune{'◇', '△', '□', '○', '☆', '◁'}

// armLook is how an arm is drawn: its glyph and ink.
type armLook struct {
	glyph rune
	ink   ink
}

// raceLooks gives each arm a slot: the first SGD, Dom-SGD and Bulk-SGD arm the slot of its
// rule (so that a rule keeps its glyph and colour from race to race), every other arm the
// first slot left, in order.
func raceLooks(arms []lab.ArmView) []armLook {
	slot := make([]int, len(arms))
	used := [maxArms]bool{}
	for i, a := range arms {
		slot[i] = -1
		if j := slices.Index([]string{"sgd", "dom", "bulk"}, strings.ToLower(a.Spec.Rule)); j >= 0 && !used[j] && plainArm(a.Spec) {
			slot[i], used[j] = j, true
		}
	}
	for i := range arms {
		for j := 0; slot[i] < 0 && j < maxArms; j++ {
			if !used[j] {
				slot[i], used[j] = j, true
			}
		}
	}
	looks := make([]armLook, len(arms))
	for i, s := range slot {
		s = max(0, s) % maxArms // more arms than slots: they share (the engine allows at most maxArms)
		looks[i] = armLook{raceGlyphs[s], inkArm + ink(s)}
	}
	return looks
}

// plainArm reports whether an arm is its rule alone (no η, k or momentum of its own).
func plainArm(s lab.ArmSpec) bool {
	return (s.LRScale == 0 || s.LRScale == 1) && s.K == 0 && !s.SetMomentum
}

// raceArm is an arm as the charts draw it.
type raceArm struct {
	lab.ArmView
	armLook
	index int // in the race
	focus bool
}

// raceArms returns the arms of the race in the race's order, or nil when no race is on.
func (m Model) raceArms() []raceArm {
	r := m.snap.Race
	if r == nil || len(r.Arms) == 0 {
		return nil
	}
	looks := raceLooks(r.Arms)
	out := make([]raceArm, len(r.Arms))
	for i, a := range r.Arms {
		if a.History == nil {
			a.History = lab.NewHistory()
		}
		out[i] = raceArm{a, looks[i], i, i == r.Focus}
	}
	return out
}

// drawOrder is the arms' indices in the order their series are drawn: the focused arm last,
// on top.
func drawOrder(arms []raceArm) []int {
	var order []int
	f := -1
	for i := range arms {
		if arms[i].focus {
			f = i
			continue
		}
		order = append(order, i)
	}
	if f >= 0 {
		order = append(order, f)
	}
	return order
}

// name is the arm's name as legends write it, with ✗ once it diverged.
func (a *raceArm) name() string {
	if a.Run == lab.Diverged {
		return a.Name + " ✗"
	}
	return a.Name
}

// raceSeries is one metric of every arm as plotted: the arms' common past once, from the
// focused arm, as past says (the lab's usual look: the race has not begun there), then each
// arm from the fork on in its ink (in mode, with its glyph for a marker), the focused arm
// last, on top. get returns an arm's points of the metric, ordered by step.
func (m Model) raceSeries(arms []raceArm, get func(*raceArm) []lab.Point, mode drawMode, past plotSeries) []plotSeries {
	at := m.snap.Race.At
	from := func(pts []lab.Point) int {
		i, _ := slices.BinarySearchFunc(pts, at, func(p lab.Point, step int) int { return p.Step - step })
		return i
	}
	var out []plotSeries
	for _, i := range drawOrder(arms) {
		a := &arms[i]
		pts := get(a)
		if a.focus {
			if j := from(pts); j > 0 {
				past.pts = pts[:min(len(pts), j+1)] // up to and with the fork
				out = append([]plotSeries{past}, out...)
			}
		}
		out = append(out, plotSeries{pts: pts[from(pts):], ink: a.ink, mode: mode, glyph: a.glyph})
	}
	return out
}

// raceMarks splits the marks of a race: those before the fork (the arms' common past, drawn
// once, as the focused arm has them), the fork itself (one mark, "race", in place of each
// arm's update mark there: the legends name the arms' updates), and each arm's own after it,
// labelled with its glyph, in its ink.
func (m Model) raceMarks(arms []raceArm) (shared []lab.Mark, own []armMark) {
	at := m.snap.Race.At
	own = append(own, armMark{at, "race", inkLabel})
	for _, a := range arms {
		for _, mk := range a.History.Marks {
			switch {
			case mk.Step == at && mk.Kind == lab.MarkUpdate:
			case mk.Step >= at:
				own = append(own, armMark{mk.Step, string(a.glyph) + mk.Label, a.ink})
			case a.focus:
				shared = append(shared, mk)
			}
		}
	}
	slices.SortStableFunc(own, func(a, b armMark) int { return a.step - b.step })
	return shared, own
}

// armKey is an arm's legend key: glyph, name and value (short form: glyph and name).
func armKey(a *raceArm, value string, rank int) item {
	return seriesKey(string(a.glyph), a.ink, a.name(), value, rank)
}

// raceHeader is what the header says of a race: that it is on, and which arm the keys act on
// (every arm, with A).
func (m Model) raceHeader() string {
	r := m.snap.Race
	st := m.c.Styles
	if r == nil || r.Focus < 0 || r.Focus >= len(r.Arms) {
		return ""
	}
	a := r.Arms[r.Focus]
	who := string(raceLooks(r.Arms)[r.Focus].glyph) + " " + safetext.Line(a.Name) // a lesson may name it
	if a.Run == lab.Diverged {
		who += " ✗ diverged" // the race runs on; this arm has stopped (u rolls it back)
	}
	if r.All {
		return st.Label.Render(fmt.Sprintf("race of %d · keys: ", len(r.Arms))) + st.Value.Render("all arms") +
			st.Label.Render(", focus ") + st.Value.Render(who)
	}
	return st.Label.Render(fmt.Sprintf("race of %d · focus ", len(r.Arms))) + st.Value.Render(who)
}

// armFelt is the curvature an arm's update feels and its name (Model.batchFelt's λ_d on
// minibatches when the arm's history has it, else Model.felt, on the arm's
// state).
func (m Model) armFelt(a *raceArm) (float64, string) {
	am := m
	am.snap.State, am.snap.History = a.State, a.History
	if v, ok := am.batchFelt(); ok {
		return v, "λ_d"
	}
	return am.felt()
}

// lastOf is the newest value of a series (NaN when there is none).
func lastOf(s *lab.Series) float64 {
	if s == nil {
		return math.NaN()
	}
	return last(s)
}

// raceLegend writes a race chart's legend: head (the title, the edge, notes) and the arms'
// keys (then any compared runs') on the first line when all fit there whole; otherwise head
// alone on the first line, degraded as any legend, and the keys on lines of their own below,
// whole (wrapped between keys) when they fit in maxLines lines, else in their short forms. It
// returns the lines used. Every key is drawn: short forms take as many lines as they need.
func raceLegend(a area, head, keys []item, maxLines int) int {
	all := append(slices.Clip(head), keys...)
	if lineWidth(all, make([]int, len(all))) <= a.w {
		legend(a, all...)
		return 1
	}
	legend(a, head...)
	for _, form := range []int{showFull, showShort} {
		lines := wrapItems(keys, form, a.w)
		if len(lines) <= maxLines || form == showShort {
			for i, l := range lines {
				drawLegend(a.sub(0, 1+i, a.w, 1), l, make([]int, len(l)))
			}
			return 1 + len(lines)
		}
	}
	return 1
}

// wrapItems puts items in form (showFull or showShort) on lines of w cells, two blanks
// between items, an item never split.
func wrapItems(items []item, form, w int) [][]item {
	var lines [][]item
	var cur []item
	x := 0
	for _, it := range items {
		f := it.form(form)
		if f == nil {
			f = it.full
		}
		one := item{full: f, kind: it.kind, rank: it.rank}
		n := segsWidth(f)
		if len(cur) > 0 && x+2+n > w {
			lines, cur, x = append(lines, cur), nil, 0
		}
		if len(cur) > 0 {
			x += 2
		}
		cur, x = append(cur, one), x+n
	}
	if len(cur) > 0 {
		lines = append(lines, cur)
	}
	return lines
}

// armLines is how many lines a race chart of h rows gives its arms' keys.
func armLines(h int) int { return max(1, (h-6)/4) }
