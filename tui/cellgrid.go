package tui

import (
	"strings"

	"github.com/NimbleMarkets/ntcharts/canvas/runes"
	"github.com/charmbracelet/lipgloss"

	"sharpflat/internal/safetext"
)

// grid is a w×h block of terminal cells, each a rune and an ink. Charts draw into it and it
// renders itself with one lipgloss call per run of cells of one ink.
//
// Braille dots address the grid at 2×4 sub-cell resolution: dot (px, py) with px in
// [0, 2w), py in [0, 4h), py counting down from the top.
type grid struct {
	w, h int
	r    []rune // row-major, 0 for an empty cell
	k    []ink
}

func newGrid(w, h int) *grid {
	w, h = max(0, w), max(0, h)
	return &grid{w: w, h: h, r: make([]rune, w*h), k: make([]ink, w*h)}
}

// set puts r at (x, y); outside the grid it does nothing.
func (g *grid) set(x, y int, r rune, k ink) {
	if x < 0 || y < 0 || x >= g.w || y >= g.h {
		return
	}
	g.r[y*g.w+x], g.k[y*g.w+x] = r, k
}

// at returns the rune at (x, y) (0 outside or empty).
func (g *grid) at(x, y int) rune {
	if x < 0 || y < 0 || x >= g.w || y >= g.h {
		return 0
	}
	return g.r[y*g.w+x]
}

// area is a rectangle of a grid that clips what is drawn into it; coordinates are relative
// to its top-left corner. Panels draw into areas of one screen-wide grid.
type area struct {
	g          *grid
	x, y, w, h int
}

// all returns the whole grid as an area.
func (g *grid) all() area { return area{g: g, w: g.w, h: g.h} }

// sub returns the part of a at (x, y) of size w×h, clipped to a.
func (a area) sub(x, y, w, h int) area {
	x0, y0 := max(0, x), max(0, y)
	x1, y1 := min(a.w, x+w), min(a.h, y+h)
	return area{g: a.g, x: a.x + x0, y: a.y + y0, w: max(0, x1-x0), h: max(0, y1-y0)}
}

func (a area) set(x, y int, r rune, k ink) {
	if x < 0 || y < 0 || x >= a.w || y >= a.h {
		return
	}
	a.g.set(a.x+x, a.y+y, r, k)
}

func (a area) at(x, y int) rune {
	if x < 0 || y < 0 || x >= a.w || y >= a.h {
		return 0
	}
	return a.g.at(a.x+x, a.y+y)
}

// text writes s from (x, y) rightward, one rune a cell, clipped at the area's edge; it
// returns the x after the text. The grid is where every panel's text meets the terminal,
// so s passes through safetext.Line here: a name or a line read from a file (a saved run's
// directory, an event quoting a file) is shown escaped whichever panel draws it.
func (a area) text(x, y int, s string, k ink) int {
	for _, r := range safetext.Line(s) {
		a.set(x, y, r, k)
		x++
	}
	return x
}

// brailleBit is the dot of a braille pattern at (col, row) of its 2×4 cell.
func brailleBit(row, col int) rune {
	return [4][2]rune{{0x01, 0x08}, {0x02, 0x10}, {0x04, 0x20}, {0x40, 0x80}}[row][col]
}

// dot sets the braille dot (px, py), merging with a braille pattern already in the cell;
// the cell takes the newest ink.
func (a area) dot(px, py int, k ink) {
	if px < 0 || py < 0 || px >= 2*a.w || py >= 4*a.h {
		return
	}
	g := a.g
	i := (a.y+py/4)*g.w + a.x + px/2
	bit := runes.BrailleBlockOffset | brailleBit(py%4, px%2)
	if old := g.r[i]; runes.IsBraillePattern(old) {
		bit = runes.CombineBraillePatterns(old, bit)
	}
	g.r[i], g.k[i] = bit, k
}

// line draws braille dots from (x0, y0) to (x1, y1) (Bresenham), leaving out the first
// dot (the previous segment's last). With dash > 0 it draws dash dots and skips dash dots
// along the way; *phase carries the pattern across segments.
func (a area) line(x0, y0, x1, y1 int, k ink, dash int, phase *int) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	err := dx + dy
	for first := true; ; first = false {
		if !first {
			if dash == 0 || (*phase/dash)%2 == 0 {
				a.dot(x0, y0, k)
			}
			*phase++
		}
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * err
		if e2 >= dy {
			err += dy
			x0 += sx
		}
		if e2 <= dx {
			err += dx
			y0 += sy
		}
	}
}

// render returns the grid as h lines of w cells. Each ink's escape sequences are taken
// once from its style (rendering a marker and cutting around it), so a frame costs one
// lipgloss call per ink, not one per run of cells.
func (g *grid) render(inks *[numInks]lipgloss.Style) string {
	var pre, suf [numInks]string
	var done [numInks]bool
	wrap := func(k ink) (string, string) {
		if !done[k] {
			const marker = "█"
			p, s, ok := strings.Cut(inks[k].Render(marker), marker)
			if !ok {
				p, s = "", ""
			}
			pre[k], suf[k], done[k] = p, s, true
		}
		return pre[k], suf[k]
	}
	var b strings.Builder
	b.Grow(g.w * g.h * 4)
	for y := 0; y < g.h; y++ {
		if y > 0 {
			b.WriteByte('\n')
		}
		row := g.r[y*g.w : (y+1)*g.w]
		kr := g.k[y*g.w : (y+1)*g.w]
		for x := 0; x < g.w; {
			k := kr[x]
			if row[x] == 0 || row[x] == ' ' {
				k = inkNone // blanks need no colour: longer runs, fewer escapes
			}
			p, s := "", ""
			if k != inkNone {
				p, s = wrap(k)
			}
			b.WriteString(p)
			for ; x < g.w; x++ {
				r, kk := row[x], kr[x]
				if r == 0 || r == ' ' {
					r, kk = ' ', inkNone
				}
				if kk != k {
					break
				}
				b.WriteRune(r)
			}
			b.WriteString(s)
		}
	}
	return b.String()
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func sign(x int) int {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}
