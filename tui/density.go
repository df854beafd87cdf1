package tui

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"sharpflat/lab"
	"sharpflat/lab/train"
)

// The density panel (s switches the spectrum panel to it): the whole spectrum of H, estimated
// by stochastic Lanczos quadrature (lab.DensityView), where the bars show only λ₁…λ_k. Each
// column is a cell of the symmetric-log λ axis (symlog.go) and its height the log of the
// smoothed density
//
//	φ(λ) = (1/n_v) Σᵢ Σⱼ wᵢⱼ N(λ; θᵢⱼ, σ²)
//
// in the cell (columnDensity), over densityDecades decades: the bulk holds almost all of the
// spectrum and one outlier about 1/P, so a linear height would show the bulk alone. Under the
// columns a row of marks: ◆ the top-k eigenvalues that are outliers (train.Outliers), ◇ the
// others of the basis, ░ λ_{k+1} (the top of the bulk) and ╎ the edge 2/η; the marks are exact
// (the basis in use), the columns an estimate.

// densityPanel draws the density of H into a.
func (m Model) densityPanel(a area) {
	s := &m.snap
	d := s.Density.Last
	vals, next := s.Basis.Values, s.Basis.Next
	nOut := 0
	if len(vals) > 0 {
		nOut, _ = train.Outliers(vals, next)
	}
	edge := s.Threshold
	items := []item{title("density of H, symlog λ", "density", 3)}
	if len(vals) > 0 {
		word := "outliers"
		if nOut == 1 {
			word = "outlier"
		}
		items = append(items, seriesKey("◆", inkSharp, fmt.Sprintf("%d %s", nOut, word), "", 6))
	}
	if !math.IsNaN(next) && len(vals) > 0 {
		items = append(items, seriesKey("░", inkBulk, "λ"+sub(len(vals)+1), "", 5))
	}
	var ax symlog
	if d != nil {
		ax = densityAxis(d, vals, next, edge, a.w)
	}
	onAxis := d != nil && edge > 0 && !math.IsInf(edge, 0) && ax.col(edge) < a.w
	switch {
	case edge > 0 && !math.IsInf(edge, 0) && (onAxis || d == nil):
		items = append(items, seriesKey("╎", inkEdge, "2/η", "", 4))
	case edge > 0 && !math.IsInf(edge, 0):
		items = append(items, note("2/η "+num(edge, 3)+" off the axis", "2/η "+num(edge, 3)+" off axis", inkEdge, 4))
	}
	if s.Density.Busy {
		items = append(items, note("computing…", "…", inkLabel, 2))
	}
	legend(a, items...)
	if d == nil {
		msg := m.whoComputesDensity()
		if s.Density.Busy {
			msg = "computing the density…"
		}
		a.text(0, min(2, a.h-1), msg, inkLabel)
		if s.Density.Err != "" && a.h > 3 {
			a.text(0, 3, "error: "+s.Density.Err, inkWarn)
		}
		return
	}
	// The rows under the title: the columns, then the marks, the tick labels and the cost,
	// which go in the reverse order as the panel shrinks.
	rest := a.h - 1
	marks, ticks, cost := rest >= 2, rest >= 3, rest >= 5
	plotH := rest
	for _, on := range []bool{marks, ticks, cost} {
		if on {
			plotH--
		}
	}
	y := 1 + plotH
	drawDensityColumns(a.sub(0, 1, a.w, plotH), d, ax, vals, nOut, next, densityDecades(s.P))
	if onAxis && plotH > 0 {
		x := min(ax.col(edge), a.w-1)
		for r := 1; r <= plotH; r++ {
			if a.at(x, r) == ' ' || a.at(x, r) == 0 {
				a.set(x, r, '╎', inkEdge)
			}
		}
	}
	if marks {
		drawDensityMarks(a.sub(0, y, a.w, 1), ax, vals, nOut, next, edge, onAxis)
		y++
	}
	if ticks {
		for _, t := range ax.ticks() {
			x := max(0, min(t.x-len(t.label)/2, a.w-len(t.label)))
			a.text(x, y, t.label, inkLabel)
		}
		y++
	}
	if cost {
		a.text(0, y, densityCost(d, s.Density.Busy, a.w), inkLabel)
	}
}

// whoComputesDensity says how a density is asked for.
func (m Model) whoComputesDensity() string {
	if m.opts.ReadOnly {
		return "the teacher can compute the density"
	}
	return "press e to compute the density"
}

