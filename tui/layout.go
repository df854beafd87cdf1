package tui

// The screen adapts to the terminal in two arrangements of the same panels:
//
//	narrow (< 120 columns or < 32 rows)     wide
//	┌ loss ──────┬ sharpness ─┐            ┌ loss ───┬ sharpness ┬ alignment ┐
//	├ alignment ─┼ spectrum ──┤            ├ spectrum┼ G/F split ┼ events ───┤
//	└ events ────────────────-┘            └─────────┴───────────┴───────────┘
//
// Each arrangement is rows of panel ids (narrowRows, wideRows): the layout gives each row its
// height and cuts it into equal columns, one a panel, so a panel moves or joins by an edit of
// those tables. In the narrow arrangement the spectrum panel carries the G share of each
// eigenvalue in place of the G/F panel; the picture of what the network learned (v) takes
// the place of the spectrum and, in the wide arrangement, of the split beside it; from
// pictureBesideMinWidth columns it goes beside all the charts instead (besidePicture). Below
// MinWidth×MinHeight the lab shows a message instead.

const (
	// MinWidth and MinHeight are the smallest terminal the lab draws itself in.
	MinWidth  = 60
	MinHeight = 18

	wideMinWidth  = 120
	wideMinHeight = 32
	gap           = 2 // columns between panels
)

// narrowRows and wideRows are the arrangements, top row first.
var (
	narrowRows = [][]panelID{{panelLoss, panelSharp}, {panelAlign, panelSpectrum}, {panelEvents}}
	wideRows   = [][]panelID{{panelLoss, panelSharp, panelAlign}, {panelSpectrum, panelSplit, panelEvents}}
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

	rects map[panelID]rect // where each panel on screen goes; a panel without one is not drawn
}

// rect returns the rectangle of panel p and whether p is on screen.
func (l *layout) rect(p panelID) (rect, bool) {
	r, ok := l.rects[p]
	return r, ok
}

// computeLayout places the panels in a w×h terminal; bannerH and footerH are the lines the
// divergence banner and the footer (short or full help) need, k the size of the spectrum
// (the bottom row of the wide arrangement takes what k rows of bars need, the line charts
// the rest), picture whether the picture replaces the spectrum (and the split).
func computeLayout(w, h, bannerH, footerH, k int, picture bool) layout {
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
	rows, heights := narrowRows, l.narrowHeights()
	if l.wide {
		bot := min(max(k+5, 8), l.chartsH*9/20)
		rows, heights = wideRows, []int{l.chartsH - bot - 1, bot}
	}
	l.rects = make(map[panelID]rect)
	y := 0
	for i, row := range rows {
		for j, c := range splitN(w, len(row)) {
			l.rects[row[j]] = rect{c[0], y, c[1], heights[i]}
		}
		y += heights[i] + 1 // a blank line between rows
	}
	if picture {
		l.placePicture()
	}
	return l
}

// narrowHeights is the height of each row of the narrow arrangement: two rows of charts of
// equal height and the events below, which take from 3 to 8 lines as the terminal grows
// (and a spare line).
func (l *layout) narrowHeights() []int {
	ev := 3
	if l.h >= 30 {
		ev = min(8, 3+(l.h-30)/3)
	}
	rest := l.chartsH - ev - 1
	if rest < 9 {
		ev = max(1, l.chartsH-10)
		rest = l.chartsH - ev - 1
	}
	top := (rest - 1) / 2
	bot := top
	ev += rest - 1 - top - bot
	return []int{top, bot, ev}
}

// placePicture gives the picture the spectrum's place and, when the split panel is on the
// spectrum's right in the same row, the split's too.
func (l *layout) placePicture() {
	r, ok := l.rects[panelSpectrum]
	if !ok {
		return
	}
	if s, ok := l.rects[panelSplit]; ok && s.y == r.y && s.x > r.x {
		r.w = s.x + s.w - r.x
		delete(l.rects, panelSplit)
	}
	delete(l.rects, panelSpectrum)
	l.rects[panelPicture] = r
}

// splitN cuts w columns into n panels with gaps: (x, width) of each; the last takes what the
// division leaves.
func splitN(w, n int) [][2]int {
	pw := (w - (n-1)*gap) / n
	out := make([][2]int, n)
	for i := range out {
		out[i] = [2]int{i * (pw + gap), pw}
	}
	out[n-1][1] = w - (n-1)*(pw+gap)
	return out
}

// pictureBesideMinWidth is the width from which the picture (v) goes beside the charts, a
// column on the right as tall as the charts grid, instead of in the spectrum's place: the
// three columns of charts left of it are still as wide as the narrow arrangement's two.
const pictureBesideMinWidth = 160

// besidePicture returns l with the picture beside the charts when l is the wide arrangement
// of a terminal at least pictureBesideMinWidth wide that shows the picture: the picture
// takes two fifths of the width on the right, and the wide arrangement's panels (the
// spectrum and the split back in their places; the bottom row the height k rows of bars
// need) the rest. Otherwise it returns l as it is.
func (l layout) besidePicture(k int) layout {
	if _, ok := l.rects[panelPicture]; !ok || !l.wide || l.w < pictureBesideMinWidth {
		return l
	}
	pw := l.w * 2 / 5
	cw := l.w - pw - gap
	bot := min(max(k+5, 8), l.chartsH*9/20)
	heights := []int{l.chartsH - bot - 1, bot}
	rects := make(map[panelID]rect) // a new map: l's is shared with its copies
	y := 0
	for i, row := range wideRows {
		for j, c := range splitN(cw, len(row)) {
			rects[row[j]] = rect{c[0], y, c[1], heights[i]}
		}
		y += heights[i] + 1
	}
	rects[panelPicture] = rect{cw + gap, 0, pw, l.chartsH}
	l.rects = rects
	return l
}
