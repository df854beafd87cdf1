package tui

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// splitRow reads a row of the split panel: "λ₃  22.36 = 21.2 +1.16 ███".
var splitRow = regexp.MustCompile(`λ[₀-₉]+ +(-?[0-9.e]+) = +(-?[0-9.e]+) +([+-][0-9.e]+)`)

// The split shown beside a newer basis (the screen: λ₁ 15.78 in use, a split of
// step 240 with G 21.2, F +1.16): every row adds up, λᵢ = Gᵢ + Fᵢ, with the λ of the split's
// own basis, the title says which basis that is, and no G share passes 100% (F < 0 made
// G/λ read 112%).
func TestSplitAddsUp(t *testing.T) {
	snap := syntheticSnapshot(600)
	b := &snap.Basis
	b.Values[0], b.Step = 15.78, 599
	b.GGN[0], b.Functional[0] = 21.2, 1.16 // the split's own λ₁ is 22.36
	b.GGN[1], b.Functional[1] = 11.2, -1.2 // G/λ would be 112%
	b.SplitStep = 240
	for _, size := range [][2]int{{120, 40}, {200, 60}} {
		g := newGrid(size[0]/3, 16)
		m := Model{snap: snap}
		m.splitPanel(g.all())
		screen := g.render(&NewStyles(asciiRenderer()).Ink)
		head, _, _ := strings.Cut(screen, "\n")
		if !strings.Contains(head, "@240") {
			t.Errorf("%v: the title does not say the split is of step 240: %q", size, head)
		}
		rows := splitRow.FindAllStringSubmatch(screen, -1)
		if len(rows) < 5 {
			t.Fatalf("%v: %d rows read:\n%s", size, len(rows), screen)
		}
		for _, r := range rows {
			lam, _ := strconv.ParseFloat(r[1], 64)
			gv, _ := strconv.ParseFloat(r[2], 64)
			fv, _ := strconv.ParseFloat(r[3], 64)
			// Each number is rounded to 3–4 significant digits: they agree to that.
			if math.Abs(lam-(gv+fv)) > 0.006*math.Max(1, math.Abs(lam)) {
				t.Errorf("%v: %q does not add up (%g + %g = %g)", size, r[0], gv, fv, gv+fv)
			}
		}
		if !strings.Contains(rows[0][0], "22.36 = 21.2 +1.16") {
			t.Errorf("%v: first row %q, want λ₁ 22.36 = 21.2 +1.16", size, rows[0][0])
		}
	}
	// The narrow layout's G share: |G|/(|G|+|F|), 11.2/12.4 = 90% for G 11.2, F −1.2.
	g := newGrid(40, 12)
	m := Model{snap: snap}
	m.spectrumPanel(g.all(), true)
	screen := g.render(&NewStyles(asciiRenderer()).Ink)
	for _, p := range regexp.MustCompile(`G ([0-9]+)%`).FindAllStringSubmatch(screen, -1) {
		if v, _ := strconv.Atoi(p[1]); v > 100 {
			t.Errorf("a G share of %d%%:\n%s", v, screen)
		}
	}
	if !strings.Contains(screen, "G 90%") || !strings.Contains(screen, "G share @240") {
		t.Errorf("want G 90%% on λ₂ and the split's step:\n%s", screen)
	}
}

func TestGShareOf(t *testing.T) {
	// By hand: |G| / (|G| + |F|).
	for _, c := range []struct{ g, f, want float64 }{{12.5, 0.21, 12.5 / 12.71}, {11.2, -1.2, 11.2 / 12.4}, {-1, 3, 0.25}, {0, 2, 0}} {
		if got := gShareOf(c.g, c.f); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("gShareOf(%g, %g) = %g, want %g", c.g, c.f, got, c.want)
		}
	}
	if !math.IsNaN(gShareOf(0, 0)) {
		t.Error("gShareOf(0, 0) is not NaN")
	}
}
