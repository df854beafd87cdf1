package tui

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"sharpflat/internal/safetext"
	"sharpflat/lab"
)

// The race's keys: f races from here (the default arms, or the chooser's last choice) and f
// again, or esc on the charts, ends the race keeping the focused arm; tab moves the focus; A
// makes the setting keys act on every arm; F opens the chooser, a line of the race grammar
// ("dom,sgd,bulk", lab.ParseRace) whose error shows under it until it reads.

// raceChooser is the line F opens.
type raceChooser struct {
	open bool
	text []rune
	err  string // why the text does not read as a race (empty: it was not tried yet)
}

// maxChooserRunes bounds the chooser's line (six arms with every option fit well within it).
const maxChooserRunes = 160

// raceKey handles the race's keys (called after the read-only and engine checks); ok says
// whether k was one of them.
func (m Model) raceKey(k tea.KeyMsg) (tea.Model, tea.Cmd, bool) {
	km := m.c.KeyMap
	r := m.snap.Race
	switch {
	case key.Matches(k, km.Race) && r != nil, key.Matches(k, km.RaceEnd) && r != nil:
		m.e.EndRace()
		m.want = intent{} // the lab goes on with the focused arm's settings
		mm, cmd := m.setStatus(fmt.Sprintf("ending the race: the lab goes on with %s", m.focusName()), false)
		return mm, cmd, true
	case key.Matches(k, km.Race):
		mm, cmd := m.startRace(m.raceSpecs())
		return mm, cmd, true
	case key.Matches(k, km.RaceChoose):
		m.chooser = raceChooser{open: true, text: []rune(lab.FormatRace(m.raceSpecs()))}
		mm, cmd := m.setStatus("type the race's arms, enter races them, esc cancels", false)
		return mm, cmd, true
	case key.Matches(k, km.RaceFocus) && r != nil && len(r.Arms) > 0:
		next := (r.Focus + 1) % len(r.Arms)
		m.e.FocusArm(next)
		m.want = intent{} // a request was the other arm's
		look := raceLooks(r.Arms)[next]
		what := "the keys act on it"
		if r.All {
			what = "the keys act on every arm (A: on this one only)"
		}
		mm, cmd := m.setStatus(fmt.Sprintf("focus on %c %s: %s", look.glyph, r.Arms[next].Name, what), false)
		return mm, cmd, true
	case key.Matches(k, km.RaceAll) && r != nil:
		m.e.ActOnAll(!r.All)
		ack := fmt.Sprintf("the keys act on every arm of the race (A: on %s only)", m.focusName())
		if r.All {
			ack = fmt.Sprintf("the keys act on %s only (A: on every arm)", m.focusName())
		}
		mm, cmd := m.setStatus(ack, false)
		return mm, cmd, true
	}
	return m, nil, false
}

// raceSpecs is what f races: the chooser's last choice, or Dom-SGD, SGD and Bulk-SGD.
func (m Model) raceSpecs() []lab.ArmSpec {
	if len(m.raceChoice) > 0 {
		return m.raceChoice
	}
	return lab.DefaultRace
}

// startRace asks the engine for a race of specs from the current state.
func (m Model) startRace(specs []lab.ArmSpec) (Model, tea.Cmd) {
	if m.snap.Run == lab.Diverged {
		return m.setStatus("diverged: u rolls back first, then f races from there", true)
	}
	m.e.Race(specs)
	m.want = intent{}
	return m.setStatus(fmt.Sprintf("racing %s from step %d: tab moves the focus, f or esc ends the race", lab.FormatRace(specs), m.snap.Step), false)
}

// focusName is the focused arm as the legends name it ("□ Bulk"), or "the focused arm".
func (m Model) focusName() string {
	r := m.snap.Race
	if r == nil || r.Focus < 0 || r.Focus >= len(r.Arms) {
		return "the focused arm"
	}
	return fmt.Sprintf("%c %s", raceLooks(r.Arms)[r.Focus].glyph, r.Arms[r.Focus].Name)
}

// chooserKey edits the chooser's line: printable characters, backspace, ctrl+u clears it;
// enter reads it (lab.ParseRace) and, if it reads, remembers it for f and races it; esc
// closes it.
func (m Model) chooserKey(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	c := &m.chooser
	switch k.Type {
	case tea.KeyEsc:
		m.chooser = raceChooser{}
		return m.setStatus("race chooser closed: f races "+lab.FormatRace(m.raceSpecs()), false)
	case tea.KeyEnter:
		specs, err := lab.ParseRace(string(c.text))
		if err != nil {
			c.err = err.Error()
			return m, nil
		}
		m.chooser = raceChooser{}
		m.raceChoice = specs
		return m.startRace(specs)
	case tea.KeyBackspace:
		if len(c.text) > 0 {
			c.text = c.text[:len(c.text)-1]
		}
	case tea.KeyCtrlU:
		c.text = c.text[:0]
	case tea.KeyRunes, tea.KeySpace:
		for _, r := range k.Runes {
			if r < unicode.MaxASCII && unicode.IsPrint(r) && len(c.text) < maxChooserRunes {
				c.text = append(c.text, r)
			}
		}
	}
	c.err = ""
	return m, nil
}

// chooserView is the chooser's lines above the footer: the line being typed, then its error
// or the grammar.
func (m Model) chooserView(w int) string {
	st := m.c.Styles
	line := st.Label.Render("race arms: ") + st.Value.Render(safetext.Line(string(m.chooser.text))) + st.Knob.Render("▏")
	help := st.Dim.Render("RULE[:lr*X][:k=N][:m=B],… up to 6 · dom sgd bulk alpha=A w=D/B · enter races · esc")
	if m.chooser.err != "" {
		help = st.StatusErr.Render(safetext.Line(m.chooser.err))
	}
	return truncate(line, w) + "\n" + truncate(strings.TrimRight(help, " "), w)
}
