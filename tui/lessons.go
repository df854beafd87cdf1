package tui

// Lesson mode's keys and the lists the lab opens over its charts: the lessons (l) and the
// saved runs to compare (o).

import (
	"fmt"
	"path/filepath"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"sharpflat/internal/safetext"
	"sharpflat/lab"
	"sharpflat/lab/lesson"
)

// listKind is the list shown over the charts (none: the charts).
type listKind int

const (
	listNone listKind = iota
	listLessons
	listRuns
)

// list is an open list: its entries, the cursor, and (for runs) the entries chosen.
type list struct {
	kind    listKind
	title   string
	entries []listEntry
	cursor  int
}

type listEntry struct {
	name, about string
	chosen      bool
	lesson      *lesson.Lesson
	dir         string
}

// openLessons opens the list of built-in lessons.
func (m Model) openLessons() (Model, tea.Cmd) {
	var es []listEntry
	if m.snap.Lesson != nil {
		es = append(es, listEntry{name: "Leave the lesson", about: "the lab goes on from here, without captions"})
	}
	for _, l := range lesson.Builtin() {
		es = append(es, listEntry{name: safetext.Line(l.Title), about: fmt.Sprintf("%s · %d steps · %s", safetext.Line(l.Preset), len(l.Steps), safetext.Line(l.Summary)), lesson: l})
	}
	m.list = list{kind: listLessons, title: "Lessons · ↑/↓ choose · enter starts · esc closes · your own: sharpflat lesson FILE", entries: es}
	return m, nil
}

// openRuns opens the list of saved runs: those given with --compare, then those under the
// run directory, newest first.
func (m Model) openRuns() (Model, tea.Cmd) {
	dirs := append([]string(nil), m.opts.Compare...)
	if !m.opts.NoWrite {
		found, _ := findRuns(m.opts.RunDir)
		dirs = append(dirs, found...)
	}
	shown := map[string]bool{}
	for _, r := range m.runs {
		shown[filepath.Clean(r.Dir)] = true
	}
	var es []listEntry
	seen := map[string]bool{}
	for _, d := range dirs {
		d = filepath.Clean(d)
		if seen[d] {
			continue
		}
		seen[d] = true
		es = append(es, listEntry{name: d, dir: d, chosen: shown[d]})
	}
	if len(es) == 0 {
		return m.setStatus(fmt.Sprintf("no saved runs: w writes one under %s/, or start the lab with --compare DIR…", m.opts.RunDir), true)
	}
	m.list = list{kind: listRuns, title: "Compare saved runs · ↑/↓ move · space marks · enter shows the marked ones (none: no comparison) · esc closes", entries: es}
	return m, nil
}

// listKey handles a key while a list is open.
func (m Model) listKey(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	km := m.c.KeyMap
	l := &m.list
	switch {
	case key.Matches(k, km.Close):
		m.list = list{}
	case k.Type == tea.KeyUp:
		l.cursor = max(0, l.cursor-1)
	case k.Type == tea.KeyDown:
		l.cursor = min(len(l.entries)-1, l.cursor+1)
	case l.kind == listRuns && k.Type == tea.KeySpace:
		l.entries[l.cursor].chosen = !l.entries[l.cursor].chosen
	case key.Matches(k, km.Select):
		return m.choose()
	}
	return m, nil
}

// choose acts on the list: starts the lesson under the cursor, or shows the runs marked.
func (m Model) choose() (tea.Model, tea.Cmd) {
	l := m.list
	m.list = list{}
	switch l.kind {
	case listLessons:
		if len(l.entries) == 0 {
			return m, nil
		}
		les := l.entries[l.cursor].lesson
		if les == nil {
			m.e.EndLesson()
			return m.setStatus("left the lesson: the lab is yours", false)
		}
		m.e.StartLesson(les)
		m.want = intent{}
		return m.setStatus("lesson: "+safetext.Line(les.Title)+" · space/→ goes on, ← goes back", false)
	case listRuns:
		var dirs []string
		for _, e := range l.entries {
			if e.chosen {
				dirs = append(dirs, e.dir)
			}
		}
		return m.compareWith(dirs) // none marked: the comparison goes
	}
	return m, nil
}

// compareWith loads the runs in dirs and overlays them (none: the overlay goes).
func (m Model) compareWith(dirs []string) (Model, tea.Cmd) {
	if len(dirs) == 0 {
		m.runs = nil
		return m.setStatus("comparison off", false)
	}
	runs, err := loadComparison(dirs)
	if err != nil {
		return m.setStatus(err.Error(), true)
	}
	m.runs = runs
	for _, r := range runs {
		if r.Warning != "" {
			return m.setStatus(r.Warning, true)
		}
	}
	return m.setStatus(fmt.Sprintf("comparing with %d saved run(s): loss, λ₁ and χ carry their glyphs · o changes them", len(runs)), false)
}

// listView draws the open list into the charts area.
func (m Model) listView(a area) {
	l := &m.list
	a.text(0, 0, l.title, inkTitle)
	rows := max(1, (a.h-2)/2)
	top := max(0, min(l.cursor-rows/2, len(l.entries)-rows))
	for i := 0; i < rows && top+i < len(l.entries); i++ {
		e := l.entries[top+i]
		y := 2 + 2*i
		mark, k := "  ", inkNone
		if top+i == l.cursor {
			mark, k = "▸ ", inkTitle
		}
		if l.kind == listRuns {
			box := "[ ] "
			if e.chosen {
				box = "[x] "
			}
			mark += box
		}
		x := a.text(0, y, mark, k)
		a.text(x, y, e.name, k)
		if e.about != "" {
			a.text(x, y+1, e.about, inkLabel)
		}
	}
}

// lessonKey handles the keys of lesson mode; ok is false for a key it leaves to the lab.
// Space goes on when the step waits for the user, and pauses or resumes otherwise.
func (m Model) lessonKey(k tea.KeyMsg) (mm Model, cmd tea.Cmd, ok bool) {
	v := m.snap.Lesson
	km := m.c.KeyMap
	if v == nil {
		return m, nil, false
	}
	waiting := !v.Over && (v.Done || !v.Trains) // after the end, space pauses and resumes again
	switch {
	case key.Matches(k, km.LessonNext), key.Matches(k, km.Pause) && waiting:
		if v.Over {
			mm, cmd = m.setStatus("the lesson is over: ← replays the last step, l lists lessons", false)
			return mm, cmd, true
		}
		m.e.LessonNext()
		m.want = intent{}
		what := "the next step"
		if v.Index+1 == v.Count {
			what = "the end of the lesson"
		}
		msg := "on to " + what
		if v.Trains && !v.Done && m.snap.Run != lab.Diverged { // mid-step: see Engine.LessonNext
			msg = "the step trains on to its end, where its claims are judged, then " + what + " · → again skips it"
			if v.FastForward {
				msg = "step skipped, its claims not judged: on to " + what
			}
		}
		mm, cmd = m.setStatus(msg, false)
		return mm, cmd, true
	case key.Matches(k, km.LessonBack):
		m.e.LessonBack()
		m.want = intent{}
		to := max(1, v.Index)
		if v.Over {
			to = v.Count
		}
		mm, cmd = m.setStatus(fmt.Sprintf("back to the beginning of step %d: its state comes back and it plays again", to), false)
		return mm, cmd, true
	}
	return m, nil, false
}
