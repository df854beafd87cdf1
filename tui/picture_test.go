package tui

import (
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"sharpflat/lab"
	"sharpflat/lab/train"
)

// splitPicture has two classes split at x = 0 over [−2, 2]×[−1, 1], sure of them (q = 1)
// but for two unit squares (q = 0.5 at top of 0…1, q = 0.75 at the bottom of 1…2), and three
// points: one of each class on its own side, and a class-1 point predicted 0 on the left.
func splitPicture() *lab.Picture {
	return &lab.Picture{
		Step: 42, Kind: lab.PictureRegions, Classes: 2,
		X0: -2, X1: 2, Y0: -1, Y1: 1,
		GW: 4, GH: 2, Grid: []uint8{0, 0, 1, 1, 0, 0, 1, 1},
		Conf: []float32{1, 1, 0.5, 1, 1, 1, 1, 0.75},
		Points: []lab.PicturePoint{
			{X: -1, Y: 0.5, Class: 0, Pred: 0},
			{X: 1, Y: -0.5, Class: 1, Pred: 1},
			{X: -1.5, Y: -0.5, Class: 1, Pred: 0},
		},
		XLabel: "x₁", YLabel: "x₂",
	}
}

// plotBounds returns the bounding box of the cells holding region textures or point glyphs.
func plotBounds(g *grid) (x0, y0, w, h int) {
	x0, y0, x1, y1 := g.w, g.h, -1, -1
	for y := 1; y < g.h; y++ { // below the title line
		for x := 0; x < g.w; x++ {
			switch g.at(x, y) {
			case '█', '▒', '⣿', '⠪', '●', '▲':
				x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
			}
		}
	}
	return x0, y0, x1 - x0 + 1, y1 - y0 + 1
}

func TestDrawPictureRegions(t *testing.T) {
	p := splitPicture()
	g := newGrid(20, 10)
	drawPicture(g.all(), p, false, pictureLook{})
	screen := g.render(&NewStyles(asciiRenderer()).Ink)
	t.Logf("\n%s", screen)
	x0, y0, w, h := plotBounds(g)
	if w < 8 || h < 2 {
		t.Fatalf("plot %d×%d at (%d, %d)", w, h, x0, y0)
	}
	// One data unit as long across as down: w cells ≈ 2·(sx/sy)·h.
	if want := 2 * 2 * h; math.Abs(float64(w-want)) > 1.5 {
		t.Errorf("plot %d×%d, want about %d×%d", w, h, want, h)
	}
	cell := func(x, y float64) (int, int) {
		return x0 + int(math.Floor((x-p.X0)/(p.X1-p.X0)*float64(w))), y0 + int(math.Floor((p.Y1-y)/(p.Y1-p.Y0)*float64(h)))
	}
	points := map[[2]int]lab.PicturePoint{}
	for _, pt := range p.Points {
		cx, cy := cell(pt.X, pt.Y)
		points[[2]int{cx, cy}] = pt
		want := map[uint8]rune{0: '●', 1: '▲'}[pt.Class]
		if r, k := g.at(cx, cy), g.k[cy*g.w+cx]; r != want || k != inkClass+ink(pt.Class) {
			t.Errorf("point %+v: cell (%d, %d) holds %q ink %d, want %q ink %d", pt, cx, cy, r, k, want, inkClass+ink(pt.Class))
		}
	}
	for y := y0; y < y0+h; y++ {
		for x := x0; x < x0+w; x++ {
			if _, ok := points[[2]int{x, y}]; ok {
				continue
			}
			r, k := g.at(x, y), g.k[y*g.w+x]
			// By hand: the unit square under the cell's centre (squares closed on the left and
			// at the bottom: a centre on x = 0 is right of the split), its confidence q, and
			// the glyph of the level (q − ½)/(1 − ½) in its class's family: 1 → █ (class 0)
			// or ⣿ (class 1), 0.5 → ⠪ (class 1), 0 → blank.
			cx := p.X0 + (float64(x-x0)+0.5)/float64(w)*(p.X1-p.X0)
			cy := p.Y1 - (float64(y-y0)+0.5)/float64(h)*(p.Y1-p.Y0)
			wantR, wantK := '█', inkRegion
			if cx >= 0 {
				wantR, wantK = '⣿', inkRegion+1
			}
			switch {
			case cx >= 0 && cx < 1 && cy > 0:
				wantR = ' '
			case cx >= 1 && cy <= 0:
				wantR = '⠪'
			}
			if r != wantR || k != wantK {
				t.Errorf("cell (%d, %d) holds %q ink %d, want %q ink %d", x, y, r, k, wantR, wantK)
			}
		}
	}
	lines := strings.Split(screen, "\n")
	if !strings.HasPrefix(lines[0], "regions") || !strings.Contains(lines[0], "@42") || !strings.Contains(lines[0], "●0 ▲1") {
		t.Errorf("title line %q", lines[0])
	}
	if !strings.Contains(screen, "x₂") || !strings.Contains(screen, "-2") || !strings.Contains(screen, "2") {
		t.Errorf("axes missing:\n%s", screen)
	}
	if strings.Contains(screen, "\x1b") {
		t.Error("escape codes in the ASCII profile")
	}

	// At full width the title names both classes, the shades of each and the accuracy.
	g = newGrid(100, 12)
	drawPicture(g.all(), p, false, pictureLook{})
	head := strings.Split(g.render(&NewStyles(asciiRenderer()).Ink), "\n")[0]
	for _, s := range []string{"decision regions", "step 42", "● class 0", "▲ class 1", "sure: ░▒▓█ 0 ⠂⠪⠿⣿ 1", "67% right of 3 train points"} {
		if !strings.Contains(head, s) {
			t.Errorf("title %q lacks %q", head, s)
		}
	}
}

