package experiment

// PNG figures for experiments, drawn with gonum/plot: line charts (optionally log-scaled),
// horizontal reference lines, bar groups, and a cell grid (a labelled heat map), laid out as
// panels of one image.

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	stddraw "image/draw"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"sharpflat/lab/rundir"
)

// Okabe–Ito colours (distinguishable with the common colour-vision deficiencies), then grey.
var plotColors = []color.Color{
	color.RGBA{0, 114, 178, 255},   // blue
	color.RGBA{213, 94, 0, 255},    // vermillion
	color.RGBA{0, 158, 115, 255},   // bluish green
	color.RGBA{204, 121, 167, 255}, // reddish purple
	color.RGBA{230, 159, 0, 255},   // orange
	color.RGBA{86, 180, 233, 255},  // sky blue
	color.RGBA{120, 94, 0, 255},    // dark yellow
	color.RGBA{0, 0, 0, 255},       // black
}

// plotColorT is a colour of the figures.
type plotColorT = color.Color

var (
	plotGrey      = color.RGBA{140, 140, 140, 255}
	plotGreyLight = color.RGBA{225, 225, 225, 255}
)

// plotColor returns the i-th colour of the palette (cycling).
func plotColor(i int) color.Color {
	return plotColors[((i%len(plotColors))+len(plotColors))%len(plotColors)]
}

// sans is the font of every text in the figures (Liberation Sans, shipped with gonum/plot).
func sans(size float64) font.Font {
	return font.Font{Typeface: "Liberation", Variant: "Sans", Size: vg.Points(size)}
}

// styleText sets the fonts of a plot: title 12 pt, axis labels 11, ticks and legend 9.5.
func styleText(p *plot.Plot) {
	p.Title.TextStyle.Font = sans(12)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = sans(11)
		a.Tick.Label.Font = sans(9.5)
	}
	p.Legend.TextStyle.Font = sans(9.5)
}

// newPlot returns a plot with a title, axis labels, a light grid and readable font sizes.
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	styleText(p)
	p.Legend.Top = true
	p.Legend.YOffs = -vg.Points(2)
	grid := plotter.NewGrid()
	grid.Vertical.Color = color.Gray{225}
	grid.Horizontal.Color = color.Gray{225}
	p.Add(grid)
	return p
}

// lineStyle is how a series is drawn.
type lineStyle struct {
	Color  color.Color
	Width  float64 // points; 0: 1.5
	Dashed bool
	Dotted bool
}

// addLine draws a series; a non-empty legend adds it to the legend. Points with a NaN or
// infinite coordinate (or y ≤ 0 on a log axis) are dropped, and the line is broken there.
func addLine(p *plot.Plot, xs, ys []float64, st lineStyle, legend string) {
	logY := isLog(p)
	var segs []plotter.XYs
	var cur plotter.XYs
	for i := range xs {
		x, y := xs[i], ys[i]
		if math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) || (logY && y <= 0) {
			if len(cur) > 0 {
				segs = append(segs, cur)
				cur = nil
			}
			continue
		}
		cur = append(cur, plotter.XY{X: x, Y: y})
	}
	if len(cur) > 0 {
		segs = append(segs, cur)
	}
	for i, s := range segs {
		l, err := plotter.NewLine(s)
		if err != nil {
			continue
		}
		styleLine(&l.LineStyle, st)
		p.Add(l)
		if i == 0 && legend != "" {
			p.Legend.Add(legend, l)
		}
	}
}

func styleLine(ls *draw.LineStyle, st lineStyle) {
	ls.Color = st.Color
	if ls.Color == nil {
		ls.Color = plotColor(0)
	}
	w := st.Width
	if w == 0 {
		w = 1.5
	}
	ls.Width = vg.Points(w)
	switch {
	case st.Dashed:
		ls.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	case st.Dotted:
		ls.Dashes = []vg.Length{vg.Points(1.5), vg.Points(2)}
	}
}

// addHLine draws y = c across the plot.
func addHLine(p *plot.Plot, y float64, st lineStyle, legend string) {
	f := plotter.NewFunction(func(float64) float64 { return y })
	styleLine(&f.LineStyle, st)
	f.Samples = 2
	p.Add(f)
	if legend != "" {
		p.Legend.Add(legend, f)
	}
}

