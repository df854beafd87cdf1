package tui

import (
	"fmt"
	"math"

	"github.com/NimbleMarkets/ntcharts/canvas/runes"

	"sharpflat/lab"
)

// The picture panel: what the network has learned (lab.Picture). For 2-D data, the plane is
// shaded by the predicted class and by how sure the network is of it: in colour, two pixels a
// cell (halfblock.go), each the class's hue faded to the background where the network is
// no surer than a coin toss; without colour, a glyph a cell from the class's own family
// (░▒▓█ for class 0, ⠂⠪⠿⣿ for class 1, …), denser the surer the network is.
// Training points sit on top as glyphs of their true class (● ▲ …), so a point on a foreign
// region is misclassified; x adds the test points as hollow glyphs (○ △ …). For other
// data, the test points on the top two principal components: glyph by true class, colour by
// prediction. Glyphs differ per class, so the picture reads without colour too.
//
// Terminal cells are about twice as tall as wide: the plot keeps one data unit as long
// across as down, leaving the spare width or height blank.

// regionGlyphs are the NO_COLOR shades of a region of each of the first classes by the
// network's confidence (level), from barely surer than a coin toss to certain; a coin toss
// itself is blank, so the decision boundary shows as a gap. Each class has a family of its
// own (blocks, dots, bars), so that two confident regions of different classes never look
// alike; no glyph of a family is a point's glyph (classGlyph, testGlyph), so the points
// stand out. Later classes shade with regionFallback.
var regionGlyphs = [][]rune{
	{'░', '▒', '▓', '█'},
	{'⠂', '⠪', '⠿', '⣿'},
	{'-', '=', '≡', '▤'},
}

// regionFallback is the family of class c ≥ len(regionGlyphs): a dot where the network is
// unsure, the class's capital letter (A for class 0, D for class 3, …; # past Z) where it is
// sure. Capitals are never points' glyphs, which are shapes, digits and small letters.
func regionFallback(c int) []rune {
	l := '#'
	if c < 26 {
		l = 'A' + rune(c)
	}
	return []rune{'·', '·', l, l}
}

// regionFamily is the NO_COLOR family of class c, from unsure to sure.
func regionFamily(c int) []rune {
	if c >= 0 && c < len(regionGlyphs) {
		return regionGlyphs[c]
	}
	return regionFallback(max(c, 0))
}

// shapeGlyphs mark training points of up to six classes, testGlyphs the test points of the
// same classes; with more classes points are marked by their class's digit or letter
// (classGlyph).
var (
	shapeGlyphs = []rune{'●', '▲', '■', '◆', '★', '✚'}
	testGlyphs  = []rune{'○', '△', '□', '◇', '☆', '✛'}
)

// classGlyph is the glyph of a point of class c among n classes.
func classGlyph(c, n int) rune {
	const alnum = "0123456789abcdefghijklmnopqrstuvwxyz"
	switch {
	case n <= len(shapeGlyphs):
		return shapeGlyphs[c%len(shapeGlyphs)]
	case c < len(alnum):
		return rune(alnum[c])
	}
	return '•'
}

// testGlyph is the glyph of a test point of class c among n classes.
func testGlyph(c, n int) rune {
	if n <= len(testGlyphs) {
		return testGlyphs[c%len(testGlyphs)]
	}
	return classGlyph(c, n)
}

func classInk(c int) ink  { return inkClass + ink(c%classInks) }
func regionInk(c int) ink { return inkRegion + ink(c%classInks) }

// level is the confidence q of a class among n, scaled to [0, 1]: 0 at q = 1/n, 1 at q = 1.
func level(q float32, n int) float64 {
	lo := 1 / float64(max(n, 2))
	return min(1, max(0, (float64(q)-lo)/(1-lo)))
}

// regionGlyph is the NO_COLOR shade of a region of class c where the network is q sure
// among n: blank in the lowest fifth of the confidence's range (the boundary), then the
// class's family, a glyph a fifth.
func regionGlyph(c int, q float32, n int) rune {
	f := regionFamily(c)
	i := min(int(level(q, n)*float64(len(f)+1)), len(f))
	if i == 0 {
		return ' '
	}
	return f[i-1]
}

