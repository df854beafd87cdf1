package tui

import "slices"

// A panel's first line is its title and a legend. When the line is too narrow the legend
// degrades in a fixed order: notes first (a note shortens, then goes), titles next, series
// keys last (a key shortens to glyph and name, so its value goes, and is dropped only when
// nothing else is left to give). Items of equal rank degrade together, and whatever fits
// again afterwards comes back, so a line never shows one key's value and hides another's.
// Every drawn series keeps its key from 80×24 up; compared runs that do not fit beside the
// live keys get lines of their own (legendRows).

// seg is a run of text in one ink; a legend item is a few of them, kept or dropped whole.
type seg struct {
	text string
	k    ink
}

// itemKind says how an item degrades.
type itemKind int

const (
	kindNote  itemKind = iota // shortens, then goes, at its rank
	kindTitle                 // shortens at its rank; goes at its rank only without a short form
	kindKey                   // a series key: shortens at its rank, goes only as a last resort
)

// item is one element of a title line.
type item struct {
	full, short []seg
	rank        int // the order of degrading, lowest first; keep: never
	kind        itemKind
}

// keep is the rank of an item that is never shortened or dropped (a panel's title).
const keep = 99

// title is the panel's title item: its full and short names.
func title(full, short string, rank int) item {
	it := item{full: []seg{{full, inkTitle}}, rank: rank, kind: kindTitle}
	if short != "" {
		it.short = []seg{{short, inkTitle}}
	}
	return it
}

// seriesKey is a series key: its glyph, name and value (short form: glyph and name).
func seriesKey(glyph string, k ink, name, value string, rank int) item {
	full := []seg{{glyph, k}, {" " + name, inkLabel}}
	if value != "" {
		full[1].text += " " + value
	}
	return item{full: full, short: []seg{{glyph, k}, {" " + name, inkLabel}}, rank: rank, kind: kindKey}
}

// note is a plain item in ink k, with an optional short form.
func note(full, short string, k ink, rank int) item {
	it := item{full: []seg{{full, k}}, rank: rank, kind: kindNote}
	if short != "" {
		it.short = []seg{{short, k}}
	}
	return it
}

func segsWidth(ss []seg) int {
	n := 0
	for _, s := range ss {
		n += len([]rune(s.text))
	}
	return n
}

// Item states in a plan.
const (
	showFull = iota
	showShort
	showNone
)

// form is item it in state st.
func (it *item) form(st int) []seg {
	switch st {
	case showFull:
		return it.full
	case showShort:
		return it.short
	}
	return nil
}

// lineWidth is the width of items in states st, two blanks between items shown.
func lineWidth(items []item, st []int) int {
	n, shown := 0, 0
	for i := range items {
		if w := segsWidth(items[i].form(st[i])); w > 0 {
			n += w
			shown++
		}
	}
	return n + 2*max(0, shown-1)
}

// planLegend returns the state of each item (showFull, showShort, showNone) on a line of w
// cells: degraded, a rank at a time, until the line fits, then with every degradation that
// is no longer needed undone (the most important first).
func planLegend(w int, items []item) []int {
	// Each degradation is a step at a priority: shortening at the item's rank; going at
	// rank+½ for a note (or a title without a short form: at its rank), at the very end
	// for a key or a title that has a short name.
	type step struct {
		prio float64
		i    int
		to   int
	}
	var steps []step
	for i, it := range items {
		if it.rank >= keep {
			continue
		}
		r := float64(it.rank)
		if it.short != nil {
			steps = append(steps, step{r, i, showShort})
		}
		switch {
		case it.kind == kindNote:
			steps = append(steps, step{r + 0.5, i, showNone})
		case it.kind == kindTitle && it.short == nil:
			steps = append(steps, step{r, i, showNone})
		default:
			steps = append(steps, step{1000 + r, i, showNone})
		}
	}
	slices.SortStableFunc(steps, func(a, b step) int {
		switch {
		case a.prio < b.prio:
			return -1
		case a.prio > b.prio:
			return 1
		}
		return 0
	})
	// Apply whole groups of equal priority until the line fits; then take back, most
	// important first, each group without which the line still fits.
	var groups [][2]int // steps[g[0]:g[1]] share a priority
	for g := 0; g < len(steps); {
		e := g
		for e < len(steps) && steps[e].prio == steps[g].prio {
			e++
		}
		groups = append(groups, [2]int{g, e})
		g = e
	}
	on := make([]bool, len(groups))
	states := func() []int {
		st := make([]int, len(items))
		for j, g := range groups {
			if on[j] {
				for _, s := range steps[g[0]:g[1]] {
					st[s.i] = max(st[s.i], s.to)
				}
			}
		}
		return st
	}
	st := states()
	for j := 0; j < len(groups) && lineWidth(items, st) > w; j++ {
		on[j] = true
		st = states()
	}
	for j := len(groups) - 1; j >= 0; j-- {
		if !on[j] {
			continue
		}
		on[j] = false
		if try := states(); lineWidth(items, try) <= w {
			st = try
		} else {
			on[j] = true
		}
	}
	// Still too wide (a very narrow panel): items go from the end.
	for i := len(items) - 1; i > 0 && lineWidth(items, st) > w; i-- {
		st[i] = showNone
	}
	return st
}

// legend writes items on the first line of a, degraded until they fit.
func legend(a area, items ...item) {
	drawLegend(a, items, planLegend(a.w, items))
}

func drawLegend(a area, items []item, st []int) {
	x := 0
	for i := range items {
		f := items[i].form(st[i])
		if len(f) == 0 {
			continue
		}
		if x > 0 {
			x += 2
		}
		for _, s := range f {
			x = a.text(x, 0, s.text, s.k)
		}
	}
}

// legendRows writes items on the first line of a and the compared runs' keys after them
// when they all fit there without costing the items anything; otherwise the runs get lines
// of their own below (full labels when they fit on one line, else glyph and short name,
// wrapped), so that every run drawn is named. It returns the lines used.
func legendRows(a area, items, runs []item) int {
	if len(runs) == 0 {
		legend(a, items...)
		return 1
	}
	alone := planLegend(a.w, items)
	all := append(slices.Clip(items), runs...)
	both := planLegend(a.w, all)
	if slices.Equal(both[:len(items)], alone) && !slices.Contains(both[len(items):], showNone) {
		drawLegend(a, all, both)
		return 1
	}
	y := 0
	if len(items) > 0 {
		drawLegend(a, items, alone)
		y = 1
	}
	st := make([]int, len(runs))
	if lineWidth(runs, st) > a.w {
		for i := range st {
			st[i] = showShort
		}
	}
	x := 0
	for i := range runs {
		f := runs[i].form(st[i])
		w := segsWidth(f)
		if x > 0 && x+2+w > a.w {
			x, y = 0, y+1
		} else if x > 0 {
			x += 2
		}
		for _, s := range f {
			x = a.sub(0, y, a.w, 1).text(x, 0, s.text, s.k)
		}
	}
	return y + 1
}