// Without colour, regions of different classes never shade alike where the network is sure
// of them (the top two of the four levels), the boundary (a coin toss) is a gap, and no
// point's glyph, of a training or a test point, is ever a region's, for any number of
// classes up to 26 (past it the capitals run out: every later class shades #).
func TestRegionGlyphsByClass(t *testing.T) {
	for n := 1; n <= 26; n++ {
		shades := map[rune]int{} // glyph → class
		for c := 0; c < n; c++ {
			// Probabilities at the middle of each fifth of the range from 1/n to 1.
			lo := 1 / float64(max(n, 2))
			for lvl := 0; lvl < 5; lvl++ {
				q := float32(lo + (float64(lvl)+0.5)/5*(1-lo))
				g := regionGlyph(c, q, n)
				if lvl == 0 {
					if g != ' ' {
						t.Errorf("%d classes: class %d at a coin toss shades %q, want a gap", n, c, g)
					}
					continue
				}
				if lvl >= 3 {
					if other, ok := shades[g]; ok && other != c {
						t.Errorf("%d classes: classes %d and %d both shade %q where sure", n, other, c, g)
					}
					shades[g] = c
				}
			}
			for _, r := range regionFamily(c) {
				shades[r] = c
			}
		}
		for c := 0; c < n; c++ {
			for _, g := range []rune{classGlyph(c, n), testGlyph(c, n)} {
				if _, ok := shades[g]; ok || g == ' ' {
					t.Errorf("%d classes: class %d's point glyph %q is also a region's shade", n, c, g)
				}
			}
		}
	}
	// Past 26 classes points are still never shades.
	for n := 27; n <= 60; n++ {
		for c := 0; c < n; c++ {
			for _, g := range []rune{classGlyph(c, n), testGlyph(c, n)} {
				for k := 0; k < n; k++ {
					if slices.Contains(regionFamily(k), g) {
						t.Errorf("%d classes: point glyph %q of class %d shades class %d", n, g, c, k)
					}
				}
			}
		}
	}
}

