package tui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"
)

// Half-block pictures: a terminal cell shows two pixels, one above the other, as the glyph ▀
// with the upper pixel's colour in front and the lower one's behind, so a picture is twice
// as fine down as the text around it. Colours are any RGB, which the cell grid's inks (a
// fixed palette of roles) cannot carry: a picture is a layer of cells kept beside the grid,
// drawn over its rendered lines (spliceLayers), in true colour or converted to the 256
// palette when the session's profile says so. Under NO_COLOR there is no layer, and the
// picture's glyphs in the grid are what the terminal shows.

// rgb is a colour of a pixel.
type rgb struct{ r, g, b uint8 }

// mix returns (1−t)·a + t·b, channel by channel, for t in [0, 1].
func mix(a, b rgb, t float64) rgb {
	t = min(1, max(0, t))
	f := func(x, y uint8) uint8 { return uint8(float64(x) + t*(float64(y)-float64(x)) + 0.5) }
	return rgb{f(a.r, b.r), f(a.g, b.g), f(a.b, b.b)}
}

// classHues are the classes' colours in a picture, in the order of the class inks (blue,
// orange, green, magenta, teal, yellow, grey, red, violet, brown); more classes reuse them.
var classHues = [classInks]rgb{
	{0x3d, 0x8b, 0xff}, {0xff, 0x8c, 0x1a}, {0x2e, 0xc2, 0x5f}, {0xe8, 0x4a, 0xb0},
	{0x1f, 0xc8, 0xc0}, {0xf0, 0xd0, 0x30}, {0xb0, 0xb0, 0xb0}, {0xf0, 0x40, 0x40},
	{0x8e, 0x72, 0xff}, {0xb0, 0x80, 0x50},
}

// paper is the colour of "no idea": the pixel a class's hue fades to where the network is no
// surer than a coin toss, near the terminal's background so that certainty stands out.
func paper(dark bool) rgb {
	if dark {
		return rgb{0x30, 0x30, 0x30}
	}
	return rgb{0xf2, 0xf2, 0xf2}
}

// shade is the pixel of class c where the network gives it probability q among n classes:
// the paper at q = 1/n, the class's full hue at q = 1, linearly in between.
func shade(c int, q float64, n int, dark bool) rgb {
	lo := 1 / float64(max(n, 2))
	return mix(paper(dark), classHues[c%classInks], (q-lo)/(1-lo))
}

// pointColor is the colour of a point of class c: its hue lifted towards the terminal's
// text colour, so it shows on its own class's saturated region too.
func pointColor(c int, dark bool) rgb {
	if dark {
		return mix(classHues[c%classInks], rgb{0xff, 0xff, 0xff}, 0.45)
	}
	return mix(classHues[c%classInks], rgb{0, 0, 0}, 0.35)
}

// colorCell is one cell of a layer: a glyph, its colour and the colour behind it.
type colorCell struct {
	r      rune
	fg, bg rgb
	bold   bool
}

// colorLayer is a w×h block of cells at (x, y) of the charts grid.
type colorLayer struct {
	x, y, w, h int
	cells      []colorCell // row-major
}

func newColorLayer(a area, x, y, w, h int) *colorLayer {
	r := a.sub(x, y, w, h)
	return &colorLayer{x: r.x, y: r.y, w: r.w, h: r.h, cells: make([]colorCell, r.w*r.h)}
}

// at returns the cell at (x, y) of the layer (nil outside).
func (l *colorLayer) at(x, y int) *colorCell {
	if x < 0 || y < 0 || x >= l.w || y >= l.h {
		return nil
	}
	return &l.cells[y*l.w+x]
}

// palette says how a session's terminal takes colours, found from its styles: a style of
// the session's renderer, given colours only a true-colour, a 256-colour or a 16-colour
// profile render as they do, shows which profile it is, and an adaptive colour shows whether
// the background is dark.
type palette struct {
	profile termenv.Profile
	dark    bool
}

