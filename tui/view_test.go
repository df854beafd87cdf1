package tui

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"

	"sharpflat/lab"
)

// Golden files: the screen at fixed sizes in the ASCII profile, driven by synthetic
// snapshots. Regenerate with `go test ./tui -run TestGolden -update` and review the diff.

// goldenCase is one screen: a size, a snapshot, keys typed after it, options.
type goldenCase struct {
	name  string
	w, h  int
	snap  *lab.Snapshot // nil: none (the screen before the first snapshot)
	keys  []tea.KeyMsg
	opts  Options
	want  string // text the screen must show before it is captured
	color bool   // true colour instead of the ASCII profile
}

func typed(s string) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)} }

func TestGolden(t *testing.T) {
	run := syntheticSnapshot(600)
	div := divergedSnapshot(600)
	paused := syntheticSnapshot(600)
	paused.Run, paused.Rate = lab.Paused, 0
	early := syntheticSnapshot(3)
	early.Basis.Values, early.Basis.Residuals, early.Basis.GGN, early.Basis.Functional, early.Basis.Step = nil, nil, nil, nil, -1
	cases := []goldenCase{
		{name: "80x24", w: 80, h: 24, snap: &run, want: "spectrum"},
		{name: "120x40", w: 120, h: 40, snap: &run, want: "Gᵢ + Fᵢ"},
		{name: "200x60", w: 200, h: 60, snap: &run, want: "Gᵢ + Fᵢ"},
		{name: "diverged_80x24", w: 80, h: 24, snap: &div, want: "DIVERGED"},
		{name: "diverged_120x40", w: 120, h: 40, snap: &div, want: "DIVERGED"},
		{name: "paused_help_80x24", w: 80, h: 24, snap: &paused, keys: []tea.KeyMsg{typed("?")}, want: "race from here"},
		{name: "help_120x40", w: 120, h: 40, snap: &run, keys: []tea.KeyMsg{typed("?")}, want: "race from here"},
		{name: "readonly_80x24", w: 80, h: 24, snap: &run, opts: Options{ReadOnly: true}, want: "read-only"},
		{name: "readonly_refused_80x24", w: 80, h: 24, snap: &run, opts: Options{ReadOnly: true},
			keys: []tea.KeyMsg{typed("b")}, want: "steering keys are disabled"},
		{name: "first_steps_80x24", w: 80, h: 24, snap: &early, want: "no eigenspace"},
		{name: "waiting_80x24", w: 80, h: 24, want: "waiting for the engine"},
		{name: "too_small_50x12", w: 50, h: 12, snap: &run, want: "Enlarge"},
	}
	// Lesson mode, the picture of what a network learned on the moons, and saved runs
	// beside the live one.
	lesson := lessonSnapshot()
	moons := moonsSnapshot(t)
	cmp := t.TempDir()
	for _, a := range compareArms {
		writeCompareRun(t, filepath.Join(cmp, a.name), 1, 600, 300, a.wDom, a.wBulk, 1)
	}
	cmpOpts := Options{Compare: []string{filepath.Join(cmp, "sgd"), filepath.Join(cmp, "dom"), filepath.Join(cmp, "bulk")}}
	cases = append(cases,
		goldenCase{name: "lesson_120x40", w: 120, h: 40, snap: &lesson, want: "step 3/4"},
		goldenCase{name: "lesson_80x24", w: 80, h: 24, snap: &lesson, want: "step 3/4"},
		goldenCase{name: "moons_picture_120x40", w: 120, h: 40, snap: &moons, keys: []tea.KeyMsg{typed("v")}, want: "decision regions"},
		goldenCase{name: "compare_120x40", w: 120, h: 40, snap: &run, opts: cmpOpts, want: "Bulk-SGD"},
	)
	// The teaching screens, at three sizes, without colour (NO_COLOR) and in true colour:
	// captions on, the glossary page, Bulk-SGD with λ₁₁ against 2/η and the update's marks,
	// and a stale basis under a manual refresh.
	bulk, stale := bulkSnapshot(false), bulkSnapshot(true)
	for _, size := range [][2]int{{80, 24}, {120, 40}, {200, 60}} {
		for _, color := range []bool{false, true} {
			suffix := fmt.Sprintf("_%dx%d", size[0], size[1])
			if color {
				suffix += "_color"
			}
			cases = append(cases,
				goldenCase{name: "captions" + suffix, w: size[0], h: size[1], snap: &run, keys: []tea.KeyMsg{typed("i")}, want: "lower is better", color: color},
				goldenCase{name: "glossary" + suffix, w: size[0], h: size[1], snap: &run, keys: []tea.KeyMsg{typed("??")}, want: "What am I looking at", color: color},
				goldenCase{name: "bulk" + suffix, w: size[0], h: size[1], snap: &bulk, want: "Bulk", color: color},
				goldenCase{name: "stale" + suffix, w: size[0], h: size[1], snap: &stale, want: "stale", color: color},
			)
		}
	}
	// A race of Dom-SGD, SGD and Bulk-SGD from step 300, focus on Bulk-SGD, at three sizes
	// with and without colour; and one with a fourth arm that diverged alone, focus on Dom.
	race, raceDiv := raceSnapshot(2, false), raceSnapshot(0, true)
	for _, size := range [][2]int{{80, 24}, {120, 40}, {200, 60}} {
		for _, color := range []bool{false, true} {
			suffix := fmt.Sprintf("_%dx%d", size[0], size[1])
			if color {
				suffix += "_color"
			}
			cases = append(cases, goldenCase{name: "race" + suffix, w: size[0], h: size[1], snap: &race, want: "focus", color: color})
		}
	}
	cases = append(cases,
		goldenCase{name: "race_diverged_120x40", w: 120, h: 40, snap: &raceDiv, want: "focus"},
		goldenCase{name: "race_diverged_80x24", w: 80, h: 24, snap: &raceDiv, want: "focus"},
		goldenCase{name: "race_chooser_80x24", w: 80, h: 24, snap: &race, want: "arm 2",
			keys: []tea.KeyMsg{typed("F"), {Type: tea.KeyCtrlU}, typed("dom,zz"), {Type: tea.KeyEnter}}},
		goldenCase{name: "race_captions_120x40", w: 120, h: 40, snap: &race, keys: []tea.KeyMsg{typed("i")}, want: "every arm"},
		goldenCase{name: "race_captions_80x24", w: 80, h: 24, snap: &race, keys: []tea.KeyMsg{typed("i")}, want: "each arm"},
		goldenCase{name: "race_help_120x40", w: 120, h: 40, snap: &race, keys: []tea.KeyMsg{typed("?")}, want: "race from here"})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t) })
	}
}

