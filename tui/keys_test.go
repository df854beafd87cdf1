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
	"sharpflat/lab/train"
)

// keyLab is a paused demo engine, running, with a model on it that has its first snapshot.
type keyLab struct {
	t     *testing.T
	e     *lab.Engine
	m     Model
	watch *lab.Subscription // the test's own view of the engine
}

func newKeyLab(t *testing.T, opts Options) *keyLab {
	t.Helper()
	cfg, err := train.Preset("demo")
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
	k := &keyLab{t: t, e: e, m: New(e, asciiRenderer(), opts), watch: e.Subscribe()}
	t.Cleanup(k.m.Close)
	t.Cleanup(k.watch.Cancel)
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
	case <-time.After(budget):
		k.t.Fatalf("no snapshot within %v", budget)
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
	case "enter":
		msg = tea.KeyMsg{Type: tea.KeyEnter}
	case "down":
		msg = tea.KeyMsg{Type: tea.KeyDown}
	case "up":
		msg = tea.KeyMsg{Type: tea.KeyUp}
	default:
		msg = tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
	}
	m, cmd := k.m.Update(msg)
	k.m = m.(Model)
	return cmd
}

// budget bounds how long a test waits for the engine before it fails. It is not a speed
// requirement: it only turns a hang into a failure.
const budget = 5 * time.Minute

// view reads the engine's settings and step at a step boundary (after every command sent
// before it).
func (k *keyLab) view() (c train.Config, step int) {
	k.e.Do(func(t *train.Trainer) { c, step = t.Config(), t.StepCount() })
	return c, step
}

// eventually waits for a snapshot of the engine in which cond holds.
func (k *keyLab) eventually(what string, cond func(s lab.Snapshot) bool) {
	k.t.Helper()
	timeout := time.After(budget)
	for {
		select {
		case s, ok := <-k.watch.C():
			if !ok {
				k.t.Fatalf("%s: the engine stopped", what)
			}
			if cond(s) {
				return
			}
		case <-timeout:
			k.t.Fatalf("%s: not seen within %v", what, budget)
		}
	}
}

func hasEvent(ev []train.Event, kind train.EventKind, text string) bool {
	return slices.ContainsFunc(ev, func(e train.Event) bool { return e.Kind == kind && strings.Contains(e.Text, text) })
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }

