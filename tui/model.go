package tui

import (
	"fmt"
	"io"
	"time"

	"github.com/charmbracelet/bubbles/help"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"sharpflat/internal/safetext"
	"sharpflat/lab"
	"sharpflat/lab/lesson"
)

// Options are a session's settings.
type Options struct {
	// ReadOnly makes a viewer's session (a classroom over SSH): the charts follow the
	// engine, steering keys are refused with a message, and the help lists only ? and q.
	ReadOnly bool
	// NoWrite switches the w key off (and out of the help): over SSH a session must not
	// write runs on the server's disk.
	NoWrite bool
	// RunDir is the directory under which w writes runs (default "runs"), as
	// RunDir/<preset>-<yyyymmdd-hhmmss>.
	RunDir string
	// NoConfirm makes q quit at once even when the session has steps that were never
	// written (for scripts); otherwise q asks once.
	NoConfirm bool
	// Lesson, if set, is played from its first step (RunWith starts the engine on its
	// configuration).
	Lesson *lesson.Lesson
	// Compare lists saved run directories to overlay on the charts from the start (o
	// changes them).
	Compare []string
	// Clipboard, if set, receives the OSC 52 sequence that copies a shared setup (y) into
	// the terminal's clipboard: the terminal the program draws on.
	Clipboard io.Writer
	// Watching, if set, says how many sessions watch this engine (a classroom's controller
	// sees it in the header).
	Watching func() int
	// Race, if set, races these arms once RaceAt steps are done (RunWith; what y shares
	// during a race reproduces it).
	Race   []lab.ArmSpec
	RaceAt int
	// DensityEvery is the period of the density in refreshes while the panel shows it (s):
	// 0 is lab.DefaultDensityEvery, a negative value only when asked (e). A read-only session
	// leaves the engine's as it is.
	DensityEvery int
}

// Common is what every part of a session's screen shares: its size, styles and keys. It
// lives in the model, never in a package variable, so that many sessions can run in one
// process.
type Common struct {
	Width, Height int
	Styles        *Styles
	KeyMap        *KeyMap
}

// Model is the lab's bubbletea model. Create it with New; it subscribes to the engine at
// once, and Close (or the quit key) ends the subscription. The engine's owner starts and
// stops the engine.
type Model struct {
	c    Common
	e    *lab.Engine
	sub  *lab.Subscription
	opts Options
	help help.Model

	snap    lab.Snapshot
	have    bool // a snapshot has arrived
	stopped bool // the engine has stopped (the subscription is closed)

	want intent // settings asked for and not necessarily seen in a snapshot yet

	page        page         // what the screen shows besides the charts: keys, glossary
	glossaryTop int          // first line of the glossary shown (it scrolls with ↑/↓)
	textTop     int          // first line of the lesson text shown (it scrolls with pgup/pgdn)
	textStep    int          // the lesson step textTop belongs to (another step starts at its top)
	captions    bool         // i: a line under each panel says how to read it
	confirmQuit bool         // q was pressed on an unsaved session: q again quits
	savedStep   int          // the step of the last run written with w (-1: none)
	list        list         // a list open over the charts (l, o)
	picture     bool         // v: the picture of what the network learned replaces a panel
	pic         pictureState // x, V and ←/→ in the neurons (pictureview.go)
	density     bool         // s: the spectrum panel shows the density of H instead of the top-k bars
	shown       lessonShown  // the lesson step whose show was applied (lessonShow)
	runs        []comparedRun
	shared      string        // the last command line y made
	raceChoice  []lab.ArmSpec // the arms f races (the chooser's last choice; nil: lab.DefaultRace)
	chooser     raceChooser   // F: the line where a race's arms are typed
	setup       setupForm     // S: the setup panel over the charts (setup.go)

	status       string
	statusErr    bool
	statusID     int
	statusText   string // the status as asked for, without its repeat count
	statusRepeat int    // how many times in a row it was asked for
}

// New returns the model of a session on e, styled by r (a session's renderer; nil means
// lipgloss.DefaultRenderer()).
func New(e *lab.Engine, r *lipgloss.Renderer, opts Options) Model {
	if r == nil {
		r = lipgloss.DefaultRenderer()
	}
	if opts.RunDir == "" {
		opts.RunDir = "runs"
	}
	if !opts.ReadOnly { // before subscribing: the first snapshot says it
		every := opts.DensityEvery
		if every == 0 {
			every = lab.DefaultDensityEvery
		}
		e.SetDensityEvery(max(0, every))
	}
	km := DefaultKeyMap()
	km.ReadOnly = opts.ReadOnly
	km.Write.SetEnabled(!opts.NoWrite)
	km.setLesson(false)
	km.setRace(false)
	st := NewStyles(r)
	h := help.New()
	h.Styles = st.Help
	m := Model{
		c:         Common{Width: 80, Height: 24, Styles: st, KeyMap: km},
		e:         e,
		sub:       e.Subscribe(),
		opts:      opts,
		help:      h,
		savedStep: -1,
	}
	if len(opts.Compare) > 0 {
		if runs, err := loadComparison(opts.Compare); err == nil {
			m.runs = runs
		} else {
			m.status, m.statusErr = safetext.Line(err.Error()), true
		}
	}
	return m
}

