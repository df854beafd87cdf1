package tui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"sharpflat/internal/safetext"
	"sharpflat/lab"
	"sharpflat/lab/lesson"
)

// bandScreen draws the lab at w×h on snap in the ASCII profile, as plain text.
func bandScreen(t *testing.T, snap lab.Snapshot, w, h int, opts Options) string {
	t.Helper()
	m := New(idleEngine(t), asciiRenderer(), opts)
	t.Cleanup(m.Close)
	mm, _ := m.Update(snapshotMsg{snap})
	mm, _ = mm.Update(tea.WindowSizeMsg{Width: w, Height: h})
	v := mm.View()
	checkScreen(t, v, w, h)
	return ansi.Strip(v)
}

// builtinStep is the lesson view of step i (0-based) of a built-in lesson, as the engine
// shows it when the step begins.
func builtinStep(t *testing.T, name string, i int) lab.Snapshot {
	t.Helper()
	var l *lesson.Lesson
	for _, b := range lesson.Builtin() {
		if b.Name == name {
			l = b
		}
	}
	if l == nil {
		t.Fatalf("no built-in lesson %s", name)
	}
	s := syntheticSnapshot(600)
	st := l.Steps[i]
	s.Lesson = &lab.LessonView{Name: l.Name, Title: l.Title, Index: i, Count: len(l.Steps), StepTitle: st.Title,
		Caption: st.Caption, Until: lesson.DescribeUntil(st.Until), Trains: st.Until.Trains() && !st.Do.Pause}
	if i+1 < len(l.Steps) {
		s.Lesson.Next = l.Steps[i+1].Title
	}
	if !s.Lesson.Trains {
		s.Run = lab.Paused
	}
	return s
}

// words is s with its runs of white space made single spaces (the band wraps the caption).
func words(s string) string { return strings.Join(strings.Fields(s), " ") }

// Step 1 of dom-stalls-bulk-learns shows whole at 80×28. Where the text is cut (80×24, where
// the charts keep the lab's smallest screen), its last line says that there is more and
// where it shows, instead of a sentence cut at "… The …".
func TestLessonBandShowsTheWholeCaption(t *testing.T) {
	s := builtinStep(t, "dom-stalls-bulk-learns", 0)
	whole := []string{"So are those the directions that make the network learn?", "The slider at the top shows which one is in force.", "Press space: SGD warms up for 300 steps."}
	screen := words(bandScreen(t, s, 80, 28, Options{}))
	for _, want := range whole {
		if !strings.Contains(screen, want) {
			t.Errorf("80×28, step 1 of dom-stalls-bulk-learns: %q is not on the screen:\n%s", want, bandScreen(t, s, 80, 28, Options{}))
		}
	}
	if screen := bandScreen(t, s, 80, 24, Options{}); !strings.Contains(screen, "pgdn more") || strings.Contains(screen, "… The") {
		t.Errorf("80×24: the cut text does not say there is more:\n%s", screen)
	}
	long := builtinStep(t, "dom-stalls-bulk-learns", 0)
	long.Lesson.Trains, long.Run = true, lab.Running
	long.Lesson.Until, long.Lesson.Progress = "300 steps", 0.1
	if screen := bandScreen(t, long, 80, 24, Options{}); !strings.Contains(screen, "pgdn more") {
		t.Errorf("a training step's long caption at 80×24 does not say there is more:\n%s", screen)
	}
	// At 80×32 a third of the screen (10 lines) is too little for this text and three claims
	// while the step trains; when it pauses, the text takes the charts' room.
	long.Lesson.Claims = []lab.Claim{{Text: "a", Value: "1"}, {Text: "b", Value: "2"}, {Text: "c", Value: "3"}}
	if screen := bandScreen(t, long, 80, 32, Options{}); !strings.Contains(screen, "pgdn more · all of it when paused or at the step's end") {
		t.Errorf("a training step's long caption at 80×32:\n%s", screen)
	}
	long.Run = lab.Paused
	if screen := words(bandScreen(t, long, 80, 32, Options{})); !strings.Contains(screen, whole[2]) || strings.Contains(screen, "pgdn more") {
		t.Errorf("paused, the whole caption at 80×32:\n%s", bandScreen(t, long, 80, 32, Options{}))
	}
}