// TestKeysSteerTheEngine presses every steering key and checks that the engine's settings
// change as the help says; the keys are in help order.
func TestKeysSteerTheEngine(t *testing.T) {
	k := newKeyLab(t, Options{})
	km := k.m.c.KeyMap
	tested := map[string]bool{}
	check := func(b key.Binding, keyName string, f func(before train.Config, beforeStep int)) {
		t.Helper()
		if !key.Matches(tea.KeyMsg(keyOf(keyName)), b) {
			t.Fatalf("key %q does not match the binding it tests (%v)", keyName, b.Keys())
		}
		c, step := k.view()
		runCmd(k.press(keyName))
		f(c, step)
		tested[keyName] = true
		k.sync()
	}

	check(km.Pause, "space", func(_ train.Config, s0 int) {
		k.eventually("space resumes", func(s lab.Snapshot) bool { return s.Step > s0 })
	})
	k.sync()
	check(km.Pause, "space", func(train.Config, int) {
		k.eventually("space pauses", func(s lab.Snapshot) bool {
			return s.Run == lab.Paused && hasEvent(s.Events, train.EventCommand, "paused at step")
		})
	})
	check(km.Step, "n", func(_ train.Config, s0 int) {
		k.eventually("n steps once", func(s lab.Snapshot) bool { return s.Step == s0+1 && s.Run == lab.Paused })
		if _, s := k.view(); s != s0+1 {
			t.Errorf("n: %d steps, want 1 (and paused)", s-s0)
		}
	})
	wantAlpha := func(name string, a float64) func(train.Config, int) {
		return func(train.Config, int) {
			c, _ := k.view()
			wd, wb := train.Weights(a)
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
	check(km.Damped, "D", func(train.Config, int) {
		if c, _ := k.view(); c.Update != "dom-damped" {
			t.Errorf("D: the rule is %q, want dom-damped", c.Update)
		}
	})
	check(km.SGD, "g", func(train.Config, int) { // a blend replaces Dom-damped
		wantAlpha("g after D", 0.5)(train.Config{}, 0)
		if c, _ := k.view(); c.Update != "" {
			t.Errorf("g after D: the rule is still %q", c.Update)
		}
	})
	check(km.LRUp, "+", func(c0 train.Config, _ int) {
		if c, _ := k.view(); !near(c.LR, c0.LR*1.25) {
			t.Errorf("+: η %v, want %v", c.LR, c0.LR*1.25)
		}
	})
	check(km.LRDown, "-", func(c0 train.Config, _ int) {
		if c, _ := k.view(); !near(c.LR, c0.LR/1.25) {
			t.Errorf("−: η %v, want %v", c.LR, c0.LR/1.25)
		}
	})
	check(km.LRUp, "=", func(c0 train.Config, _ int) { // + without shift
		if c, _ := k.view(); !near(c.LR, c0.LR*1.25) {
			t.Errorf("=: η %v, want %v", c.LR, c0.LR*1.25)
		}
	})
	check(km.KUp, "K", func(c0 train.Config, _ int) {
		if c, _ := k.view(); c.K != c0.K+1 {
			t.Errorf("K: k %d, want %d", c.K, c0.K+1)
		}
	})
	check(km.KDown, "k", func(c0 train.Config, _ int) {
		if c, _ := k.view(); c.K != c0.K-1 {
			t.Errorf("k: k %d, want %d", c.K, c0.K-1)
		}
	})
	for _, want := range []int{2, 5} {
		check(km.RefreshUp, "T", func(train.Config, int) {
			if c, _ := k.view(); c.RefreshEvery != want {
				t.Errorf("T: refresh every %d, want %d", c.RefreshEvery, want)
			}
		})
	}
	check(km.RefreshDn, "t", func(train.Config, int) {
		if c, _ := k.view(); c.RefreshEvery != 2 {
			t.Errorf("t: refresh every %d, want 2", c.RefreshEvery)
		}
	})
	check(km.Recompute, "e", func(train.Config, int) {
		k.eventually("e refreshes", func(s lab.Snapshot) bool {
			return hasEvent(s.Events, train.EventRefresh, "refreshed on request")
		})
	})
	check(km.Momentum, "m", func(train.Config, int) {
		if c, _ := k.view(); c.Momentum != 0.9 {
			t.Errorf("m: β %v, want 0.9", c.Momentum)
		}
	})
	check(km.Momentum, "m", func(train.Config, int) {
		if c, _ := k.view(); c.Momentum != 0 {
			t.Errorf("m again: β %v, want 0", c.Momentum)
		}
	})
	var kept int
	check(km.Checkpoint, "c", func(_ train.Config, s int) {
		kept = s
		k.eventually("c checkpoints", func(snap lab.Snapshot) bool {
			return hasEvent(snap.Events, train.EventCheckpoint, fmt.Sprintf("checkpoint at step %d", s))
		})
	})
	k.press("n")
	k.eventually("one more step", func(s lab.Snapshot) bool { return s.Step == kept+1 })
	check(km.Rollback, "u", func(train.Config, int) {
		k.eventually("u rolls back", func(s lab.Snapshot) bool {
			return s.Step == kept && hasEvent(s.Events, train.EventRollback, "rolled back")
		})
	})
	check(km.Reset, "r", func(train.Config, int) {
		k.eventually("r resets", func(s lab.Snapshot) bool { return s.Step == 0 && hasEvent(s.Events, train.EventCommand, "reset") })
	})
	check(km.Preset, "p", func(c0 train.Config, _ int) {
		next := train.Presets()[1]
		k.eventually("p loads "+next, func(s lab.Snapshot) bool { return s.Config.Preset == next })
	})
	// S opens the setup panel: → takes the next data set, enter starts it (asking first: the
	// run was not written), and the engine's fresh run has it.
	check(km.Setup, "S", func(c0 train.Config, _ int) {
		if !k.m.setup.open {
			t.Fatal("S does not open the setup panel")
		}
		for _, key := range []string{"right", "right", "enter", "enter"} { // mnist14 → mnist5k → gaussian
			k.press(key)
			k.m = settle(k.m) // the panel's estimate of its draft, as the program would run it
		}
		want := "gaussian"
		k.eventually("S → enter enter starts "+want, func(s lab.Snapshot) bool {
			return s.Config.Data == want && want != c0.Data && hasEvent(s.Events, train.EventCommand, "setup")
		})
	})
	check(km.Write, "w", func(train.Config, int) {
		k.eventually("w writes a run", func(s lab.Snapshot) bool {
			if !hasEvent(s.Events, train.EventCommand, "run written to") {
				return false
			}
			dirs, _ := filepath.Glob(filepath.Join(k.m.opts.RunDir, "*", "metrics.jsonl"))
			return len(dirs) == 1
		})
	})

	// ? walks keys → glossary → charts; i toggles the captions.
	k.press("?")
	if k.m.page != pageKeys || !strings.Contains(k.m.View(), "glossary") {
		t.Error("? does not open the full help")
	}
	k.press("?")
	if k.m.page != pageGlossary || !strings.Contains(k.m.View(), "What am I looking at") {
		t.Error("? twice does not open the glossary")
	}
	k.press("?")
	if k.m.page != pageNone {
		t.Error("? three times does not close the help")
	}
	tested["?"] = true
	k.press("i")
	view := k.m.View()
	if !k.m.captions || !slices.ContainsFunc(k.m.caption(panelAlign), func(c string) bool { return strings.Contains(view, c) }) {
		t.Errorf("i does not show the captions:\n%s", k.m.View())
	}
	k.press("i")
	if k.m.captions {
		t.Error("i again does not hide the captions")
	}
	tested["i"] = true
	// l lists the lessons; enter starts the one under the cursor (the first, "The Dominant
	// subspace", whose first step only talks). In lesson mode space goes on from a step that
	// waits, → goes on, ← steps back, and [ ] move α.
	k.press("l")
	if k.m.list.kind != listLessons || !strings.Contains(k.m.View(), "The Dominant subspace") {
		t.Fatalf("l does not list the lessons:\n%s", k.m.View())
	}
	k.press("enter")
	k.eventually("the lesson's first step", func(s lab.Snapshot) bool { return s.Lesson != nil && s.Lesson.Index == 0 && s.Run == lab.Paused })
	k.sync()
	if !strings.Contains(k.m.View(), "step 1/4") {
		t.Errorf("lesson mode does not show the lesson:\n%s", k.m.View())
	}
	k.press("space")
	k.eventually("step 2 training", func(s lab.Snapshot) bool { return s.Lesson.Index == 1 && s.Run == lab.Running })
	k.press("left")
	k.eventually("back to step 1", func(s lab.Snapshot) bool { return s.Lesson.Index == 0 && s.Step == 0 })
	k.press("right")
	k.eventually("step 2 again", func(s lab.Snapshot) bool { return s.Lesson.Index == 1 })
	k.sync()
	before, _ := k.view()
	k.press("[")
	if c, _ := k.view(); !near(sliderAlpha(&c), sliderAlpha(&before)-0.05) {
		t.Errorf("[ in lesson mode: α %g → %g, want −0.05", sliderAlpha(&before), sliderAlpha(&c))
	}
	k.press("]")
	if c, _ := k.view(); !near(sliderAlpha(&c), sliderAlpha(&before)) {
		t.Errorf("] in lesson mode: α %g, want %g back", sliderAlpha(&c), sliderAlpha(&before))
	}
	tested["l"], tested["["], tested["]"] = true, true, true
	// q asks first on a session with unwritten steps: any other key cancels, q again quits.
	k.press("n")
	k.eventually("a step", func(s lab.Snapshot) bool { return s.Step > 0 })
	k.sync()
	if cmd := k.press("q"); cmd != nil || !k.m.confirmQuit || !strings.Contains(k.m.View(), "q again quits") {
		t.Error("q on an unsaved session does not ask")
	}
	k.press("x")
	if k.m.confirmQuit || !strings.Contains(k.m.status, "cancelled") {
		t.Error("another key does not cancel the quit")
	}
	k.press("q")
	if cmd := k.press("q"); cmd == nil || cmd() != tea.Quit() {
		t.Error("q q does not quit")
	}
	tested["q"] = true

	tested["f"], tested["esc"], tested["tab"], tested["A"], tested["F"] = true, true, true, true, true // TestRaceKeys
	// Every key the help names was pressed above.
	for _, b := range append(km.steering(), km.Help, km.Captions, km.Quit) {
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
	c0, s0 := k.view()
	for _, name := range []string{"space", "n", "right", "b", "+", "K", "T", "m", "r", "p", "w", "f", "F"} {
		k.press(name)
		if !strings.Contains(k.m.status, "read-only") {
			t.Errorf("%s: status %q, want a read-only notice", name, k.m.status)
		}
	}
	c, s := k.view()
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
	c0, _ := k.view()
	for i := 0; i < 3; i++ {
		k.press("+")
		k.press("right")
	}
	c, _ := k.view()
	wd, wb := train.Weights(0.65)
	if !near(c.LR, c0.LR*1.25*1.25*1.25) || c.WDom != wd || c.WBulk != wb {
		t.Errorf("three η and α steps: η %v, (w_dom, w_bulk) = (%v, %v)", c.LR, c.WDom, c.WBulk)
	}
}

// TestQuitWithoutConfirm: --no-confirm, a written run and a read-only session quit at once.
func TestQuitWithoutConfirm(t *testing.T) {
	for _, opts := range []Options{{NoConfirm: true}, {ReadOnly: true}, {NoWrite: true}} {
		k := newKeyLab(t, opts)
		k.e.StepN(1)
		k.eventually("a step", func(s lab.Snapshot) bool { return s.Step == 1 })
		k.sync()
		if cmd := k.press("q"); cmd == nil || cmd() != tea.Quit() {
			t.Errorf("%+v: q does not quit at once", opts)
		}
	}
	k := newKeyLab(t, Options{})
	k.press("n")
	k.eventually("a step", func(s lab.Snapshot) bool { return s.Step == 1 })
	k.sync()
	k.m = k.update(savedMsg{text: "run written", step: 1})
	if cmd := k.press("q"); cmd == nil || cmd() != tea.Quit() {
		t.Error("q after the run was written does not quit at once")
	}
}

// TestIntentUntilEcho: a request is trusted over the snapshots' settings until a snapshot
// echoes its sequence number, however long that takes (an idle engine never applies it, so
// here it never does), and no longer once one has: the engine's settings then rule, even
// when they differ from the request (another command changed them after it).
func TestIntentUntilEcho(t *testing.T) {
	e := idleEngine(t)
	m := New(e, asciiRenderer(), Options{})
	defer m.Close()
	snap := syntheticSnapshot(600)
	snap.Seq = e.Seq()
	mm, _ := m.Update(snapshotMsg{snap})
	m = mm.(Model)
	lr := snap.Config.LR
	for range 2 {
		mm, _ = m.Update(typed("+"))
		m = mm.(Model)
		mm, _ = m.Update(snapshotMsg{snap}) // a snapshot from before the presses
		m = mm.(Model)
	}
	if got, want := m.base().LR, lr*1.25*1.25; !near(got, want) {
		t.Errorf("after two η × 1.25 and snapshots that do not echo them: base η %v, want %v", got, want)
	}
	if got := m.want.seq; got != e.Seq() || got <= snap.Seq {
		t.Errorf("the request's number %d, want the engine's Seq %d, above the snapshot's %d", got, e.Seq(), snap.Seq)
	}
	echo := snap
	echo.Seq, echo.Config.LR = e.Seq(), 0.07
	mm, _ = m.Update(snapshotMsg{echo})
	m = mm.(Model)
	if got := m.base().LR; got != 0.07 {
		t.Errorf("after the echo: base η %v, want the snapshot's 0.07", got)
	}
}
