package tui

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"sharpflat/lab"
)

// keyLab is a paused demo engine, running, with a model on it that has its first snapshot.
type keyLab struct {
	t *testing.T
	e *lab.Engine
	m Model
}

func newKeyLab(t *testing.T, opts Options) *keyLab {
	t.Helper()
	cfg, err := lab.Preset("demo")
	if err != nil {
		t.Fatal(err)
	}
	cfg.HessianSet = 256 // keeps the refreshes of e and n quick
	e, err := lab.NewSpooled(cfg, lab.Options{StartPaused: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go e.Run(ctx)
	t.Cleanup(func() {
		cancel()
		<-e.Done()
		e.RemoveSpool()
	})
	if opts.RunDir == "" {
		opts.RunDir = t.TempDir()
	}
	k := &keyLab{t: t, e: e, m: New(e, asciiRenderer(), opts)}
	t.Cleanup(k.m.Close)
	k.m = k.update(tea.WindowSizeMsg{Width: 120, Height: 40})
	k.sync()
	return k
}

func (k *keyLab) update(msg tea.Msg) Model {
	m, _ := k.m.Update(msg)
	return m.(Model)
}

// sync feeds the model the engine's latest snapshot.
func (k *keyLab) sync() {
	k.t.Helper()
	select {
	case s, ok := <-k.m.sub.C():
		if ok {
			k.m = k.update(snapshotMsg{s})
		}
	case <-time.After(10 * time.Second):
		k.t.Fatal("no snapshot within 10 s")
	}
}

// press types a key into the model (and returns the command it gave back).
func (k *keyLab) press(s string) tea.Cmd {
	var msg tea.KeyMsg
	switch s {
	case "left":
		msg = tea.KeyMsg{Type: tea.KeyLeft}
	case "right":
		msg = tea.KeyMsg{Type: tea.KeyRight}
	case "space":
		msg = tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	default:
		msg = tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
	}
	m, cmd := k.m.Update(msg)
	k.m = m.(Model)
	return cmd
}

// view reads the engine's state at a step boundary.
func (k *keyLab) view() (c lab.Config, step int, events []lab.Event) {
	k.e.Do(func(v lab.View) { c, step, events = v.Config(), v.Step(), v.Events() })
	return c, step, events
}

// eventually polls cond on the engine's state for up to 10 s.
func (k *keyLab) eventually(what string, cond func(c lab.Config, step int, ev []lab.Event) bool) {
	k.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if cond(k.view()) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	k.t.Fatalf("%s: not seen within 10 s", what)
}

func hasEvent(ev []lab.Event, kind, text string) bool {
	return slices.ContainsFunc(ev, func(e lab.Event) bool { return e.Kind == kind && strings.Contains(e.Text, text) })
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }

// TestKeysSteerTheEngine presses every steering key and checks that the engine's settings
// change as the help says; the keys are in help order.
func TestKeysSteerTheEngine(t *testing.T) {
	k := newKeyLab(t, Options{})
	km := k.m.c.KeyMap
	tested := map[string]bool{}
	check := func(b key.Binding, keyName string, f func(before lab.Config, beforeStep int)) {
		t.Helper()
		if !key.Matches(tea.KeyMsg(keyOf(keyName)), b) {
			t.Fatalf("key %q does not match the binding it tests (%v)", keyName, b.Keys())
		}
		c, step, _ := k.view()
		runCmd(k.press(keyName))
		f(c, step)
		tested[keyName] = true
		k.sync()
	}

	check(km.Pause, "space", func(_ lab.Config, s0 int) {
		k.eventually("space resumes", func(_ lab.Config, s int, _ []lab.Event) bool { return s > s0 })
	})
	k.sync()
	check(km.Pause, "space", func(lab.Config, int) {
		k.eventually("space pauses", func(_ lab.Config, _ int, ev []lab.Event) bool { return hasEvent(ev, "command", "paused at step") })
	})
	check(km.Step, "n", func(_ lab.Config, s0 int) {
		k.eventually("n steps once", func(_ lab.Config, s int, _ []lab.Event) bool { return s == s0+1 })
		time.Sleep(50 * time.Millisecond)
		if _, s, _ := k.view(); s != s0+1 {
			t.Errorf("n: %d steps, want 1 (and paused)", s-s0)
		}
	})
	wantAlpha := func(name string, a float64) func(lab.Config, int) {
		return func(lab.Config, int) {
			c, _, _ := k.view()
			wd, wb := lab.Weights(a)
			if c.WDom != wd || c.WBulk != wb {
				t.Errorf("%s: (w_dom, w_bulk) = (%v, %v), want (%v, %v) for α %v", name, c.WDom, c.WBulk, wd, wb, a)
			}
		}
	}
	check(km.AlphaUp, "right", wantAlpha("→", 0.55))
	check(km.AlphaUp, "right", wantAlpha("→ again", 0.6))
	check(km.AlphaDown, "left", wantAlpha("←", 0.55))
	check(km.Dom, "d", wantAlpha("d", 0))
	check(km.AlphaDown, "left", wantAlpha("← at Dom", 0))
	check(km.Bulk, "b", wantAlpha("b", 1))
	check(km.AlphaUp, "right", wantAlpha("→ at Bulk", 1))
	check(km.SGD, "g", wantAlpha("g", 0.5))
	check(km.LRUp, "+", func(c0 lab.Config, _ int) {
		if c, _, _ := k.view(); !near(c.LR, c0.LR*1.25) {
			t.Errorf("+: η %v, want %v", c.LR, c0.LR*1.25)
		}
	})
	check(km.LRDown, "-", func(c0 lab.Config, _ int) {
		if c, _, _ := k.view(); !near(c.LR, c0.LR/1.25) {
			t.Errorf("−: η %v, want %v", c.LR, c0.LR/1.25)
		}
	})
	check(km.LRUp, "=", func(c0 lab.Config, _ int) { // + without shift
		if c, _, _ := k.view(); !near(c.LR, c0.LR*1.25) {
			t.Errorf("=: η %v, want %v", c.LR, c0.LR*1.25)
		}
	})
	check(km.KUp, "K", func(c0 lab.Config, _ int) {
		if c, _, _ := k.view(); c.K != c0.K+1 {
			t.Errorf("K: k %d, want %d", c.K, c0.K+1)
		}
	})
	check(km.KDown, "k", func(c0 lab.Config, _ int) {
		if c, _, _ := k.view(); c.K != c0.K-1 {
			t.Errorf("k: k %d, want %d", c.K, c0.K-1)
		}
	})
	for _, want := range []int{2, 5} {
		check(km.RefreshUp, "T", func(lab.Config, int) {
			if c, _, _ := k.view(); c.RefreshEvery != want {
				t.Errorf("T: refresh every %d, want %d", c.RefreshEvery, want)
			}
		})
	}
	check(km.RefreshDn, "t", func(lab.Config, int) {
		if c, _, _ := k.view(); c.RefreshEvery != 2 {
			t.Errorf("t: refresh every %d, want 2", c.RefreshEvery)
		}
	})
	check(km.Recompute, "e", func(lab.Config, int) {
		k.eventually("e refreshes", func(_ lab.Config, _ int, ev []lab.Event) bool {
			return hasEvent(ev, "refresh", "refreshed on request")
		})
	})
	check(km.Momentum, "m", func(lab.Config, int) {
		if c, _, _ := k.view(); c.Momentum != 0.9 {
			t.Errorf("m: β %v, want 0.9", c.Momentum)
		}
	})
	check(km.Momentum, "m", func(lab.Config, int) {
		if c, _, _ := k.view(); c.Momentum != 0 {
			t.Errorf("m again: β %v, want 0", c.Momentum)
		}
	})
	var kept int
	check(km.Checkpoint, "c", func(_ lab.Config, s int) {
		kept = s
		k.eventually("c checkpoints", func(_ lab.Config, _ int, ev []lab.Event) bool {
			return hasEvent(ev, "checkpoint", fmt.Sprintf("checkpoint at step %d", s))
		})
	})
	k.press("n")
	k.eventually("one more step", func(_ lab.Config, s int, _ []lab.Event) bool { return s == kept+1 })
	check(km.Rollback, "u", func(lab.Config, int) {
		k.eventually("u rolls back", func(_ lab.Config, s int, ev []lab.Event) bool {
			return s == kept && hasEvent(ev, "rollback", "rolled back")
		})
	})
	check(km.Reset, "r", func(lab.Config, int) {
		k.eventually("r resets", func(_ lab.Config, s int, ev []lab.Event) bool { return s == 0 && hasEvent(ev, "command", "reset") })
	})
	check(km.Preset, "p", func(c0 lab.Config, _ int) {
		next := lab.Presets()[1]
		k.eventually("p loads "+next, func(c lab.Config, _ int, _ []lab.Event) bool { return c.Preset == next })
	})
	check(km.Write, "w", func(lab.Config, int) {
		k.eventually("w writes a run", func(lab.Config, int, []lab.Event) bool {
			dirs, _ := filepath.Glob(filepath.Join(k.m.opts.RunDir, "*", "metrics.jsonl"))
			return len(dirs) == 1
		})
	})

	// The help toggles; q quits.
	k.press("?")
	if !k.m.help.ShowAll || !strings.Contains(k.m.View(), "close help") {
		t.Error("? does not open the full help")
	}
	k.press("?")
	if k.m.help.ShowAll {
		t.Error("? does not close the full help")
	}
	tested["?"] = true
	if cmd := k.press("q"); cmd == nil || cmd() != tea.Quit() {
		t.Error("q does not quit")
	}
	tested["q"] = true

	// Every key the help names was pressed above.
	for _, b := range append(km.steering(), km.Help, km.Quit) {
		if !slices.ContainsFunc(b.Keys(), func(s string) bool { return tested[s] || (s == " " && tested["space"]) }) {
			t.Errorf("binding %v (%s) is not tested", b.Keys(), b.Help().Desc)
		}
	}
}

// runCmd runs a command and the commands of a batch in the background, as a program would,
// dropping their messages.
func runCmd(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() {
		if b, ok := cmd().(tea.BatchMsg); ok {
			for _, c := range b {
				runCmd(c)
			}
		}
	}()
}

// keyOf builds the KeyMsg of a key name as press does.
func keyOf(s string) tea.Key {
	switch s {
	case "left":
		return tea.Key{Type: tea.KeyLeft}
	case "right":
		return tea.Key{Type: tea.KeyRight}
	case "space":
		return tea.Key{Type: tea.KeySpace, Runes: []rune{' '}}
	}
	return tea.Key{Type: tea.KeyRunes, Runes: []rune(s)}
}

// TestReadOnlyRefusesSteering: a viewer's keys change nothing and say why.
func TestReadOnlyRefusesSteering(t *testing.T) {
	k := newKeyLab(t, Options{ReadOnly: true})
	c0, s0, _ := k.view()
	for _, name := range []string{"space", "n", "right", "b", "+", "K", "T", "m", "r", "p", "w"} {
		k.press(name)
		if !strings.Contains(k.m.status, "read-only") {
			t.Errorf("%s: status %q, want a read-only notice", name, k.m.status)
		}
	}
	time.Sleep(50 * time.Millisecond)
	c, s, _ := k.view()
	if c.WDom != c0.WDom || c.WBulk != c0.WBulk || c.LR != c0.LR || c.K != c0.K || c.RefreshEvery != c0.RefreshEvery ||
		c.Momentum != c0.Momentum || c.Preset != c0.Preset || s != s0 {
		t.Errorf("a read-only session changed the engine: %+v at step %d, was %+v at step %d", c, s, c0, s0)
	}
	if dirs, _ := os.ReadDir(k.m.opts.RunDir); len(dirs) != 0 {
		t.Errorf("a read-only session wrote %d runs", len(dirs))
	}
	if help := k.m.View(); strings.Contains(help, "space pause") || !strings.Contains(help, "q quit") {
		t.Errorf("read-only help should list only ? and q:\n%s", help)
	}
}

// TestQuickKeysAccumulate: keys pressed faster than snapshots arrive build on each other.
func TestQuickKeysAccumulate(t *testing.T) {
	k := newKeyLab(t, Options{})
	c0, _, _ := k.view()
	for i := 0; i < 3; i++ {
		k.press("+")
		k.press("right")
	}
	k.eventually("three η and α steps", func(c lab.Config, _ int, _ []lab.Event) bool {
		wd, wb := lab.Weights(0.65)
		return near(c.LR, c0.LR*1.25*1.25*1.25) && c.WDom == wd && c.WBulk == wb
	})
}