func TestDrawPictureProjection(t *testing.T) {
	p := &lab.Picture{
		Step: 7, Kind: lab.PictureProjection, Classes: 10,
		X0: -3, X1: 3, Y0: -1, Y1: 1,
		XLabel: "PC1 (40% of variance)", YLabel: "PC2 (9% of variance)",
	}
	for c := 0; c < 10; c++ {
		p.Points = append(p.Points, lab.PicturePoint{X: -2.9 + 0.6*float64(c), Y: 0, Class: uint8(c), Pred: uint8((c + 1) % 10)})
	}
	g := newGrid(60, 16)
	drawPicture(g.all(), p, false, pictureLook{})
	screen := g.render(&NewStyles(asciiRenderer()).Ink)
	t.Logf("\n%s", screen)
	for _, s := range []string{"test points on PC1, PC2", "PC1 (40% of variance)", "PC2 (9% of variance)", "0% right"} {
		if !strings.Contains(screen, s) {
			t.Errorf("screen lacks %q", s)
		}
	}
	// Each point is its true class's digit in its predicted class's ink.
	found := 0
	for i, r := range g.r {
		if g.k[i] < inkClass || g.k[i] >= inkRegion {
			continue
		}
		c := int(r - '0')
		if c < 0 || c > 9 || g.k[i] != classInk((c+1)%10) {
			t.Errorf("cell %d holds %q in ink %d", i, r, g.k[i])
		}
		found++
	}
	if found != 10 {
		t.Errorf("%d points drawn, want 10", found)
	}
}

// Drawing never panics and never writes outside its area, whatever the size and however odd
// the picture.
func TestDrawPictureAnySize(t *testing.T) {
	odd := []*lab.Picture{
		nil,
		splitPicture(),
		{Kind: lab.PictureRegions, Classes: 2, X0: 0, X1: 0, Y0: 0, Y1: 1},
		{Kind: lab.PictureRegions, Classes: 3, X0: 0, X1: 1, Y0: 0, Y1: 1, GW: 5, GH: 5, Grid: []uint8{1}},
		{Kind: lab.PictureProjection, Classes: 300, X0: -1, X1: 1, Y0: 0, Y1: math.Inf(1),
			Points: []lab.PicturePoint{{X: math.NaN(), Y: 1, Class: 200, Pred: 255}}},
		{Kind: lab.PictureProjection, Classes: 40, X0: -1e-300, X1: 1e300, Y0: -1, Y1: 1,
			Points: []lab.PicturePoint{{X: 0, Y: 0, Class: 39, Pred: 12}, {X: math.Inf(1), Y: 0}}},
		{Kind: lab.PictureRegions, Classes: 0, X0: -1, X1: 1, Y0: -1, Y1: 1, GW: 1, GH: 1, Grid: []uint8{9},
			Points: []lab.PicturePoint{{X: 5, Y: -5, Class: 9, Pred: 9}}},
	}
	for _, p := range odd {
		for w := 0; w <= 24; w++ {
			for h := 0; h <= 12; h++ {
				g := newGrid(w+4, h+4)
				a := g.all().sub(2, 2, w, h)
				drawPicture(a, p, p == nil && w%2 == 0, pictureLook{})
				for y := 0; y < g.h; y++ {
					for x := 0; x < g.w; x++ {
						if inside := x >= 2 && y >= 2 && x < 2+w && y < 2+h; !inside && g.at(x, y) != 0 {
							t.Fatalf("%d×%d: %q drawn at (%d, %d), outside the area", w, h, g.at(x, y), x, y)
						}
					}
				}
			}
		}
	}
	g := newGrid(80, 4)
	drawPicture(g.all(), nil, true, pictureLook{})
	if s := g.render(&NewStyles(asciiRenderer()).Ink); !strings.Contains(s, "no picture for regression data") {
		t.Errorf("regression:\n%s", s)
	}
}

// The moons after 500 steps, as the lab shows them in a 60×20 panel.
func TestDrawPictureMoons(t *testing.T) {
	p := lab.NewPainter().Paint(trainedMoons(t))
	g := newGrid(60, 20)
	drawPicture(g.all(), p, false, pictureLook{})
	screen := g.render(&NewStyles(asciiRenderer()).Ink)
	t.Logf("\n%s", screen)
	for _, s := range []string{"█", "░", "●", "▲", "x₁", "x₂", "decision regions"} {
		if !strings.Contains(screen, s) {
			t.Errorf("the moons lack %q", s)
		}
	}
}