// A lesson text cut at 80×24 scrolls with pgdn/pgup, for the one at the keys and for a
// student watching (reading is not steering): every line of it can be read, the band says
// which lines show, and the next step starts at its top.
func TestLessonTextScrolls(t *testing.T) {
	s := builtinStep(t, "dom-stalls-bulk-learns", 0)
	whole := words(bandScreen(t, s, 80, 60, Options{})) // tall enough for all of it
	for _, opts := range []Options{{}, {ReadOnly: true}} {
		m := New(idleEngine(t), asciiRenderer(), opts)
		t.Cleanup(m.Close)
		var mm tea.Model = m
		mm, _ = mm.Update(snapshotMsg{s})
		mm, _ = mm.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
		first := ansi.Strip(mm.View())
		if !strings.Contains(first, "↕ lines 1–") || !strings.Contains(first, "pgdn more") || strings.Contains(first, "pgup back") {
			t.Fatalf("read-only %v: the top of a cut text:\n%s", opts.ReadOnly, first)
		}
		seen := words(first)
		for range 10 {
			mm, _ = mm.Update(tea.KeyMsg{Type: tea.KeyPgDown})
			seen += " " + words(ansi.Strip(mm.View()))
		}
		last := ansi.Strip(mm.View())
		checkScreen(t, mm.View(), 80, 24)
		if strings.Contains(last, "pgdn more") || !strings.Contains(last, "pgup back") {
			t.Errorf("read-only %v: after pgdn to the end:\n%s", opts.ReadOnly, last)
		}
		for _, want := range []string{"So are those the directions that make the network learn?", "warms up for 300 steps."} {
			if !strings.Contains(whole, want) || !strings.Contains(seen, want) {
				t.Errorf("read-only %v: %q was never on the screen while scrolling", opts.ReadOnly, want)
			}
		}
		for range 10 {
			mm, _ = mm.Update(tea.KeyMsg{Type: tea.KeyPgUp})
		}
		if back := ansi.Strip(mm.View()); back != first {
			t.Errorf("read-only %v: pgup to the top does not give the first screen back:\n%s", opts.ReadOnly, back)
		}
		mm, _ = mm.Update(tea.KeyMsg{Type: tea.KeyPgDown})
		next := builtinStep(t, "dom-stalls-bulk-learns", 1)
		mm, _ = mm.Update(snapshotMsg{next})
		if v := ansi.Strip(mm.View()); strings.Contains(v, "pgup back") {
			t.Errorf("read-only %v: the next step does not start at its top:\n%s", opts.ReadOnly, v)
		}
	}
}

// Before the first basis, the spectrum and split panels say who can compute one: e for the
// one at the keys, the teacher for a student watching (who cannot press e).
func TestNoBasisSaysWhoComputesIt(t *testing.T) {
	s := builtinStep(t, "dom-stalls-bulk-learns", 0)
	s.Basis.Values, s.Basis.GGN, s.Basis.Functional, s.Basis.Residuals = nil, nil, nil, nil
	watcher := words(bandScreen(t, s, 200, 60, Options{ReadOnly: true}))
	if strings.Contains(watcher, "e computes") || !strings.Contains(watcher, "no eigenspace yet (the teacher can compute it)") {
		t.Errorf("a watcher's spectrum panel before the first basis:\n%s", bandScreen(t, s, 200, 60, Options{ReadOnly: true}))
	}
	if own := words(bandScreen(t, s, 200, 60, Options{})); !strings.Contains(own, "no eigenspace yet (e computes it)") {
		t.Errorf("the one at the keys is not told that e computes it:\n%s", own)
	}
}

