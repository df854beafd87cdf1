package tui

import (
	"fmt"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"sharpflat/lab"
)

// twoUnits is a network's neurons over the plane by hand: a 4×2 grid, a hidden unit that
// is +1 on the left half and −1 on the right, one that is 0 everywhere (outgoing norm 0.5),
// and one output that rises from 0 to 3 left to right.
func twoUnits() *lab.Neurons {
	return &lab.Neurons{Plane: true, TW: 4, TH: 2, Classes: 2, Layers: []lab.NeuronLayer{
		{Lo: -1, Hi: 1, Units: []lab.NeuronUnit{
			{Values: []float32{1, 1, -1, -1, 1, 1, -1, -1}, OutNorm: 2},
			{Values: make([]float32, 8), OutNorm: 0.5},
		}},
		{Output: true, Lo: 0, Hi: 3, Units: []lab.NeuronUnit{{Values: []float32{0, 1, 2, 3, 0, 1, 2, 3}}}},
	}}
}

func TestDrawNeuronTiles(t *testing.T) {
	ne := twoUnits()
	g := newGrid(40, 11)
	drawNeurons(g.all(), ne, 7, 0, pictureLook{})
	screen := g.render(&NewStyles(asciiRenderer()).Ink)
	t.Logf("\n%s", screen)
	for _, s := range []string{"step 7", "L1·0 ‖w‖2", "L1·1 ‖w‖0.5", "out 0"} {
		if !strings.Contains(screen, s) {
			t.Errorf("screen lacks %q", s)
		}
	}
	lines := strings.Split(screen, "\n")
	// Tiles of 4 cells tall are 2·4·TW/TH = 16 wide. Unit L1·0: the left half █ (+1 of 1),
	// the right half = (−1 of 1); unit L1·1 (from column 17) blank.
	row := []rune(lines[1])
	if row[0] != '█' || row[8] != '=' || row[17] != ' ' {
		t.Errorf("first tile row %q", lines[1])
	}
	// The output's tile: 0, 1/3, 2/3, 1 of the scale across its four quarters: by hand the
	// index ⌊|a|/s·5⌋ of " ░▒▓█" is 0, 1, 3, 4.
	out := []rune(lines[1+5])
	for x, want := range map[int]rune{0: ' ', 4: '░', 8: '▓', 12: '█'} {
		if out[x] != want {
			t.Errorf("output tile at %d: %q, want %q (%q)", x, out[x], want, lines[6])
		}
	}
}

// In colour the tiles are half blocks: the pixel of +1 is the positive hue, of −1 the
// negative, of 0 the paper.
func TestDrawNeuronTilesColour(t *testing.T) {
	pal := sessionPalette(NewStyles(colorRenderer()))
	g := newGrid(40, 11)
	layers := drawNeurons(g.all(), twoUnits(), 7, 0, pictureLook{color: true, pal: pal})
	if len(layers) != 3 {
		t.Fatalf("%d layers, want a tile each of 3 units", len(layers))
	}
	c0, c1 := layers[0].at(0, 0), layers[0].at(layers[0].w-1, 0)
	if c0.fg != neuronPos || c1.fg != neuronNeg || layers[1].at(0, 0).fg != paper(true) {
		t.Errorf("pixels %v %v %v, want %v %v %v", c0.fg, c1.fg, layers[1].at(0, 0).fg, neuronPos, neuronNeg, paper(true))
	}
}

// Wide layers are paged: a page shows as many units as fit across, the title says how ←/→
// act, and every unit appears on exactly one page.
func TestNeuronPages(t *testing.T) {
	ne := &lab.Neurons{Plane: true, TW: 4, TH: 2, Layers: []lab.NeuronLayer{{Lo: -1, Hi: 1}}}
	for j := 0; j < 9; j++ {
		ne.Layers[0].Units = append(ne.Layers[0].Units, lab.NeuronUnit{Values: make([]float32, 8), OutNorm: float64(j)})
	}
	seen := map[string]int{}
	// Tiles 6 cells tall are 24 wide: two a page across 50 columns, so five pages.
	for page := 0; page < 7; page++ {
		g := newGrid(50, 8)
		drawNeurons(g.all(), ne, 1, page, pictureLook{})
		screen := g.render(&NewStyles(asciiRenderer()).Ink)
		if page == 0 && !strings.Contains(screen, "1/5 ←/→") {
			t.Errorf("no paging hint:\n%s", screen)
		}
		if page < 5 {
			for j := 0; j < 9; j++ {
				if strings.Contains(screen, fmt.Sprintf("L1·%d ", j)) {
					seen[fmt.Sprint(j)]++
				}
			}
		}
	}
	g := newGrid(100, 8)
	drawNeurons(g.all(), ne, 1, 0, pictureLook{})
	if s := g.render(&NewStyles(asciiRenderer()).Ink); !strings.Contains(s, "←/→ pages (not α) while V shows") {
		t.Errorf("no full paging hint:\n%s", s)
	}
	if len(seen) != 9 {
		t.Errorf("units seen on pages 1–5: %v, want all 9 once", seen)
	}
	for j, n := range seen {
		if n != 1 {
			t.Errorf("unit %s on %d pages", j, n)
		}
	}
}

// TestGoldenNeurons: the whole screen with V (the neurons) on the moons (tiles) at three
// sizes, and on the demo's Gaussian classes (the table of means) at 120×40, each with and
// without colour. Regenerate with `go test ./tui -run TestGoldenNeurons -update`.
func TestGoldenNeurons(t *testing.T) {
	moons := moonsSnapshot(t)
	demo := demoSnapshot(t)
	var cases []goldenCase
	for _, color := range []bool{false, true} {
		for _, size := range [][2]int{{80, 24}, {120, 40}, {200, 60}} {
			suffix := fmt.Sprintf("_%dx%d", size[0], size[1])
			if color {
				suffix += "_color"
			}
			cases = append(cases, goldenCase{name: "moons" + suffix, w: size[0], h: size[1], snap: &moons,
				keys: []tea.KeyMsg{typed("V")}, want: "neurons", color: color})
		}
		name := "demo_120x40"
		if color {
			name += "_color"
		}
		cases = append(cases, goldenCase{name: name, w: 120, h: 40, snap: &demo,
			keys: []tea.KeyMsg{typed("V")}, want: "mean activation per class", color: color})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.run(t)
			// The first unit's label is on the screen, and the outputs' on the tiles' one page.
			view := ansi.Strip(goldenView(t))
			if !strings.Contains(view, "L1·0") || strings.HasPrefix(c.name, "moons") && !strings.Contains(view, "out 1") {
				t.Errorf("the units' labels are missing:\n%s", view)
			}
		})
	}
}

// demoSnapshot is the synthetic run's charts with the picture of the demo preset's network
// at its start (deterministic: fixed seed): test points on two principal components, and
// the neurons' mean activation per class.
func demoSnapshot(t testing.TB) lab.Snapshot {
	s := syntheticSnapshot(600)
	s.Picture = lab.NewPainter().Paint(presetTrainer(t, "demo", 0))
	return s
}