// pointsPerCell caps the points drawn over regions at one in this many plot cells, so the
// regions stay visible (evenly spaced through the picture's points).
const pointsPerCell = 5

// pictureLook is how a picture is drawn: with the test points or not, and in colour (a
// layer of half blocks over the grid) or in glyphs.
type pictureLook struct {
	test  bool
	color bool
	pal   palette
	pager string // the keys that page the neurons ("" is ←/→; in a lesson, whose ←/→ step it, </>)
}

// drawPicture draws the picture into a: a title line with the class keys, then the plot.
// With p nil it says why there is none: regression data has no classes to picture, else the
// engine has not painted one yet. In colour it leaves the plot's cells of the grid blank
// and returns them as a layer to draw over the rendered grid; otherwise it returns nil.
func drawPicture(a area, p *lab.Picture, regression bool, look pictureLook) *colorLayer {
	if p == nil {
		legend(a, title("what the network learned", "picture", keep))
		msg := "waiting for the first picture…"
		if regression {
			msg = "no picture for regression data: there are no classes to tell apart"
		}
		a.text(0, 1, msg, inkLabel)
		return nil
	}
	legend(a, pictureLegend(p, look)...)
	body := a.sub(0, 1, a.w, a.h-1)
	if !(p.X1 > p.X0 && p.Y1 > p.Y0) || !finite(p.X1-p.X0) || !finite(p.Y1-p.Y0) {
		body.text(0, 0, "nothing to draw: the points have no extent", inkLabel)
		return nil
	}
	plot := layoutPicture(body, p)
	if plot.w <= 0 || plot.h <= 0 {
		return nil
	}
	var layer *colorLayer
	if look.color && p.Kind == lab.PictureRegions {
		layer = newColorLayer(plot, 0, 0, plot.w, plot.h)
	}
	sx, sy := p.X1-p.X0, p.Y1-p.Y0
	if p.Kind == lab.PictureRegions {
		for cy := 0; cy < plot.h; cy++ {
			for cx := 0; cx < plot.w; cx++ {
				x := p.X0 + (float64(cx)+0.5)/float64(plot.w)*sx
				if layer != nil {
					// Two pixels: the upper half of the cell and the lower.
					cell := layer.at(cx, cy)
					cell.r = '▀'
					for half, dst := range []*rgb{&cell.fg, &cell.bg} {
						y := p.Y1 - (2*float64(cy)+float64(half)+0.5)/float64(2*plot.h)*sy
						*dst = paper(look.pal.dark)
						if c, q, ok := p.CellAt(x, y); ok {
							*dst = shade(int(c), float64(q), p.Classes, look.pal.dark)
						}
					}
					continue
				}
				y := p.Y1 - (float64(cy)+0.5)/float64(plot.h)*sy
				if c, q, ok := p.CellAt(x, y); ok {
					plot.set(cx, cy, regionGlyph(int(c), q, p.Classes), regionInk(int(c)))
				}
			}
		}
	}
	// Points: evenly thinned over regions; the test points (when shown) over the training
	// points, the right ones first, the wrong ones over them.
	thin := func(pts []lab.PicturePoint) []lab.PicturePoint {
		if p.Kind != lab.PictureRegions {
			return pts
		}
		if most := max(1, plot.w*plot.h/pointsPerCell); len(pts) > most {
			out := make([]lab.PicturePoint, most)
			for j := range out {
				out[j] = pts[j*len(pts)/most]
			}
			return out
		}
		return pts
	}
	sets := [][]lab.PicturePoint{thin(p.Points)}
	if look.test && p.Kind == lab.PictureRegions {
		sets = append(sets, thin(p.Test))
	}
	for s, pts := range sets {
		for _, wrong := range []bool{false, true} {
			for _, pt := range pts {
				if (pt.Class != pt.Pred) != wrong || !(pt.X >= p.X0 && pt.X <= p.X1 && pt.Y >= p.Y0 && pt.Y <= p.Y1) {
					continue // NaN and points outside the extent are not drawn
				}
				cx := min(plot.w-1, int((pt.X-p.X0)/sx*float64(plot.w)))
				cy := min(plot.h-1, int((p.Y1-pt.Y)/sy*float64(plot.h)))
				c := int(pt.Class)
				if p.Kind == lab.PictureProjection {
					c = int(pt.Pred)
				}
				g := classGlyph(int(pt.Class), p.Classes)
				if s == 1 {
					g = testGlyph(int(pt.Class), p.Classes)
				}
				if layer == nil {
					plot.set(cx, cy, g, classInk(c))
					continue
				}
				cell := layer.at(cx, cy)
				if cell.r == '▀' { // behind the glyph, the mean of the cell's two pixels
					cell.bg = mix(cell.fg, cell.bg, 0.5)
				}
				cell.r, cell.fg, cell.bold = g, pointColor(c, look.pal.dark), true
			}
		}
	}
	return layer
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// pictureLegend is the title line: what the picture is, its step, the class keys, how the
// shading reads, and the share of the points drawn that the network gets right.
func pictureLegend(p *lab.Picture, look pictureLook) []item {
	var items []item
	set := "train"
	if p.Kind == lab.PictureRegions {
		items = append(items, title("decision regions", "regions", 4))
	} else {
		set = "test"
		items = append(items, title("test points on PC1, PC2", "PCA", 4))
	}
	items = append(items, note(fmt.Sprintf("step %d", p.Step), fmt.Sprintf("@%d", p.Step), inkLabel, 2))
	shapes := p.Classes <= len(shapeGlyphs)
	test := look.test && p.Kind == lab.PictureRegions
	if shapes && p.Classes > 0 {
		// One item for all the classes, so that they shorten together.
		keys := item{rank: 3, kind: kindKey}
		for c := 0; c < p.Classes; c++ {
			if c > 0 {
				keys.full = append(keys.full, seg{"  ", inkNone})
				keys.short = append(keys.short, seg{" ", inkNone})
			}
			g := string(classGlyph(c, p.Classes))
			keys.full = append(keys.full, seg{g, classInk(c)})
			if test {
				keys.full = append(keys.full, seg{string(testGlyph(c, p.Classes)), classInk(c)})
			}
			keys.full = append(keys.full, seg{fmt.Sprintf(" class %d", c), inkLabel})
			keys.short = append(keys.short, seg{g, classInk(c)}, seg{fmt.Sprint(c), inkLabel})
		}
		items = append(items, keys)
	}
	if p.Kind == lab.PictureRegions {
		if test {
			items = append(items, note("hollow: test", "hollow: test", inkLabel, 1))
		}
		if look.color {
			items = append(items, note("pale: unsure", "pale: unsure", inkLabel, 1))
		} else {
			items = append(items, shadesNote(p.Classes))
		}
	}
	if p.Kind == lab.PictureProjection {
		if shapes {
			items = append(items, note("colour: predicted class", "colour: predicted", inkLabel, 1))
		} else {
			items = append(items, note("digit: true class, colour: predicted", "colour: predicted", inkLabel, 1))
		}
	}
	pts := p.Points
	if test {
		pts, set = p.Test, "test"
	}
	if acc := accuracy(pts); !math.IsNaN(acc) {
		items = append(items, note(fmt.Sprintf("%s right of %d %s points", pct(acc), len(pts), set), pct(acc)+" right", inkLabel, 0))
	}
	return items
}

// shadesNote says how the NO_COLOR regions read: each class's family, from unsure to sure,
// and the class it shades (the first four; short: the sure glyph of each). It shortens
// with the accuracy (rank 0), so that at 120×40 both stay.
func shadesNote(n int) item {
	const listed = 4
	full, short := "sure:", "sure:"
	for c := 0; c < min(n, listed); c++ {
		f := regionFamily(c)
		fam := string(f)
		if c >= len(regionGlyphs) {
			fam = string([]rune{f[0], f[len(f)-1]})
		}
		full += fmt.Sprintf(" %s %d", fam, c)
		short += fmt.Sprintf(" %c%d", f[len(f)-1], c)
	}
	if n > listed {
		full += " …"
		short += " …"
	}
	return note(full, short, inkLabel, 0)
}

// accuracy is the share of pts whose predicted class is their true class (NaN for none).
func accuracy(pts []lab.PicturePoint) float64 {
	return (&lab.Picture{Points: pts}).Accuracy()
}

// layoutPicture draws the axes of the picture into body and returns the plot area inside
// them: as large as fits with one data unit as long across (one cell) as down (half a cell),
// centred across. The axes (labels at the ends of each, the axis names) are left out when body is
// too small for them.
func layoutPicture(body area, p *lab.Picture) area {
	const minPlot = 4 // the smallest plot (in cells each way) worth axes
	xl := []string{num(p.X0, 2), num(p.X1, 2)}
	yl := []string{num(p.Y1, 2), num(p.Y0, 2)}
	lw := max(len([]rune(yl[0])), len([]rune(yl[1])))
	top := 0 // rows above the plot: the Y axis's name
	if p.YLabel != "" {
		top = 1
	}
	axes := body.w >= lw+1+minPlot && body.h >= top+minPlot+2
	pw, ph := body.w, body.h
	if axes {
		pw, ph = body.w-lw-1, body.h-top-2
	}
	// The largest w×h with w/(2h) = sx/sy that fits in pw×ph.
	sx, sy := p.X1-p.X0, p.Y1-p.Y0
	w, h := pw, int(math.Round(float64(pw)*sy/sx/2))
	if h > ph {
		w, h = int(math.Round(float64(ph)*2*sx/sy)), ph
	}
	w, h = min(max(w, 1), pw), min(max(h, 1), ph)
	if p.Kind == lab.PictureProjection {
		// A cloud of points in a short panel: fill it (the axes say the scales) rather than
		// keep the aspect and shrink to a few cells.
		w, h = pw, ph
	}
	if !axes {
		return body.sub((pw-w)/2, (ph-h)/2, w, h)
	}
	// The plot with its axes, centred across, at the top.
	x0 := (pw-w)/2 + lw + 1
	y0 := top
	plot := body.sub(x0, y0, w, h)
	if top > 0 {
		name := p.YLabel
		if len([]rune(name)) > body.w-x0+1 {
			name = truncate(name, body.w-x0+1)
		}
		body.text(max(0, x0-1), y0-1, name, inkLabel)
	}
	for y := 0; y < h; y++ {
		body.set(x0-1, y0+y, runes.LineVertical, inkAxis)
	}
	body.set(x0-1, y0, runes.LineVerticalLeft, inkAxis)
	body.set(x0-1, y0+h-1, runes.LineVerticalLeft, inkAxis)
	body.text(x0-1-len([]rune(yl[0])), y0, yl[0], inkLabel)
	if h > 1 {
		body.text(x0-1-len([]rune(yl[1])), y0+h-1, yl[1], inkLabel)
	}
	body.set(x0-1, y0+h, runes.LineUpRight, inkAxis)
	for x := 0; x < w; x++ {
		body.set(x0+x, y0+h, runes.LineHorizontal, inkAxis)
	}
	body.set(x0, y0+h, runes.LineHorizontalUp, inkAxis)
	body.set(x0+w-1, y0+h, runes.LineHorizontalUp, inkAxis)
	// Under the X axis: its ends' values at the ends, its name between them if it fits.
	end := body.text(x0, y0+h+1, xl[0], inkLabel)
	right := max(end+1, x0+w-len([]rune(xl[1])))
	body.text(right, y0+h+1, xl[1], inkLabel)
	if n := len([]rune(p.XLabel)); n > 0 && n+2 <= right-end {
		body.text(end+(right-end-n)/2, y0+h+1, p.XLabel, inkLabel)
	}
	return plot
}