// addPoints draws markers (e.g. the final value of each arm).
func addPoints(p *plot.Plot, xs, ys []float64, c color.Color, legend string) {
	var xy plotter.XYs
	for i := range xs {
		if !math.IsNaN(ys[i]) && !math.IsInf(ys[i], 0) && (!isLog(p) || ys[i] > 0) {
			xy = append(xy, plotter.XY{X: xs[i], Y: ys[i]})
		}
	}
	if len(xy) == 0 {
		return
	}
	s, err := plotter.NewScatter(xy)
	if err != nil {
		return
	}
	s.GlyphStyle.Color = c
	s.GlyphStyle.Radius = vg.Points(3)
	s.GlyphStyle.Shape = draw.CircleGlyph{}
	p.Add(s)
	if legend != "" {
		p.Legend.Add(legend, s)
	}
}

func isLog(p *plot.Plot) bool { _, ok := p.Y.Scale.(plot.LogScale); return ok }

// setLogY puts the y axis on a log scale with 1–2–5 ticks (labelled as the range allows).
// Call it before adding lines, so that non-positive values are dropped.
func setLogY(p *plot.Plot) {
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = logTicks{}
}

// logTicks marks 1, 2 and 5 times each power of ten in range, labelling all of them over
// fewer than two decades and only the powers of ten beyond.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0) || !(hi > lo) {
		return nil
	}
	decades := math.Log10(hi / lo)
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		base := math.Pow(10, e)
		for _, m := range []float64{1, 2, 3, 5} {
			v := m * base
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			label := ""
			if m == 1 || decades < 1.2 || (decades < 2.2 && m != 3) {
				label = strconv.FormatFloat(v, 'g', 3, 64)
			}
			if m == 3 && decades >= 1.2 {
				continue
			}
			ticks = append(ticks, plot.Tick{Value: v, Label: label})
		}
	}
	if len(ticks) < 2 { // less than a factor of 2: plain ticks
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	return ticks
}

// savePanels writes the plots as one PNG of cols columns, each panel w × h points.
func savePanels(path string, cols int, w, h float64, plots ...*plot.Plot) error {
	if len(plots) == 0 {
		return fmt.Errorf("%s: no panels", path)
	}
	cols = max(1, min(cols, len(plots)))
	rows := (len(plots) + cols - 1) / cols
	grid := make([][]*plot.Plot, rows)
	for r := range grid {
		grid[r] = make([]*plot.Plot, cols)
		for c := range grid[r] {
			if i := r*cols + c; i < len(plots) {
				grid[r][c] = plots[i]
			}
		}
	}
	img := vgimg.NewWith(vgimg.UseWH(vg.Points(w*float64(cols)), vg.Points(h*float64(rows))), vgimg.UseDPI(96))
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(14), PadY: vg.Points(14),
		PadTop: vg.Points(6), PadBottom: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(10)}
	canvases := plot.Align(grid, tiles, dc)
	for r := range grid {
		for c := range grid[r] {
			if grid[r][c] != nil {
				grid[r][c].Draw(canvases[r][c])
			}
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	// Written whole and renamed into place: two report jobs at once (submit.sh run again while
	// the first report runs) never leave a figure torn.
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression} // the figures are committed under docs/
	if err := enc.Encode(&b, quantize(img.Image())); err != nil {
		return err
	}
	return rundir.WriteFileAtomic(path, b.Bytes())
}

// figurePalette holds every colour the figures draw: the line colours blended with white (for
// antialiased edges and bands), greys, and the diverging ramp of the cell grids. Mapping the
// image to it makes the PNGs three to four times smaller, with no visible change.
var figurePalette = func() color.Palette {
	var pal color.Palette
	for _, c := range append(append([]color.Color(nil), plotColors...), plotGrey) {
		r, g, b, _ := c.RGBA()
		for _, t := range []float64{1, 0.75, 0.5, 0.3, 0.15} {
			m := func(v uint32) uint8 { return uint8(math.Round(255 + (float64(v>>8)-255)*t)) }
			pal = append(pal, color.RGBA{m(r), m(g), m(b), 255})
		}
	}
	for g := 0; g < 256; g += 16 {
		pal = append(pal, color.RGBA{uint8(g), uint8(g), uint8(g), 255})
	}
	pal = append(pal, color.RGBA{255, 255, 255, 255}, plotGreyLight)
	for i := -24; i <= 24; i++ {
		pal = append(pal, divergingColor(float64(i)/24))
	}
	return pal
}()

// quantize maps an image to figurePalette (nearest colour, no dithering).
func quantize(src image.Image) *image.Paletted {
	dst := image.NewPaletted(src.Bounds(), figurePalette)
	stddraw.Draw(dst, dst.Bounds(), src, src.Bounds().Min, stddraw.Src)
	return dst
}

