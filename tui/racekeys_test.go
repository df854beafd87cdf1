package tui

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"sharpflat/lab"
)

// TestRaceKeys drives a real engine with the race's keys: f races Dom-SGD, SGD and Bulk-SGD
// from here, tab moves the focus, A makes η act on every arm, f ends the race keeping the
// focused arm; F's line refuses a race that does not read (its error shows, the line stays
// open), races one that does, and f races it again after esc ended it; a watcher's session
// refuses the keys.
func TestRaceKeys(t *testing.T) {
	k := newKeyLab(t, Options{})
	specsOf := func(r *lab.RaceView) []lab.ArmSpec {
		var out []lab.ArmSpec
		for _, a := range r.Arms {
			out = append(out, a.Spec)
		}
		return out
	}
	k.press("f")
	k.eventually("f races the default arms", func(s lab.Snapshot) bool {
		return s.Race != nil && slices.Equal(specsOf(s.Race), lab.DefaultRace)
	})
	k.sync()
	if k.m.snap.Race == nil {
		t.Fatal("the model's snapshot has no race")
	}
	if !strings.Contains(ansi.Strip(k.m.View()), "focus △ Dom") {
		t.Errorf("the header does not say the focus:\n%s", ansi.Strip(k.m.View()))
	}
	k.m = k.update(tea.KeyMsg{Type: tea.KeyTab})
	k.eventually("tab focuses arm 2", func(s lab.Snapshot) bool { return s.Race != nil && s.Race.Focus == 1 })
	k.sync()
	k.press("A")
	k.eventually("A acts on all", func(s lab.Snapshot) bool { return s.Race != nil && s.Race.All })
	k.sync()
	lr0 := k.m.snap.Config.LR
	k.press("+")
	k.eventually("η × 1.25 on every arm", func(s lab.Snapshot) bool {
		if s.Race == nil {
			return false
		}
		for _, a := range s.Race.Arms {
			if !near(a.State.Config.LR, lr0*1.25) {
				return false
			}
		}
		return true
	})
	k.sync()
	// w (its command run here, to read the message) writes one run directory per arm.
	saved, ok := saveRunCmd(k.m.e, k.m.opts.RunDir, "demo")().(savedMsg)
	if !ok || !strings.HasPrefix(saved.text, "race written to ") || !strings.HasSuffix(saved.text, "one run per arm (bulk, dom, sgd)") {
		t.Errorf("w in a race: %#v", saved)
	}
	if dirs, _ := filepath.Glob(filepath.Join(k.m.opts.RunDir, "*", "*", "config.json")); len(dirs) != 3 {
		t.Errorf("w in a race wrote %v, want a run for each of 3 arms", dirs)
	}
	k.press("A")
	k.eventually("A again: the focused arm only", func(s lab.Snapshot) bool { return s.Race != nil && !s.Race.All })
	k.sync()
	k.press("f")
	k.eventually("f ends the race, keeping SGD", func(s lab.Snapshot) bool {
		return s.Race == nil && s.Config.WDom == 1 && s.Config.WBulk == 1 && near(s.Config.LR, lr0*1.25)
	})
	k.sync()

	// The chooser.
	k.press("F")
	if !k.m.chooser.open || string(k.m.chooser.text) != "dom,sgd,bulk" {
		t.Fatalf("F: chooser open %v with %q, want the default race", k.m.chooser.open, string(k.m.chooser.text))
	}
	k.m = k.update(tea.KeyMsg{Type: tea.KeyCtrlU})
	k.press("alpha=0.25,bulk,zz")
	k.m = k.update(tea.KeyMsg{Type: tea.KeyEnter})
	if v := ansi.Strip(k.m.View()); !k.m.chooser.open || !strings.Contains(v, "arm 3") || !strings.Contains(v, "race arms: alpha=0.25,bulk,zz") {
		t.Errorf("a race that does not read: the chooser should stay open and say why:\n%s", v)
	}
	for range 3 {
		k.m = k.update(tea.KeyMsg{Type: tea.KeyBackspace})
	}
	k.m = k.update(tea.KeyMsg{Type: tea.KeyEnter})
	want := []lab.ArmSpec{{Rule: "alpha=0.25"}, {Rule: "bulk"}}
	k.eventually("enter races the chooser's arms", func(s lab.Snapshot) bool {
		return s.Race != nil && slices.Equal(specsOf(s.Race), want)
	})
	k.sync()
	if k.m.chooser.open {
		t.Error("the chooser stays open after a race that reads")
	}
	k.m = k.update(tea.KeyMsg{Type: tea.KeyEsc})
	k.eventually("esc ends the race", func(s lab.Snapshot) bool { return s.Race == nil })
	k.sync()
	k.press("f")
	k.eventually("f races the chooser's last choice", func(s lab.Snapshot) bool {
		return s.Race != nil && slices.Equal(specsOf(s.Race), want)
	})
	k.sync()

	// A watcher of the race: its keys are refused.
	w := New(k.e, asciiRenderer(), Options{ReadOnly: true})
	defer w.Close()
	mm, _ := w.Update(snapshotMsg{k.m.snap})
	w = mm.(Model)
	for _, name := range []string{"f", "F", "A"} {
		mm, _ = w.Update(typed(name))
		w = mm.(Model)
		if !strings.Contains(w.status, "read-only") {
			t.Errorf("watcher's %s: status %q, want a read-only notice", name, w.status)
		}
	}
	mm, _ = w.Update(tea.KeyMsg{Type: tea.KeyTab})
	if w = mm.(Model); !strings.Contains(w.status, "read-only") {
		t.Errorf("watcher's tab: status %q, want a read-only notice", w.status)
	}
	mm, _ = w.Update(tea.KeyMsg{Type: tea.KeyEsc})
	if w = mm.(Model); strings.Contains(w.status, "ending") {
		t.Error("a watcher's esc ends the race")
	}
}

// TestRaceEscClosesFirst: in a race, esc closes what is open (the keys page, a shared
// command) before it ends the race.
func TestRaceEscClosesFirst(t *testing.T) {
	m := New(idleEngine(t), asciiRenderer(), Options{})
	defer m.Close()
	mm, _ := m.Update(snapshotMsg{raceSnapshot(2, false)})
	esc := tea.KeyMsg{Type: tea.KeyEsc}
	for _, open := range []string{"?", "y"} {
		mm, _ = mm.Update(typed(open))
		mm, _ = mm.Update(esc)
		if m := mm.(Model); m.page != pageNone || m.shared != "" || strings.Contains(m.status, "ending the race") {
			t.Errorf("%s then esc: page %v, shared %q, status %q: want it closed and the race on", open, m.page, m.shared, m.status)
		}
	}
	mm, _ = mm.Update(esc)
	if m := mm.(Model); !strings.Contains(m.status, "ending the race") {
		t.Errorf("esc on the race's charts: status %q, want the race ending", m.status)
	}
}
