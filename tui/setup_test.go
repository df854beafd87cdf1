package tui

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"sharpflat/lab/train"
)

// TestSetupGolden: the setup panel at 80×24, 120×40 and 200×60, without colour (NO_COLOR)
// and in true colour; at 80×24 also on the features row (the toggles), with a value being
// typed, and refusing a draft. The memory limit is set, so that the estimate's line does not
// depend on the machine's memory.
func TestSetupGolden(t *testing.T) {
	train.SetMemoryLimit(2_000_000_000)
	defer train.SetMemoryLimit(0)
	snap := syntheticSnapshot(600)
	var cases []goldenCase
	for _, size := range [][2]int{{80, 24}, {120, 40}, {200, 60}} {
		for _, color := range []bool{false, true} {
			suffix := fmt.Sprintf("_%dx%d", size[0], size[1])
			if color {
				suffix += "_color"
			}
			cases = append(cases, goldenCase{name: "setup" + suffix, w: size[0], h: size[1], snap: &snap,
				keys: []tea.KeyMsg{typed("S")}, want: "limit 2 GB", color: color})
		}
	}
	down := tea.KeyMsg{Type: tea.KeyDown}
	right := tea.KeyMsg{Type: tea.KeyRight}
	cases = append(cases,
		goldenCase{name: "setup_features_80x24", w: 80, h: 24, snap: &snap,
			keys: []tea.KeyMsg{typed("S"), right, right, down, down, down, down, right, right, right, right}, want: "▸[ ] x₁x₂"},
		goldenCase{name: "setup_typing_80x24", w: 80, h: 24, snap: &snap,
			keys: []tea.KeyMsg{typed("S"), down, down, down, down, down, typed("6"), typed("4"), typed("-")}, want: "64-▏"},
		goldenCase{name: "setup_refused_80x24", w: 80, h: 24, snap: &snap,
			keys: []tea.KeyMsg{typed("S"), down, down, down, down, right, right, tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}}, want: "refused"})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t) })
	}
}

// setupModel is a model with the setup panel open on snap's settings, at 80×24.
func setupModel(t *testing.T, step int, opts Options) Model {
	t.Helper()
	m := New(idleEngine(t), asciiRenderer(), opts)
	t.Cleanup(m.Close)
	snap := syntheticSnapshot(max(step, 1))
	snap.Step = step
	mm, _ := m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	mm, _ = mm.Update(snapshotMsg{snap})
	mm, _ = mm.Update(typed("S"))
	return settle(mm.(Model))
}

// press types keys into m, each followed by the panel's check of its draft (run here, as
// the program would run its command).
func press(m Model, ks ...tea.KeyMsg) Model {
	for _, k := range ks {
		mm, _ := m.Update(k)
		m = settle(mm.(Model))
	}
	return m
}

// settle answers the panel's check of its draft as it is now.
func settle(m Model) Model {
	if !m.setup.open || m.setup.current() {
		return m
	}
	need, err := m.setup.check()
	mm, _ := m.Update(setupCheckedMsg{serial: m.setup.serial, gen: m.setup.gen, need: need, refused: err})
	return mm.(Model)
}

// TestSetupKeys: S opens the panel; while it is open every key is the panel's (q, space and
// ←/→ change nothing in the lab); esc drops the draft; enter on a run that was not written
// asks once, and a second enter starts it; a read-only session refuses S.
func TestSetupKeys(t *testing.T) {
	enter, esc := tea.KeyMsg{Type: tea.KeyEnter}, tea.KeyMsg{Type: tea.KeyEsc}
	m := setupModel(t, 0, Options{})
	if !m.setup.open {
		t.Fatal("S did not open the setup panel")
	}
	before := m.setup.draft
	m = press(m, typed("q"), tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}, tea.KeyMsg{Type: tea.KeyRight})
	if !m.setup.open || m.confirmQuit {
		t.Error("q in the panel quits or asks to quit")
	}
	if m.setup.draft.Data == before.Data {
		t.Error("→ on the data row did not change the data set")
	}
	seq := m.e.Seq() // the engine's count of commands queued
	m = press(m, esc)
	if m.setup.open || m.e.Seq() != seq {
		t.Errorf("esc: open %v, %d commands queued, want closed and none", m.setup.open, m.e.Seq()-seq)
	}

	// 600 steps not written: the first enter asks, and says so on the screen.
	m = setupModel(t, 600, Options{})
	m = press(m, tea.KeyMsg{Type: tea.KeyRight}, enter)
	if !m.setup.open || !m.setup.confirm || !strings.Contains(ansi.Strip(m.View()), "this run was not written") {
		t.Fatalf("enter on an unwritten run: open %v confirm %v, want the question", m.setup.open, m.setup.confirm)
	}
	seq = m.e.Seq()
	m = press(m, enter)
	if m.setup.open || m.e.Seq() != seq+1 || !strings.Contains(m.status, "a fresh run: moons") {
		t.Errorf("the second enter: open %v, %d commands queued, status %q, want the fresh run of the moons queued",
			m.setup.open, m.e.Seq()-seq, m.status)
	}

	// The draft changed since its estimate: enter waits for it.
	m = setupModel(t, 0, Options{NoConfirm: true})
	mm, _ := m.Update(tea.KeyMsg{Type: tea.KeyRight})
	mm, _ = mm.Update(enter)
	if m = mm.(Model); !m.setup.open || !strings.Contains(m.setup.err, "still estimating") {
		t.Errorf("enter before the draft's estimate: open %v, %q", m.setup.open, m.setup.err)
	}
	// An estimate of an earlier opening of the panel is dropped.
	m = press(m, esc, typed("S"))
	old := m.setup
	mm, _ = m.Update(setupCheckedMsg{serial: old.serial - 1, gen: old.gen, refused: errors.New("stale")})
	if m = mm.(Model); m.setup.refused != nil {
		t.Error("a check of the panel's earlier opening was taken for this one")
	}

	// The engine has stopped: enter says so and queues nothing.
	m = setupModel(t, 0, Options{NoConfirm: true})
	mm, _ = m.Update(engineStoppedMsg{})
	seq = m.e.Seq()
	if m = press(mm.(Model), tea.KeyMsg{Type: tea.KeyRight}, enter); !m.setup.open || m.e.Seq() != seq || !strings.Contains(m.setup.err, "stopped") {
		t.Errorf("enter on a stopped engine: open %v, %d queued, %q", m.setup.open, m.e.Seq()-seq, m.setup.err)
	}

	// Nothing to lose: one enter starts it.
	m = setupModel(t, 0, Options{NoConfirm: true})
	if m = press(m, tea.KeyMsg{Type: tea.KeyRight}, enter); m.setup.open {
		t.Error("enter on a session with nothing to write did not start the run")
	}

	m = setupModel(t, 0, Options{ReadOnly: true})
	if m.setup.open || !strings.Contains(m.status, "read-only") {
		t.Errorf("a watcher's S: open %v, status %q", m.setup.open, m.status)
	}
}

// TestSetupPanelTiny: the panel fills exactly the screen at every size down to the lab's
// least, on every row, without panicking.
func TestSetupPanelTiny(t *testing.T) {
	m := setupModel(t, 10, Options{})
	for w := MinWidth; w <= 130; w += 7 {
		for h := MinHeight; h <= 45; h += 3 {
			mm, _ := m.Update(tea.WindowSizeMsg{Width: w, Height: h})
			mw := mm.(Model)
			for range setupRows {
				mw = press(mw, tea.KeyMsg{Type: tea.KeyDown})
				checkScreen(t, mw.View(), w, h)
			}
		}
	}
}
