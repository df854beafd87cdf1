package tui

import (
	"fmt"
	"math"

	"github.com/NimbleMarkets/ntcharts/canvas/runes"

	"sharpflat/lab"
)

// The picture panel: what the network has learned (lab.Picture). For 2-D data, the plane is
// shaded by the predicted class (each cell takes the class at its centre, a texture glyph in
// the class's faint colour) and training points sit on top as glyphs of their true class in
// its colour, so a point on a foreign texture is misclassified. For other data, the test
// points on the top two principal components: glyph by true class, colour by prediction.
// Textures and glyphs differ per class, so the picture reads without colour too.
//
// Terminal cells are about twice as tall as wide: the plot keeps one data unit as long
// across as down, leaving the spare width or height blank.

// regionGlyphs are the textures of the classes' regions, light to heavy; they repeat past
// the end.
var regionGlyphs = []rune{'·', '░', ':', '▒', '+', '-', '=', '~'}

// shapeGlyphs mark points of up to six classes; with more classes points are marked by
// their class's digit or letter (classGlyph).
var shapeGlyphs = []rune{'●', '▲', '■', '◆', '★', '✚'}

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

func classInk(c int) ink  { return inkClass + ink(c%classInks) }
func regionInk(c int) ink { return inkRegion + ink(c%classInks) }
func regionGlyph(c int) rune {
	return regionGlyphs[c%len(regionGlyphs)]
}

// pointsPerCell caps the points drawn over regions at one in this many plot cells, so the
// regions stay visible (evenly spaced through the picture's points).
const pointsPerCell = 5

// drawPicture draws the picture into a: a title line with the class keys, then the plot.
// With p nil it says why there is none: regression data has no classes to picture, else the
// engine has not painted one yet.
func drawPicture(a area, p *lab.Picture, regression bool) {
	if p == nil {
		legend(a, title("what the network learned", "picture", keep))
		msg := "waiting for the first picture…"
		if regression {
			msg = "no picture for regression data: there are no classes to tell apart"
		}
		a.text(0, 1, msg, inkLabel)
		return
	}
	legend(a, pictureLegend(p)...)
	body := a.sub(0, 1, a.w, a.h-1)
	if !(p.X1 > p.X0 && p.Y1 > p.Y0) || !finite(p.X1-p.X0) || !finite(p.Y1-p.Y0) {
		body.text(0, 0, "nothing to draw: the points have no extent", inkLabel)
		return
	}
	plot := layoutPicture(body, p)
	if plot.w <= 0 || plot.h <= 0 {
		return
	}
	sx, sy := p.X1-p.X0, p.Y1-p.Y0
	if p.Kind == lab.PictureRegions {
		for cy := 0; cy < plot.h; cy++ {
			y := p.Y1 - (float64(cy)+0.5)/float64(plot.h)*sy
			for cx := 0; cx < plot.w; cx++ {
				x := p.X0 + (float64(cx)+0.5)/float64(plot.w)*sx
				if c, ok := p.RegionAt(x, y); ok {
					plot.set(cx, cy, regionGlyph(int(c)), regionInk(int(c)))
				}
			}
		}
	}
	// Points: evenly thinned over regions; the right ones first, the wrong ones over them.
	pts := p.Points
	if p.Kind == lab.PictureRegions {
		if most := max(1, plot.w*plot.h/pointsPerCell); len(pts) > most {
			thin := make([]lab.PicturePoint, most)
			for j := range thin {
				thin[j] = pts[j*len(pts)/most]
			}
			pts = thin
		}
	}
	for _, wrong := range []bool{false, true} {
		for _, pt := range pts {
			if (pt.Class != pt.Pred) != wrong || !(pt.X >= p.X0 && pt.X <= p.X1 && pt.Y >= p.Y0 && pt.Y <= p.Y1) {
				continue // NaN and points outside the extent are not drawn
			}
			cx := min(plot.w-1, int((pt.X-p.X0)/sx*float64(plot.w)))
			cy := min(plot.h-1, int((p.Y1-pt.Y)/sy*float64(plot.h)))
			k := classInk(int(pt.Class))
			if p.Kind == lab.PictureProjection {
				k = classInk(int(pt.Pred))
			}
			plot.set(cx, cy, classGlyph(int(pt.Class), p.Classes), k)
		}
	}
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// pictureLegend is the title line: what the picture is, its step, the class keys and the
// share of the points drawn that the network gets right.
func pictureLegend(p *lab.Picture) []item {
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
	if shapes && p.Classes > 0 {
		// One item for all the classes, so that they shorten together.
		keys := item{rank: 3, kind: kindKey}
		for c := 0; c < p.Classes; c++ {
			if c > 0 {
				keys.full = append(keys.full, seg{"  ", inkNone})
				keys.short = append(keys.short, seg{" ", inkNone})
			}
			g := string(classGlyph(c, p.Classes))
			keys.full = append(keys.full, seg{g, classInk(c)}, seg{fmt.Sprintf(" class %d", c), inkLabel})
			if p.Kind == lab.PictureRegions {
				keys.full = append(keys.full, seg{" ", inkNone}, seg{string(regionGlyph(c)), regionInk(c)})
			}
			keys.short = append(keys.short, seg{g, classInk(c)}, seg{fmt.Sprint(c), inkLabel})
		}
		items = append(items, keys)
	}
	if p.Kind == lab.PictureProjection {
		if shapes {
			items = append(items, note("colour: predicted class", "colour: predicted", inkLabel, 1))
		} else {
			items = append(items, note("digit: true class, colour: predicted", "colour: predicted", inkLabel, 1))
		}
	}
	if acc := p.Accuracy(); !math.IsNaN(acc) {
		items = append(items, note(fmt.Sprintf("%s right of %d %s points", pct(acc), len(p.Points), set), pct(acc)+" right", inkLabel, 0))
	}
	return items
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