// run draws the case's screen (its snapshot, then its keys, until it shows want) and checks
// it against its golden file, testdata/<test>/<name>.golden.
func (c goldenCase) run(t *testing.T) {
	r := asciiRenderer()
	if c.color {
		r = colorRenderer()
	}
	m := New(idleEngine(t), r, c.opts)
	t.Cleanup(m.Close)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(c.w, c.h))
	if c.snap != nil {
		tm.Send(snapshotMsg{*c.snap})
	}
	for _, k := range c.keys {
		tm.Send(k)
	}
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return strings.Contains(ansi.Strip(string(b)), c.want) },
		teatest.WithDuration(budget), teatest.WithCheckInterval(10*time.Millisecond))
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	view := tm.FinalModel(t, teatest.WithFinalTimeout(budget)).View()
	checkScreen(t, view, c.w, c.h)
	golden.RequireEqual(t, []byte(view))
}

// checkScreen fails unless view is exactly h lines of at most w cells (the renderer would
// scroll or wrap anything else).
func checkScreen(t *testing.T, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	if len(lines) != h {
		t.Errorf("view has %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if n := width(l); n > w {
			t.Errorf("line %d is %d cells wide, want ≤ %d: %q", i, n, w, l)
		}
	}
}

// TestReflow draws the synthetic run at sizes from 20×6 to 200×60 (a stride of them) and
// checks that each frame fits its terminal exactly and that the footer names ? and q.
func TestReflow(t *testing.T) {
	snap := syntheticSnapshot(700)
	for _, r := range []*lipgloss.Renderer{asciiRenderer(), colorRenderer()} {
		m := New(idleEngine(t), r, Options{})
		mm, _ := m.Update(snapshotMsg{snap})
		m = mm.(Model)
		for w := 20; w <= 200; w += 7 {
			for h := 6; h <= 60; h += 3 {
				mm, _ := m.Update(tea.WindowSizeMsg{Width: w, Height: h})
				v := mm.View()
				checkScreen(t, v, w, h)
				// The footer always offers help and quit.
				if w >= MinWidth && h >= MinHeight {
					foot := ansi.Strip(v[strings.LastIndexByte(v, '\n')+1:])
					if !strings.Contains(foot, "? help") || !strings.Contains(foot, "q quit") {
						t.Errorf("%d×%d: footer without ? or q: %q", w, h, foot)
					}
				}
			}
		}
		m.Close()
	}
}
