package tui

import (
	"fmt"
	"math"
	"strings"

	"sharpflat/lab"
)

// raceSpectrumPanel is the spectrum panel of a race: the focused arm's spectrum (the
// snapshot's State is that arm's) above a table of every arm, one line each: train loss,
// test accuracy, λ₁, λ_{k+1} and χ of g.
func (m Model) raceSpectrumPanel(a area, gShare bool) {
	rows := m.raceTable(a.w)
	n := min(len(rows), a.h)
	if a.h-n >= 2 {
		m.spectrumPanel(a.sub(0, 0, a.w, a.h-n), gShare)
	}
	for i, r := range rows[len(rows)-n:] {
		x := 0
		for _, s := range r {
			x = a.text(x, a.h-n+i, s.text, s.k)
		}
	}
}

// raceTable is the table of the arms in w columns, as lines of segments: a header, then one
// line an arm in the race's order, the focused arm marked ▸. Each column is as wide as its
// widest entry; the columns that do not fit whole are left out, from the right.
func (m Model) raceTable(w int) [][]seg {
	arms := m.raceArms()
	k := len(m.snap.Basis.Values)
	if k == 0 {
		k = m.snap.Config.K
	}
	cols := [][]string{{"loss"}, {"acc"}, {"λ₁"}, {"λ" + sub(k+1)}, {"χ"}}
	nameW := 0
	for i := range arms {
		ar := &arms[i]
		nameW = max(nameW, len([]rune(ar.name())))
		st := &ar.State
		l1 := math.NaN()
		if len(st.Basis.Values) > 0 {
			l1 = st.Basis.Values[0]
		}
		acc := "–"
		if v := lastOf(ar.History.TestAcc); !math.IsNaN(v) {
			acc = pct(v)
		}
		for j, v := range []string{num(lastOf(ar.History.TrainLoss), 3), acc, num(l1, 3), num(st.Basis.Next, 3), num(chiNow(ar), 2)} {
			cols[j] = append(cols[j], v)
		}
	}
	// Column widths with two blanks before each, or one where two do not leave room for all,
	// then names cut short (to no less than 4 cells: the glyph names the arm too); then as
	// many columns as fit.
	colW, sum := make([]int, len(cols)), 0
	for j, c := range cols {
		for _, v := range c {
			colW[j] = max(colW[j], len([]rune(v)))
		}
		sum += colW[j]
	}
	fits := func(sep, nw int) bool { return 3+nw+len(cols)*sep+sum <= w }
	sep := 2
	switch {
	case fits(2, nameW):
	case fits(1, nameW):
		sep = 1
	default:
		sep, nameW = 1, max(4, min(nameW, w-3-len(cols)-sum))
	}
	var widths []int
	x := 3 + nameW // "▸□ " and the name
	for _, cw := range colW {
		if x+sep+cw > w {
			break
		}
		widths = append(widths, cw)
		x += sep + cw
	}
	row := func(r int) string {
		var b strings.Builder
		for j, cw := range widths {
			fmt.Fprintf(&b, "%*s", sep+cw, cols[j][r])
		}
		return b.String()
	}
	out := [][]seg{{{strings.Repeat(" ", 3+nameW) + row(0), inkLabel}}}
	for i := range arms {
		ar := &arms[i]
		mark := " "
		if ar.focus {
			mark = "▸"
		}
		k := inkNone
		if ar.Run == lab.Diverged {
			k = inkWarn
		}
		out = append(out, []seg{{mark, inkLabel}, {string(ar.glyph), ar.ink}, {" " + pad(ar.name(), nameW), inkLabel}, {row(1 + i), k}})
	}
	return out
}

// chiNow is the arm's χ of g as its chart shows it: the mean of the last chiWindow steps.
func chiNow(a *raceArm) float64 {
	pts := a.History.ChiGrad.Points
	pts = pts[max(0, len(pts)-chiWindow):]
	if len(pts) == 0 {
		return math.NaN()
	}
	sum := 0.0
	for _, p := range pts {
		sum += p.V
	}
	return sum / float64(len(pts))
}