// A student watching a classroom is told what the teacher will do, not a key to press.
func TestLessonBandForWatchers(t *testing.T) {
	s := builtinStep(t, "dom-stalls-bulk-learns", 0)
	screen := bandScreen(t, s, 120, 40, Options{ReadOnly: true})
	flat := words(screen)
	if strings.Contains(flat, "Press space") || strings.Contains(flat, "space/→") {
		t.Errorf("a watcher is told to press space:\n%s", screen)
	}
	for _, want := range []string{"The teacher will press space: SGD warms up for 300 steps.", "next: Warm up with SGD, when the teacher goes on"} {
		if !strings.Contains(flat, want) {
			t.Errorf("a watcher's screen lacks %q:\n%s", want, screen)
		}
	}
	if own := words(bandScreen(t, s, 120, 40, Options{})); !strings.Contains(own, "Press space: SGD") || !strings.Contains(own, "space/→ next") {
		t.Errorf("the one at the keys is not told which key goes on:\n%s", own)
	}
}

// A skipped step's claims read "not judged", and a fast-forward says what → does now.
func TestLessonBandSkippedAndFastForward(t *testing.T) {
	s := builtinStep(t, "dom-stalls-bulk-learns", 2)
	s.Lesson.Trained, s.Lesson.Progress, s.Lesson.FastForward = 120, 0.4, true
	s.Lesson.Claims = []lab.Claim{{Text: "train_loss stays within 5% of its start", Verdict: lesson.Skipped, Value: "not judged (skipped)"}}
	screen := bandScreen(t, s, 120, 40, Options{})
	if !strings.Contains(screen, "– train_loss stays within 5% of its start · not judged (skipped)") || strings.Contains(screen, "✗") {
		t.Errorf("a skipped claim:\n%s", screen)
	}
	if !strings.Contains(screen, "→ to the step's end, then on · → again skips it · 120/300 steps") {
		t.Errorf("the fast-forward is not shown:\n%s", screen)
	}
}

// A step whose fresh start could not start says why in the band, above its claims.
func TestLessonBandShowsTheStepsError(t *testing.T) {
	s := builtinStep(t, "width-and-depth", 2)
	s.Lesson.Error = "lesson setup: k: 10, but the network has 7 parameters"
	screen := bandScreen(t, s, 120, 40, Options{ReadOnly: true})
	if !strings.Contains(screen, "✗ lesson setup: k: 10, but the network has 7 parameters") {
		t.Errorf("the step's error is not shown:\n%s", screen)
	}
	// The band makes room for the error line: at 200×60 the whole caption still shows.
	if screen = bandScreen(t, s, 200, 60, Options{ReadOnly: true}); strings.Contains(screen, "pgdn") || !strings.Contains(screen, "adds nothing") {
		t.Errorf("the error line cost the caption its last line at 200×60:\n%s", screen)
	}
}

// No string of a lesson reaches the terminal able to act, in the band or the lessons list.
func TestLessonBandEscapesHostileText(t *testing.T) {
	for _, h := range safetext.Hostile() {
		s := syntheticSnapshot(600)
		s.Lesson = &lab.LessonView{Name: h, Title: h + " evil", Index: 0, Count: 2, StepTitle: h, Next: h, Caption: "a " + h + "\n\nPress " + h, Error: h,
			Until: "until " + h, Trains: true, Trained: 3, Progress: 0.5,
			Claims: []lab.Claim{{Text: h, Verdict: lesson.Fails, Value: h}, {Text: h, Verdict: lesson.Skipped, Value: h}}}
		for _, opts := range []Options{{}, {ReadOnly: true}} {
			for _, size := range [][2]int{{80, 24}, {120, 40}} {
				// The ASCII profile draws no escape sequence of its own: any in the frame
				// came from the lesson (ansi.Strip would hide one).
				m := New(idleEngine(t), asciiRenderer(), opts)
				mm, _ := m.Update(snapshotMsg{s})
				mm, _ = mm.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
				if v := mm.View(); safetext.Executable(v) {
					t.Errorf("%q reaches the screen (%v, %d×%d):\n%q", h, opts.ReadOnly, size[0], size[1], v)
				}
				m.Close()
			}
		}
	}
}