// gridCell is one cell of a cellGrid: a value mapped to a colour, and a label.
type gridCell struct {
	Value float64 // NaN: no colour (white)
	Label string
	Mark  bool // drawn with a heavy border (e.g. the basis does not cover the eigenvalues above 2/η)
	Fill  color.Color
}

// cellGrid is a plotter of labelled coloured cells at integer coordinates: cells[row][col]
// at (col, row). Use with p.NominalX / p.NominalY for the tick names.
type cellGrid struct {
	cells [][]gridCell
	color func(v float64) color.Color
}

func (g *cellGrid) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	sty := text.Style{Color: color.Black, Font: sans(9), XAlign: draw.XCenter, YAlign: draw.YCenter,
		Handler: plot.DefaultTextHandler}
	for r, row := range g.cells {
		for col, cell := range row {
			x0, x1 := tx(float64(col)-0.5), tx(float64(col)+0.5)
			y0, y1 := ty(float64(r)-0.5), ty(float64(r)+0.5)
			rect := vg.Rectangle{Min: vg.Point{X: x0, Y: y0}, Max: vg.Point{X: x1, Y: y1}}
			fill := cell.Fill
			if fill == nil {
				fill = color.White
				if !math.IsNaN(cell.Value) {
					fill = g.color(cell.Value)
				}
			}
			c.SetColor(fill)
			c.Fill(rect.Path())
			c.SetLineStyle(draw.LineStyle{Color: color.Gray{255}, Width: vg.Points(1.5)})
			c.Stroke(rect.Path())
			if cell.Mark {
				in := vg.Points(2.5)
				r2 := vg.Rectangle{Min: vg.Point{X: x0 + in, Y: y0 + in}, Max: vg.Point{X: x1 - in, Y: y1 - in}}
				c.SetLineStyle(draw.LineStyle{Color: color.Black, Width: vg.Points(1.5), Dashes: []vg.Length{vg.Points(3), vg.Points(2)}})
				c.Stroke(r2.Path())
			}
			if cell.Label != "" {
				st := sty
				if lum(fill) < 0.45 {
					st.Color = color.White
				}
				c.FillText(st, vg.Point{X: (x0 + x1) / 2, Y: (y0 + y1) / 2}, cell.Label)
			}
		}
	}
}

func (g *cellGrid) DataRange() (xmin, xmax, ymin, ymax float64) {
	cols := 0
	for _, row := range g.cells {
		cols = max(cols, len(row))
	}
	return -0.5, float64(cols) - 0.5, -0.5, float64(len(g.cells)) - 0.5
}

func lum(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	return (0.299*float64(r) + 0.587*float64(g) + 0.114*float64(b)) / 65535
}

// divergingColor maps t ∈ [−1, 1] to blue (−1) through white (0) to red (+1).
func divergingColor(t float64) color.Color {
	t = math.Max(-1, math.Min(1, t))
	blue := [3]float64{33, 102, 172}
	red := [3]float64{178, 24, 43}
	end := red
	if t < 0 {
		end, t = blue, -t
	}
	mix := func(i int) uint8 { return uint8(math.Round(255 + (end[i]-255)*t)) }
	return color.RGBA{mix(0), mix(1), mix(2), 255}
}

// newGridPlot returns a plot holding a cellGrid with named columns and rows.
func newGridPlot(title, xLabel, yLabel string, cols, rows []string, cells [][]gridCell, colorOf func(float64) color.Color) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	styleText(p)
	p.X.Padding, p.Y.Padding = 0, 0
	p.Add(&cellGrid{cells: cells, color: colorOf})
	p.NominalX(cols...)
	p.NominalY(rows...)
	p.X.Tick.Length, p.Y.Tick.Length = 0, 0
	return p
}

// movingMean smooths a series with a centred window of w points (NaNs skipped).
func movingMean(ys []float64, w int) []float64 {
	out := make([]float64, len(ys))
	h := w / 2
	for i := range ys {
		var s float64
		var n int
		for j := max(0, i-h); j <= min(len(ys)-1, i+h); j++ {
			if !math.IsNaN(ys[j]) {
				s += ys[j]
				n++
			}
		}
		out[i] = math.NaN()
		if n > 0 && !math.IsNaN(ys[i]) {
			out[i] = s / float64(n)
		}
	}
	return out
}