// BenchmarkDrawPicture draws and renders the moons' picture in a 120×40 panel, in glyphs
// (NO_COLOR) and in true-colour half blocks spliced over the rendered grid.
func BenchmarkDrawPicture(b *testing.B) {
	c, _ := train.Preset("moons")
	tr, err := train.New(c)
	if err != nil {
		b.Fatal(err)
	}
	p := lab.NewPainter().Paint(tr)
	for _, color := range []bool{false, true} {
		name := "glyphs"
		r := asciiRenderer()
		if color {
			name, r = "halfblocks", colorRenderer()
		}
		b.Run(name, func(b *testing.B) {
			st := NewStyles(r)
			pal := sessionPalette(st)
			b.ReportAllocs()
			for b.Loop() {
				g := newGrid(120, 40)
				l := drawPicture(g.all(), p, false, pictureLook{test: true, color: color, pal: pal})
				var ls []*colorLayer
				if l != nil {
					ls = append(ls, l)
				}
				spliceLayers(g.render(&st.Ink), ls, pal)
			}
		})
	}
}

// In colour the plot is a layer of half blocks: the grid's cells under it stay blank, and
// each cell's two pixels are the shades of the unit squares under the upper and the lower
// half of the cell (computed here from the squares by hand), points in their lifted hue over
// the mean of the two.
func TestDrawPictureHalfBlocks(t *testing.T) {
	p := splitPicture()
	pal := sessionPalette(NewStyles(colorRenderer()))
	if pal.profile != termenv.TrueColor || !pal.dark {
		t.Fatalf("palette %+v, want true colour on a dark background", pal)
	}
	g := newGrid(20, 10)
	layer := drawPicture(g.all(), p, false, pictureLook{color: true, pal: pal})
	if layer == nil {
		t.Fatal("no layer in colour")
	}
	// The plot of TestDrawPictureRegions: 17×4 cells at (3, 2), so 17×8 pixels.
	if layer.x != 3 || layer.y != 2 || layer.w != 17 || layer.h != 4 {
		t.Fatalf("layer %d×%d at (%d, %d), want 17×4 at (3, 2)", layer.w, layer.h, layer.x, layer.y)
	}
	for y := layer.y; y < layer.y+layer.h; y++ {
		for x := layer.x; x < layer.x+layer.w; x++ {
			if r := g.at(x, y); r != 0 {
				t.Fatalf("grid cell (%d, %d) under the layer holds %q", x, y, r)
			}
		}
	}
	conf := func(x, y float64) (int, float64) { // the split picture by hand
		c, q := 0, 1.0
		if x >= 0 {
			c = 1
		}
		if x >= 0 && x < 1 && y > 0 {
			q = 0.5
		}
		if x >= 1 && y <= 0 {
			q = 0.75
		}
		return c, q
	}
	dark := rgb{0x30, 0x30, 0x30}
	want := func(x, y float64) rgb {
		c, q := conf(x, y)
		t := 2*q - 1 // (q − ½)/(1 − ½)
		h := classHues[c]
		f := func(a, b uint8) uint8 { return uint8(math.Round(float64(a) + t*(float64(b)-float64(a)))) }
		return rgb{f(dark.r, h.r), f(dark.g, h.g), f(dark.b, h.b)}
	}
	points := map[[2]int]bool{}
	for _, pt := range p.Points {
		points[[2]int{int((pt.X + 2) / 4 * 17), int((1 - pt.Y) / 2 * 4)}] = true
	}
	for cy := 0; cy < 4; cy++ {
		for cx := 0; cx < 17; cx++ {
			x := -2 + (float64(cx)+0.5)/17*4
			up, lo := want(x, 1-(2*float64(cy)+0.5)/8*2), want(x, 1-(2*float64(cy)+1.5)/8*2)
			c := layer.at(cx, cy)
			if points[[2]int{cx, cy}] {
				if c.r != '●' && c.r != '▲' || !c.bold || c.bg != mix(up, lo, 0.5) {
					t.Errorf("point cell (%d, %d) is %q bold %v on %v, want a class glyph on %v", cx, cy, c.r, c.bold, c.bg, mix(up, lo, 0.5))
				}
				continue
			}
			if c.r != '▀' || c.fg != up || c.bg != lo {
				t.Errorf("cell (%d, %d) is %q %v over %v, want ▀ %v over %v", cx, cy, c.r, c.fg, c.bg, up, lo)
			}
		}
	}
	// Over the rendered grid: every line keeps its width, and the plot's lines carry the
	// half blocks in 24-bit colour.
	screen := spliceLayers(g.render(&NewStyles(colorRenderer()).Ink), []*colorLayer{layer}, pal)
	t.Logf("\n%s", screen)
	lines := strings.Split(screen, "\n")
	for i, l := range lines {
		if n := ansi.StringWidth(l); n != 20 {
			t.Errorf("line %d is %d cells wide, want 20", i, n)
		}
	}
	if plain := ansi.Strip(lines[2]); !strings.Contains(plain, "▀▀▀▀") || !strings.Contains(lines[2], "48;2;") {
		t.Errorf("line 2 %q lacks its true-colour half blocks", lines[2])
	}
	// A 256-colour terminal gets the same layer in its palette; the ASCII profile none.
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.ANSI256)
	p256 := sessionPalette(NewStyles(r))
	if s := spliceLayers(g.render(&NewStyles(r).Ink), []*colorLayer{layer}, p256); p256.profile != termenv.ANSI256 || strings.Contains(s, "38;2;") || !strings.Contains(s, "48;5;") {
		t.Errorf("256 colours (%v): %q", p256.profile, s)
	}
	if pa := sessionPalette(NewStyles(asciiRenderer())); pa.profile != termenv.Ascii {
		t.Errorf("the ASCII renderer probes as %v", pa.profile)
	}
}