// densityAxis is the panel's λ axis: from the smallest node (or 0) to the largest of the
// nodes, λ₁ and λ_{k+1}, and on to 2/η when the edge is within a decade of them (farther, a
// note names it: the spectrum would shrink into a corner).
func densityAxis(d *lab.DensityView, vals []float64, next, edge float64, w int) symlog {
	lo, hi := math.Min(d.Lo, 0), d.Hi
	for _, v := range append([]float64{next}, vals...) {
		if !math.IsNaN(v) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if edge > hi && edge <= 10*math.Max(hi, 0) {
		hi = edge
	}
	c := symlogScale(d.Nodes, d.Weights, d.Width)
	ax := newSymlog(lo, hi, c, w)
	// A margin of 2% of the axis on each side, so that the extreme marks are inside.
	span := ax.s1 - ax.s0
	return newSymlog(ax.inv(ax.s0-0.02*span), ax.inv(ax.s1+0.02*span), c, w)
}

// columnDensity is the density drawn in each cell of ax: the largest of the report's grid
// values φ(λ) inside the cell, or φ interpolated at the cell's centre when no grid point
// falls in it (near zero the cells are narrower than the grid's spacing). The grid samples the
// smoothed density at about two points a σ, so a peak as wide as the kernel, an outlier, is
// caught at nearly its height.
func columnDensity(d *lab.DensityView, ax symlog) []float64 {
	out := make([]float64, ax.w)
	n := min(len(d.Lambda), len(d.Density))
	if n == 0 {
		return out
	}
	for x := range out {
		a, b := ax.edge(x), ax.edge(x+1)
		i := sort.SearchFloat64s(d.Lambda[:n], a)
		best, any := 0.0, false
		for ; i < n && d.Lambda[i] < b; i++ {
			best, any = math.Max(best, d.Density[i]), true
		}
		if !any {
			best = interpolate(d.Lambda[:n], d.Density[:n], (a+b)/2)
		}
		out[x] = best
	}
	return out
}

// interpolate is y at x on the piecewise-linear curve through (xs, ys), xs ascending; 0
// outside it (the density's grid reaches 5σ beyond the extreme nodes).
func interpolate(xs, ys []float64, x float64) float64 {
	i := sort.SearchFloat64s(xs, x)
	switch {
	case i == 0 && x == xs[0]:
		return ys[0]
	case i == 0 || i == len(xs):
		return 0
	}
	t := (x - xs[i-1]) / (xs[i] - xs[i-1])
	return ys[i-1] + t*(ys[i]-ys[i-1])
}

// densityDecades is how many decades below the highest column the heights reach: an outlier's
// peak is about 1/P of the bulk's (one eigenvalue of P under a kernel as wide), so one decade
// more than log10 P, from 4 to 8.
func densityDecades(p int) float64 {
	return math.Max(4, math.Min(8, math.Ceil(math.Log10(float64(max(p, 1))))+1))
}

// drawDensityColumns fills a with the columns: heights the log of the density over decades
// decades, in eighths of a cell; the columns right of the gap between the outliers and the
// bulk in the outliers' ink.
func drawDensityColumns(a area, d *lab.DensityView, ax symlog, vals []float64, nOut int, next, decades float64) {
	if a.h <= 0 || a.w <= 0 {
		return
	}
	col := columnDensity(d, ax)
	top := 0.0
	for _, v := range col {
		top = math.Max(top, v)
	}
	if !(top > 0) {
		return
	}
	split := math.Inf(1) // the λ above which columns are the outliers'
	if nOut > 0 {
		below := next
		if nOut < len(vals) {
			below = vals[nOut]
		}
		split = vals[nOut-1]
		if !math.IsNaN(below) {
			split = ax.inv((ax.s(vals[nOut-1]) + ax.s(below)) / 2)
		}
	}
	levels := a.h * 8
	for x, v := range col {
		if !(v > 0) {
			continue
		}
		frac := 1 + math.Log10(v/top)/decades
		if frac <= 0 {
			continue
		}
		e := max(1, int(math.Round(frac*float64(levels))))
		k := inkBulk
		if ax.edge(x+1) > split {
			k = inkSharp
		}
		for r := 0; r < a.h && e > 0; r++ {
			y := a.h - 1 - r
			if e >= 8 {
				a.set(x, y, '█', k)
			} else {
				a.set(x, y, []rune("▁▂▃▄▅▆▇")[e-1], k)
			}
			e -= 8
		}
	}
}

// drawDensityMarks draws the row of marks: ╎ the edge, ░ λ_{k+1}, ◇ the top-k inside the bulk,
// ◆ the outliers (later marks over earlier ones).
func drawDensityMarks(a area, ax symlog, vals []float64, nOut int, next, edge float64, onAxis bool) {
	at := func(l float64) int { return max(0, min(ax.col(l), a.w-1)) }
	if onAxis {
		a.set(at(edge), 0, '╎', inkEdge)
	}
	if !math.IsNaN(next) && len(vals) > 0 {
		a.set(at(next), 0, '░', inkBulk)
	}
	for i := len(vals) - 1; i >= 0; i-- {
		if i < nOut {
			a.set(at(vals[i]), 0, '◆', inkSharp)
		} else {
			a.set(at(vals[i]), 0, '◇', inkSharp)
		}
	}
}

// densityCost is the cost line, the longest form that fits in w cells: "density @step 600 ·
// 10 probes × 80 steps · 0.31 s, 800 HVPs", and while the next is computed, "… · computing…"
// when it fits.
func densityCost(d *lab.DensityView, busy bool, w int) string {
	wall := seconds(d.Wall)
	forms := []string{
		fmt.Sprintf("density @step %d · %d probes × %d steps · %s, %d HVPs", d.Step, d.Probes, d.Steps, wall, d.Products),
		fmt.Sprintf("@step %d · %d probes × %d steps · %s, %d HVPs", d.Step, d.Probes, d.Steps, wall, d.Products),
		fmt.Sprintf("@%d · %d×%d · %s, %d HVPs", d.Step, d.Probes, d.Steps, wall, d.Products),
		fmt.Sprintf("@%d · %d HVPs", d.Step, d.Products),
	}
	if busy {
		for _, f := range forms {
			if f += " · computing…"; len([]rune(f)) <= w {
				return f
			}
		}
	}
	for _, f := range forms {
		if len([]rune(f)) <= w {
			return f
		}
	}
	return forms[len(forms)-1]
}

// seconds words a wall time: 0.31 s, 12 s.
func seconds(d time.Duration) string { return num(d.Seconds(), 2) + " s" }

// wantDensity tells the engine whether this screen shows the density, which schedules one
// every DensityEvery refreshes while any screen does. A read-only watcher's screen does not
// count: a student's s must not make the teacher's engine work; it shows the densities the
// teacher's screen asks for.
func (m Model) wantDensity(on bool) {
	if !m.opts.ReadOnly {
		m.sub.WantDensity(on)
	}
}

// densityKey handles the density's keys before the others: s switches the spectrum panel
// between the bars and the density; e while the density shows recomputes the eigenspace (as
// e does) and the density. It reports false for any other key.
func (m Model) densityKey(k tea.KeyMsg) (Model, tea.Cmd, bool) {
	km := m.c.KeyMap
	if m.confirmQuit || m.list.kind != listNone || m.chooser.open {
		return m, nil, false
	}
	switch {
	case key.Matches(k, km.Density):
		m.density = !m.density
		m.wantDensity(m.density)
		if !m.density {
			mm, cmd := m.setStatus("spectrum: the top-k bars", false)
			return mm, cmd, true
		}
		if m.snap.Density.Last == nil && !m.snap.Density.Busy && !m.opts.ReadOnly && m.have && !m.stopped {
			m.e.ComputeDensity()
			mm, cmd := m.setStatus("spectrum: the density of H (computing it…)", false)
			return mm, cmd, true
		}
		status := "spectrum: the density of H (e recomputes it)"
		if m.opts.ReadOnly {
			status = "spectrum: the density of H, as the teacher last computed it"
		}
		mm, cmd := m.setStatus(status, false)
		return mm, cmd, true
	case m.density && key.Matches(k, km.Recompute) && !m.opts.ReadOnly && m.have && !m.stopped:
		mm, cmd := m.handleKey(k)
		m = mm.(Model)
		m.e.ComputeDensity()
		m, status := m.setStatus("recomputing the eigenspace and the density…", false)
		return m, tea.Batch(cmd, status), true
	}
	return m, nil, false
}

// closePicture closes the picture and the neurons, whose place below 160 columns is the
// spectrum's: a step that shows the bars or the density must not leave them over it.
func (m Model) closePicture() Model {
	if m.picture {
		m.picture, m.pic.neurons = false, false
		m.sub.WantPicture(false)
		m.syncPictureKeys()
	}
	return m
}

// lessonShown is a lesson step whose show was applied: its lesson and index, and whether its
// end was (a step's condition held).
type lessonShown struct {
	name  string
	index int
	done  bool
}

// lessonShow applies the show of the lesson step the snapshot is at (LessonView.Show, from lesson.Step.Show) once,
// when the step begins: the density or the bars; the user may switch back with s. A step that
// shows the density asks for one when it begins and again when its condition holds, so that
// the picture is of the point its claims are judged at.
func (m Model) lessonShow() Model {
	v := m.snap.Lesson
	if v == nil || v.Over {
		m.shown = lessonShown{}
		return m
	}
	now := lessonShown{name: v.Name, index: v.Index, done: v.Done}
	begins := now.name != m.shown.name || now.index != m.shown.index
	ends := !begins && now.done && !m.shown.done
	m.shown = now
	switch {
	case begins && (v.Show == "neurons" || v.Show == "picture"):
		// What each neuron computes, or the decision picture, in the spectrum's place (or beside
		// the charts): the step's show opens it as V or v would; the user may close it.
		m.picture, m.pic.neurons, m.pic.page = true, v.Show == "neurons", 0
		m.sub.WantPicture(true)
		m.syncPictureKeys()
	case begins && v.Show == "bars":
		m = m.closePicture()
		m.density = false
		m.wantDensity(false)
	case begins && v.Show == "density":
		m = m.closePicture()
		m.density = true
		m.wantDensity(true)
		fallthrough
	case ends && v.Show == "density" && m.density:
		if !m.opts.ReadOnly && !m.stopped {
			m.e.ComputeDensity()
		}
	}
	return m
}
