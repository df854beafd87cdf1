package tui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"sharpflat/lab"
)

// legendLine draws items on a w-wide line and returns it, trailing blanks cut.
func legendLine(w int, items ...item) string {
	g := newGrid(w, 1)
	legend(g.all(), items...)
	return strings.TrimRight(g.render(&NewStyles(asciiRenderer()).Ink), " ")
}

// The order of degrading: notes shorten and go before a key loses its value; items of one
// rank go together; what fits again comes back. Widths counted by hand beside each case.
func TestLegendDegrades(t *testing.T) {
	items := []item{
		title("sharpness", "", 0),                               // 9
		seriesKey("─", inkSharp, "λ₁", "12.71", 4),              // 10, short 4
		seriesKey("+", inkBulk, "λ₁₁", "1.71", 3),               // 10, short 5
		seriesKey("╌", inkEdge, "2/η", "20", 5),                 // 8, short 5
		note("felt λ₁ 64% of edge", "64% of edge", inkLabel, 1), // 19, short 11
	}
	for _, c := range []struct {
		w    int
		want string
	}{
		{80, "sharpness  ─ λ₁ 12.71  + λ₁₁ 1.71  ╌ 2/η 20  felt λ₁ 64% of edge"}, // 67: all
		{60, "─ λ₁ 12.71  + λ₁₁ 1.71  ╌ 2/η 20  felt λ₁ 64% of edge"},            // the title goes first (rank 0)
		{45, "─ λ₁ 12.71  + λ₁₁ 1.71  ╌ 2/η 20  64% of edge"},                    // then the note shortens
		{39, "─ λ₁ 12.71  + λ₁₁ 1.71  ╌ 2/η 20"},                                 // and goes, before any value
		{29, "─ λ₁ 12.71  + λ₁₁  ╌ 2/η 20"},                                      // the least needed key's value
		{19, "─ λ₁  + λ₁₁  ╌ 2/η"},                                               // every value, keys still named
	} {
		if got := legendLine(c.w, items...); got != c.want {
			t.Errorf("width %d:\n got %q\nwant %q", c.w, got, c.want)
		}
	}
	// Two notes of one rank go together, and come back together.
	two := []item{title("loss", "", keep), note("aaaa", "", inkLabel, 0), note("bbbb", "", inkLabel, 0), note("cc", "", inkLabel, 1)}
	if got, want := legendLine(14, two...), "loss  cc"; got != want {
		t.Errorf("one rank: %q, want %q", got, want)
	}
	if got, want := legendLine(22, two...), "loss  aaaa  bbbb  cc"; got != want {
		t.Errorf("one rank: %q, want %q", got, want)
	}
}

// With NO_COLOR at 80×24 the sharpness legend keeps its values (it read "─ λ₁  + λ₁₁  ╌
// 2/η 20 ↑"): λ₁, λ₁₁ and the edge with their numbers, in the synthetic run, Bulk-SGD past
// the edge and the edge far above the chart.
func TestSharpnessLegendKeepsValues(t *testing.T) {
	run := syntheticSnapshot(600)
	bulk := bulkSnapshot(false)
	far := syntheticSnapshot(600)
	far.Config.LR, far.Threshold = 0.01, 200
	for _, c := range []struct {
		name string
		snap lab.Snapshot
		want []string
	}{
		{"run", run, []string{"─ λ₁ 12.71", "+ λ₁₁ 1.71", "╌ 2/η 20"}},
		{"bulk", bulk, []string{"─ λ₁ 41.1", "+ λ₁₁ 3.8", "╌ 2/η 4"}},
		{"far", far, []string{"─ λ₁ 12.71", "+ λ₁₁ 1.71", "╌ 2/η 200 ↑"}},
		// Early in a run (the chart tops at λ₁ ≈ 2.5 against 2/η 20): the edge far above;
		// the words "above the chart" went first, the values stay (they went before).
		{"early", syntheticSnapshot(40), []string{"─ λ₁ 12.71", "+ λ₁₁ 1.71", "╌ 2/η 20 ↑"}},
	} {
		m := New(idleEngine(t), asciiRenderer(), Options{})
		mm, _ := m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
		mm, _ = mm.Update(snapshotMsg{c.snap})
		m.Close()
		v := ansi.Strip(mm.View())
		head := strings.Split(v, "\n")[3] // header, slider, settings, then the top panels' legends
		for _, w := range c.want {
			if !strings.Contains(head, w) {
				t.Errorf("%s: the sharpness legend %q has no %q", c.name, head, w)
			}
		}
	}
}

// The keys of λ_B and λ_d give way first: they lose their values with the title, and go
// before the title does or any other item gives anything up. Widths counted by hand.
func TestBatchKeysGiveWayFirst(t *testing.T) {
	items := []item{
		title("sharpness", "", 0),                               // 9
		seriesKey("─", inkSharp, "λ₁", "12.71", 4),              // 10, short 4
		seriesKey("+", inkBulk, "λ₁₁", "1.71", 3),               // 10, short 5
		batchKey("∘", inkChiF, "λ_B", "1.7"),                    // 9, short 5
		batchKey("⋄", inkTest, "λ_d", "1.52"),                   // 10, short 5
		seriesKey("╌", inkEdge, "2/η", "20", 5),                 // 8, short 5
		note("felt λ_d 1.11× edge!", "1.11× edge!", inkWarn, 6), // 20, short 11
	}
	for _, c := range []struct {
		w    int
		want string
	}{
		{88, "sharpness  ─ λ₁ 12.71  + λ₁₁ 1.71  ∘ λ_B 1.7  ⋄ λ_d 1.52  ╌ 2/η 20  felt λ_d 1.11× edge!"}, // 76 + 12: all
		{86, "─ λ₁ 12.71  + λ₁₁ 1.71  ∘ λ_B  ⋄ λ_d  ╌ 2/η 20  felt λ_d 1.11× edge!"},                     // 58 + 10: values go with the title
		{67, "sharpness  ─ λ₁ 12.71  + λ₁₁ 1.71  ╌ 2/η 20  felt λ_d 1.11× edge!"},                        // 57 + 8: the keys go, the title is back
		{60, "─ λ₁ 12.71  + λ₁₁ 1.71  ╌ 2/η 20  felt λ_d 1.11× edge!"},                                   // 48 + 6
	} {
		if got := legendLine(c.w, items...); got != c.want {
			t.Errorf("width %d:\n got %q\nwant %q", c.w, got, c.want)
		}
	}
}