// x: the test points go over the training points as hollow glyphs of their class, and the
// title counts them.
func TestDrawPictureTestPoints(t *testing.T) {
	p := splitPicture()
	p.Test = []lab.PicturePoint{{X: 1.5, Y: 0.5, Class: 1, Pred: 1}, {X: -0.5, Y: -0.5, Class: 1, Pred: 0}}
	g := newGrid(120, 12) // the whole title: the keys, both notes and the count
	drawPicture(g.all(), p, false, pictureLook{test: true})
	screen := g.render(&NewStyles(asciiRenderer()).Ink)
	t.Logf("\n%s", screen)
	if n := strings.Count(screen, "△"); n != 3 { // two in the plot, one in the title
		t.Errorf("%d △ on the screen, want 3", n)
	}
	for _, s := range []string{"●○ class 0", "▲△ class 1", "hollow: test", "50% right of 2 test points"} {
		if !strings.Contains(screen, s) {
			t.Errorf("screen lacks %q", s)
		}
	}
	g = newGrid(90, 12)
	drawPicture(g.all(), p, false, pictureLook{})
	if s := g.render(&NewStyles(asciiRenderer()).Ink); strings.Contains(s, "△") {
		t.Errorf("test points drawn without x:\n%s", s)
	}
}

// From 160 columns the picture goes beside the charts: every panel of the wide arrangement
// keeps a place, the picture is a column at the right as tall as the charts, and nothing
// overlaps or leaves the grid; narrower, the layout is computeLayout's.
func TestPictureBesideTheCharts(t *testing.T) {
	for w := MinWidth; w <= 230; w += 5 {
		for h := MinHeight; h <= 70; h += 4 {
			l := computeLayout(w, h, 0, 1, h, true)
			b := l.besidePicture(10)
			if !l.wide || w < 160 {
				if !maps.Equal(b.rects, l.rects) {
					t.Errorf("%d×%d: the picture moved below 160 columns or outside the wide arrangement", w, h)
				}
				continue
			}
			want := append(slices.Concat(wideRows...), panelPicture)
			got := slices.Collect(maps.Keys(b.rects))
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%d×%d: panels %v, want %v", w, h, got, want)
			}
			pic := b.rects[panelPicture]
			if pic.x+pic.w != w || pic.y != 0 || pic.h != l.chartsH || pic.w < w/3 {
				t.Errorf("%d×%d: picture at %+v, want a column at the right %d tall", w, h, pic, l.chartsH)
			}
			cells := make([]bool, w*l.chartsH)
			for id, r := range b.rects {
				if r.x < 0 || r.y < 0 || r.w <= 0 || r.h <= 0 || r.x+r.w > w || r.y+r.h > l.chartsH {
					t.Fatalf("%d×%d: panel %d at %+v outside the grid", w, h, id, r)
				}
				for y := r.y; y < r.y+r.h; y++ {
					for x := r.x; x < r.x+r.w; x++ {
						if cells[y*w+x] {
							t.Fatalf("%d×%d: panel %d overlaps another at (%d, %d)", w, h, id, x, y)
						}
						cells[y*w+x] = true
					}
				}
			}
			if _, ok := l.rects[panelSplit]; ok {
				t.Errorf("%d×%d: computeLayout's own picture layout changed", w, h)
			}
		}
	}
}

