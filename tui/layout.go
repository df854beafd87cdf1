package tui

// The screen adapts to the terminal in two arrangements of the same panels:
//
//	narrow (< 120 columns or < 32 rows)     wide
//	┌ loss ──────┬ sharpness ─┐            ┌ loss ───┬ sharpness ┬ alignment ┐
//	├ alignment ─┼ spectrum ──┤            ├ spectrum┼ G/F split ┼ events ───┤
//	└ events ────────────────-┘            └─────────┴───────────┴───────────┘
//
// In the narrow arrangement the spectrum panel carries the G share of each eigenvalue in
// place of the G/F panel. Below MinWidth×MinHeight the lab shows a message instead.

const (
	// MinWidth and MinHeight are the smallest terminal the lab draws itself in.
	MinWidth  = 60
	MinHeight = 18

	wideMinWidth  = 120
	wideMinHeight = 32
	gap           = 2 // columns between panels
)

// rect is a rectangle of the charts grid.
type rect struct{ x, y, w, h int }

// layout is where everything goes for one terminal size.
type layout struct {
	w, h     int
	tooSmall bool
	wide     bool
	sliderH  int // lines of the optimizer bar (2, or 3 with the regime labels)
	bannerH  int
	footerH  int
	chartsH  int // lines of the charts grid

	loss, sharp, align, spectrum, split, events rect
}

// computeLayout places the panels in a w×h terminal; bannerH and footerH are the lines the
// divergence banner and the footer (short or full help) need, k the size of the spectrum
// (the bottom row of the wide arrangement takes what k rows of bars need, the line charts
// the rest).
func computeLayout(w, h, bannerH, footerH, k int) layout {
	l := layout{w: w, h: h, bannerH: bannerH, footerH: footerH, sliderH: 2}
	if w < MinWidth || h < MinHeight {
		l.tooSmall = true
		return l
	}
	if h >= 36 {
		l.sliderH = 3
	}
	l.wide = w >= wideMinWidth && h >= wideMinHeight
	l.chartsH = h - 1 - l.sliderH - bannerH - footerH
	if l.chartsH < 8 {
		// The full help does not leave room for the charts: it gets what there is.
		l.chartsH = 0
		return l
	}
	if l.wide {
		bot := min(max(k+5, 8), l.chartsH*9/20)
		top := l.chartsH - bot - 1
		cols := split3(w)
		for i, c := range cols {
			r := rect{c[0], 0, c[1], top}
			b := rect{c[0], top + 1, c[1], bot}
			switch i {
			case 0:
				l.loss, l.spectrum = r, b
			case 1:
				l.sharp, l.split = r, b
			case 2:
				l.align, l.events = r, b
			}
		}
		return l
	}
	ev := 3
	if h >= 30 {
		ev = min(8, 3+(h-30)/3)
	}
	rest := l.chartsH - ev - 1
	if rest < 9 {
		ev = max(1, l.chartsH-10)
		rest = l.chartsH - ev - 1
	}
	// Two rows of equal height; a spare line goes to the events.
	top := (rest - 1) / 2
	bot := top
	ev += rest - 1 - top - bot
	rest = top + 1 + bot
	lw := (w - gap) / 2
	rw := w - gap - lw
	l.loss = rect{0, 0, lw, top}
	l.sharp = rect{lw + gap, 0, rw, top}
	l.align = rect{0, top + 1, lw, bot}
	l.spectrum = rect{lw + gap, top + 1, rw, bot}
	l.events = rect{0, rest + 1, w, ev}
	return l
}

// split3 cuts w columns into three panels with gaps: (x, width) of each.
func split3(w int) [3][2]int {
	pw := (w - 2*gap) / 3
	last := w - 2*(pw+gap)
	return [3][2]int{{0, pw}, {pw + gap, pw}, {2 * (pw + gap), last}}
}