// sessionPalette probes st (the styles of a session, made from its renderer).
func sessionPalette(st *Styles) palette {
	base := st.Ink[inkNone]
	p := palette{profile: termenv.Ascii, dark: true}
	out := base.Foreground(lipgloss.Color("#123456")).Render("x")
	switch {
	case strings.Contains(out, "38;2;"):
		p.profile = termenv.TrueColor
	case strings.Contains(out, "38;5;"):
		p.profile = termenv.ANSI256
	case strings.Contains(out, "\x1b["):
		p.profile = termenv.ANSI
	}
	if p.profile != termenv.Ascii {
		// An adaptive colour renders its Light half on a light background; in a 16-colour
		// profile both halves may fall on one colour, and dark (the common case) stays.
		lit := base.Foreground(lipgloss.AdaptiveColor{Light: "#0000f0", Dark: "#f00000"}).Render("x")
		lightWon := base.Foreground(lipgloss.Color("#0000f0")).Render("x")
		p.dark = lit != lightWon
	}
	return p
}

// sequence returns the SGR parameters of colour c in front (bg false) or behind.
func (p palette) sequence(c rgb, bg bool) string {
	if p.profile == termenv.TrueColor {
		if bg {
			return fmt.Sprintf("48;2;%d;%d;%d", c.r, c.g, c.b)
		}
		return fmt.Sprintf("38;2;%d;%d;%d", c.r, c.g, c.b)
	}
	return p.profile.Convert(termenv.RGBColor(fmt.Sprintf("#%02x%02x%02x", c.r, c.g, c.b))).Sequence(bg)
}

// seqKey names a colour in front or behind, for a cache of their sequences.
type seqKey struct {
	c  rgb
	bg bool
}

// renderRow writes row y of the layer to b as text with its colours, ending with a reset.
func (l *colorLayer) renderRow(b *strings.Builder, y int, p palette, seqs map[seqKey]string) {
	seq := func(c rgb, bg bool) string {
		k := seqKey{c, bg}
		s, ok := seqs[k]
		if !ok {
			s = p.sequence(c, bg)
			seqs[k] = s
		}
		return s
	}
	b.WriteString("\x1b[0m")
	var fg, bg rgb
	bold, first := false, true
	for _, c := range l.cells[y*l.w : (y+1)*l.w] {
		r := c.r
		if r == 0 {
			r = ' '
		}
		if first || c.fg != fg || c.bg != bg || c.bold != bold {
			b.WriteString("\x1b[0")
			if c.bold {
				b.WriteString(";1")
			}
			b.WriteByte(';')
			b.WriteString(seq(c.fg, false))
			b.WriteByte(';')
			b.WriteString(seq(c.bg, true))
			b.WriteByte('m')
			fg, bg, bold, first = c.fg, c.bg, c.bold, false
		}
		b.WriteRune(r)
	}
	b.WriteString("\x1b[0m")
}

// spliceLayers draws the layers over the rendered grid (lines of equal width, as
// grid.render returns them) and returns the result; with the ASCII profile it returns
// rendered as it is. The grid's cells under a layer should be blank, so that no style of the
// grid runs into or out of it. Each line is put together once, left to right, from pieces of
// the grid's own line and the rows of the layers over it: a piece cut from the middle of a
// line keeps every escape before it (so that the styles in force carry over), and cutting
// from a line already spliced would repeat each earlier layer's colours once per later
// layer (a row of neuron tiles at 120×40 came to 287 kB a screen). Of layers that overlap
// on a line, the one further left is drawn.
func spliceLayers(rendered string, layers []*colorLayer, p palette) string {
	if p.profile == termenv.Ascii || len(layers) == 0 {
		return rendered
	}
	lines := strings.Split(rendered, "\n")
	over := make([][]*colorLayer, len(lines)) // the layers over each line
	for _, l := range layers {
		if l.w <= 0 {
			continue
		}
		for y := 0; y < l.h; y++ {
			if i := l.y + y; i >= 0 && i < len(lines) {
				over[i] = append(over[i], l)
			}
		}
	}
	seqs := map[seqKey]string{}
	var b strings.Builder
	for i, ls := range over {
		if len(ls) == 0 {
			continue
		}
		slices.SortStableFunc(ls, func(a, b *colorLayer) int { return a.x - b.x })
		line := lines[i]
		b.Reset()
		x := 0 // the grid's cells up to x are written
		for _, l := range ls {
			if l.x < x {
				continue // it overlaps the layer before
			}
			if x == 0 {
				b.WriteString(ansi.Truncate(line, l.x, ""))
			} else {
				b.WriteString(ansi.Cut(line, x, l.x))
			}
			l.renderRow(&b, i-l.y, p, seqs)
			x = l.x + l.w
		}
		b.WriteString(ansi.TruncateLeft(line, x, ""))
		lines[i] = b.String()
	}
	return strings.Join(lines, "\n")
}