// TestGoldenPicture: the whole screen with v on the moons, and with v then x (the test
// points), at three sizes, without colour (NO_COLOR: each class's family of shades) and in
// true colour (half blocks); at 200 columns the picture is beside the charts.
// Regenerate with `go test ./tui -run TestGoldenPicture -update` and review the diff.
func TestGoldenPicture(t *testing.T) {
	moons := moonsSnapshot(t)
	var cases []goldenCase
	for _, size := range [][2]int{{80, 24}, {120, 40}, {200, 60}} {
		for _, color := range []bool{false, true} {
			suffix := fmt.Sprintf("_%dx%d", size[0], size[1])
			if color {
				suffix += "_color"
			}
			cases = append(cases,
				goldenCase{name: "moons" + suffix, w: size[0], h: size[1], snap: &moons,
					keys: []tea.KeyMsg{typed("v")}, want: "picture on", color: color},
				goldenCase{name: "moons_test" + suffix, w: size[0], h: size[1], snap: &moons,
					keys: []tea.KeyMsg{typed("v"), typed("x")}, want: "test points on", color: color})
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.run(t)
			view := goldenView(t)
			if c.color != strings.Contains(view, "▀") {
				t.Errorf("colour %v, half blocks %v", c.color, !c.color)
			}
			if !c.color && !strings.Contains(view, "█") || !c.color && !strings.Contains(view, "⣿") {
				t.Error("without colour the regions of class 0 (█) and class 1 (⣿) do not both show")
			}
		})
	}
}