// Close ends the model's subscription to the engine (idempotent). Call it when the program
// has ended for a reason other than the quit key.
func (m Model) Close() { m.sub.Cancel() }

// snapshotMsg carries a snapshot from the engine.
type snapshotMsg struct{ s lab.Snapshot }

// engineStoppedMsg says the subscription has closed: the engine stopped.
type engineStoppedMsg struct{}

// statusMsg shows a transient message in the footer.
type statusMsg struct {
	text string
	err  bool
}

// clearStatusMsg clears the status message id (if no newer one replaced it).
type clearStatusMsg struct{ id int }

// statusTTL is how long a status message stays.
const statusTTL = 4 * time.Second

// waitSnapshotCmd reads the next snapshot. It is re-armed after each one, so exactly one
// read is pending at any time, and the engine's coalescing (≤ lab.MaxHz a second, latest
// wins) sets the pace of redraws.
func waitSnapshotCmd(c <-chan lab.Snapshot) tea.Cmd {
	return func() tea.Msg {
		s, ok := <-c
		if !ok {
			return engineStoppedMsg{}
		}
		return snapshotMsg{s}
	}
}

// Init starts reading snapshots.
func (m Model) Init() tea.Cmd { return waitSnapshotCmd(m.sub.C()) }

// Update handles a message.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.c.Width, m.c.Height = msg.Width, msg.Height
		m.help.Width = msg.Width
		return m, nil
	case snapshotMsg:
		m.snap, m.have = msg.s, true
		m = m.lessonShow()
		m.c.KeyMap.setLesson(m.snap.Lesson != nil)
		m.c.KeyMap.setRace(m.snap.Race != nil)
		return m, waitSnapshotCmd(m.sub.C())
	case engineStoppedMsg:
		m.stopped = true
		m.snap.Run = lab.Stopped
		return m, nil
	case statusMsg:
		return m.setStatus(msg.text, msg.err)
	case clearStatusMsg:
		if msg.id == m.statusID {
			m.status = ""
		}
		return m, nil
	case setupCheckedMsg:
		return m.setupChecked(msg)
	case savedMsg:
		m.savedStep = max(m.savedStep, msg.step)
		return m.setStatus(msg.text, false)
	case tea.KeyMsg:
		if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste {
			return m.handleBurst(msg)
		}
		return m.key(msg)
	}
	return m, nil
}

// handleBurst handles a key message that holds several runes as that many presses, in
// order. A terminal delivers keys that reach it together (a held key, a slow SSH link, a
// script) as one message; each of them counts.
func (m Model) handleBurst(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	var cmds []tea.Cmd
	for _, r := range msg.Runes {
		k := msg
		k.Runes = []rune{r}
		mm, cmd := m.key(k)
		m = mm.(Model)
		cmds = append(cmds, cmd)
	}
	return m, tea.Batch(cmds...)
}

// key handles one key: the density panel's keys (densityKey), the picture's, then every other.
func (m Model) key(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	if m.setup.open { // the panel takes every key but ctrl+c (handleKey)
		return m.handleKey(k)
	}
	if mm, cmd, ok := m.densityKey(k); ok {
		return mm, cmd
	}
	if mm, cmd, ok := m.pictureKey(k); ok {
		return mm, cmd
	}
	return m.handleKey(k)
}

// setStatus shows text in the footer for statusTTL. The same text again while it shows gets a
// count ("(×3)"), so that every key visibly reaches the screen, also a held key that changes
// nothing more (k at its largest, α at an end).
//
// The text may quote a file or a peer (an error naming a saved run's directory, a lesson's
// title): it is shown through safetext.Line.
func (m Model) setStatus(text string, isErr bool) (Model, tea.Cmd) {
	text = safetext.Line(text)
	m.statusID++
	if m.status != "" && text == m.statusText {
		m.statusRepeat++
	} else {
		m.statusText, m.statusRepeat = text, 1
	}
	if m.statusRepeat > 1 {
		text = fmt.Sprintf("%s (×%d)", text, m.statusRepeat)
	}
	m.status, m.statusErr = text, isErr
	id := m.statusID
	return m, tea.Tick(statusTTL, func(time.Time) tea.Msg { return clearStatusMsg{id} })
}
