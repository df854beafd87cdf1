package tui

import "slices"

// A panel's first line is its title and a legend. When the line is too narrow the legend
// degrades in a fixed order, shortening before dropping: each item has a full form, a short
// form (nil: none) and a rank (lower degrades first). Series keys shorten to glyph and name
// and are dropped only when nothing else is left to give, so every drawn series keeps its
// key from 80×24 up.

// seg is a run of text in one ink; a legend item is a few of them, kept or dropped whole.
type seg struct {
	text string
	k    ink
}

// item is one element of a title line.
type item struct {
	full, short []seg
	rank        int // the order of degrading, lowest first; keep: never
}

// keep is the rank of an item that is never shortened or dropped (a panel's title).
const keep = 99

// title is the panel's title item: its full and short names.
func title(full, short string, rank int) item {
	it := item{full: []seg{{full, inkTitle}}, rank: rank}
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
	return item{full: full, short: []seg{{glyph, k}, {" " + name, inkLabel}}, rank: rank}
}

// note is a plain item in ink k, with an optional short form.
func note(full, short string, k ink, rank int) item {
	it := item{full: []seg{{full, k}}, rank: rank}
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

// legend writes items on the first line of a, degraded until they fit.
func legend(a area, items ...item) {
	state := make([]int, len(items)) // 0 full, 1 short, 2 gone
	form := func(i int) []seg {
		switch state[i] {
		case 0:
			return items[i].full
		case 1:
			return items[i].short
		}
		return nil
	}
	total := func() int {
		n, shown := 0, 0
		for i := range items {
			if w := segsWidth(form(i)); w > 0 {
				n += w
				shown++
			}
		}
		return n + 2*max(0, shown-1)
	}
	order := make([]int, len(items))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int { return items[x].rank - items[y].rank })
	for _, i := range order {
		if total() <= a.w || items[i].rank >= keep {
			break
		}
		state[i] = 1
		if items[i].short == nil {
			state[i] = 2
		}
	}
	// Still too wide: shortened items go, from the end.
	for i := len(items) - 1; i > 0 && total() > a.w; i-- {
		state[i] = 2
	}
	x := 0
	for i := range items {
		f := form(i)
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