// goldenView is the golden file of the running test, as goldenCase.run checked it.
func goldenView(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(t.Name())+".golden"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// x switches the test points while its binding is enabled (the picture shows), and is any
// other key while it is not.
func TestPictureTestPointsKey(t *testing.T) {
	km := DefaultKeyMap()
	var s pictureState
	if _, ok := s.key(typed("x"), km); ok || s.test {
		t.Fatal("x acted with the picture off")
	}
	km.TestPoints.SetEnabled(true)
	if words, ok := s.key(typed("x"), km); !ok || !s.test || !strings.Contains(words, "test points on") {
		t.Errorf("x: %q %v, test %v", words, ok, s.test)
	}
	if _, ok := s.key(typed("t"), km); ok || !s.test {
		t.Error("t (the refresh period) switched the test points")
	}
	if words, ok := s.key(typed("x"), km); !ok || s.test || words != "test points off" {
		t.Errorf("x again: %q %v, test %v", words, ok, s.test)
	}
}

// V opens the neurons at their first page; while they show, ←/→ page (and are not α's);
// closed, ← is any other key again.
func TestPictureNeuronsKeys(t *testing.T) {
	km := DefaultKeyMap()
	km.Neurons.SetEnabled(true)
	km.NeuronsBack.SetEnabled(true)
	km.NeuronsNext.SetEnabled(true)
	left, right := tea.KeyMsg{Type: tea.KeyLeft}, tea.KeyMsg{Type: tea.KeyRight}
	s := pictureState{page: 3}
	if _, ok := s.key(left, km); ok {
		t.Fatal("← acted with the neurons closed")
	}
	if words, ok := s.key(typed("V"), km); !ok || !s.neurons || s.page != 0 || !strings.Contains(words, "not α") {
		t.Fatalf("V: %q %v %+v", words, ok, s)
	}
	for _, k := range []tea.KeyMsg{right, right, left, left, left} {
		if _, ok := s.key(k, km); !ok {
			t.Fatalf("%v not taken while the neurons show", k)
		}
	}
	if s.page != 0 {
		t.Errorf("page %d after →→←←←, want 0", s.page)
	}
	s.key(right, km)
	if s.page != 1 {
		t.Errorf("page %d after →, want 1", s.page)
	}
	if words, ok := s.key(typed("V"), km); !ok || s.neurons || !strings.Contains(words, "α again") {
		t.Errorf("V again: %q %v %+v", words, ok, s)
	}
}

// The lab's keys end to end: v shows the picture, x its test points, V the neurons (←/→
// page them and leave α alone), V again closes them and ← slides α again.
func TestPictureKeysInTheLab(t *testing.T) {
	moons := moonsSnapshot(t)
	m := New(idleEngine(t), asciiRenderer(), Options{})
	t.Cleanup(m.Close)
	var mm tea.Model = m
	send := func(msgs ...tea.Msg) string {
		for _, msg := range msgs {
			mm, _ = mm.Update(msg)
		}
		return mm.View()
	}
	if v := send(tea.WindowSizeMsg{Width: 120, Height: 40}, snapshotMsg{moons}, typed("v"), typed("x")); !strings.Contains(v, "hollow: test") || !strings.Contains(v, "test points on") {
		t.Errorf("v x:\n%s", v)
	}
	seq := mm.(Model).want.seq
	v := send(typed("V"), tea.KeyMsg{Type: tea.KeyRight})
	if !strings.Contains(v, "what each neuron computes") || !strings.Contains(v, "page 2/") || mm.(Model).want.seq != seq {
		t.Errorf("V →: page 2 and α as it was:\n%s", v)
	}
	if v := send(typed("V")); strings.Contains(v, "what each neuron computes") || !mm.(Model).c.KeyMap.AlphaDown.Enabled() {
		t.Errorf("V again:\n%s", v)
	}
	if send(tea.KeyMsg{Type: tea.KeyRight}); mm.(Model).want.seq == seq {
		t.Error("→ after V closed did not slide α")
	}
}

// Layers side by side on a line (a row of neuron tiles) are spliced in one pass over the
// grid's own line: the text is the grid's with each layer's glyphs in its place, and every
// layer's colours are written once, not again with each later layer (the escapes grow
// with the layers, not with their square).
func TestSpliceLayersSideBySide(t *testing.T) {
	const n = classInks // layers of 2×1 cells at x = 0, 4, 8, …, each its own hue, the grid's "ab" between them
	pal := sessionPalette(NewStyles(colorRenderer()))
	g := newGrid(4*n, 1)
	var layers []*colorLayer
	want := ""
	for k := range n {
		g.all().text(4*k+2, 0, "ab", inkLabel)
		l := newColorLayer(g.all(), 4*k, 0, 2, 1)
		for x := range 2 {
			*l.at(x, 0) = colorCell{r: '▀', fg: classHues[k%classInks], bg: paper(true)}
		}
		layers = append(layers, l)
		want += "▀▀ab"
	}
	line := g.render(&NewStyles(colorRenderer()).Ink)
	out := spliceLayers(line, layers, pal)
	if got := ansi.Strip(out); got != want {
		t.Errorf("text %q, want %q", got, want)
	}
	// Each layer's row: a reset, one SGR for its two equal cells, a reset; the grid's pieces
	// carry the grid line's own escapes (each before the piece) once each.
	bound := 3*n + strings.Count(line, "\x1b[")*(n+1)
	if got := strings.Count(out, "\x1b["); got > bound {
		t.Errorf("%d escapes for %d layers, want at most %d", got, n, bound)
	}
	for k := range n {
		seq := pal.sequence(classHues[k%classInks], false)
		if c := strings.Count(out, seq); c != 1 {
			t.Errorf("layer %d's colour written %d times, want once", k, c)
		}
	}
}
