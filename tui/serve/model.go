package serve

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// sessionModel wraps the lab's tui.Model for one SSH session. It adds what only a server
// needs: a queue screen while the session waits for an engine, a banner line for the
// server's notices (stopping, idle, time limit), refusals of keys that make no sense over
// SSH, a key-rate limit, a frame-rate cap, and recovery from a panic in the lab's Update or
// View (the session ends; the server goes on).
type sessionModel struct {
	s     *session
	inner tea.Model // the lab, once it has started
	phase phase
	w, h  int

	queuePos int
	notice   string    // the supervisor's persistent notice ("" none)
	flash    string    // a transient message
	flashID  int       // numbers the flashes: a timer clears only its own
	flashEnd time.Time // when the flash goes (a repeated flash pushes it back)
	reason   string    // why the session ended

	keys tokenBucket
	fr   frame
}

type phase int

const (
	phaseQueued phase = iota
	phaseLab
	phaseEnded
)

// Messages from the session's supervisor (through session.ctl).
type (
	startLabMsg   struct{ inner tea.Model }
	swapLabMsg    struct{ inner tea.Model }
	queueMsg      struct{ pos int }
	noticeMsg     struct{ text string }
	flashMsg      struct{ text string }
	endMsg        struct{ reason string }
	ctlMsg        struct{ msg tea.Msg }
	frameTickMsg  struct{}
	clearFlashMsg struct{ id int }
)

// Terminal size cap: a frame costs time in proportion to its area, and a client chooses its
// size. Larger terminals show the lab in their top-left corner.
const (
	maxWidth  = 240
	maxHeight = 80
)

// flashTTL is how long a transient message stays.
const flashTTL = 4 * time.Second

func newSessionModel(s *session) *sessionModel {
	return &sessionModel{
		s: s, w: 80, h: 24,
		// Above a held key's auto-repeat (25–33/s): a student never loses a press, while a
		// script's flood is still bounded (settings coalesce in the engine either way).
		keys: tokenBucket{rate: 50, burst: 50},
		fr:   frame{interval: time.Second / time.Duration(s.srv.cfg.FPS), stale: true},
	}
}

// Init starts listening to the supervisor.
func (m *sessionModel) Init() tea.Cmd { return m.s.waitCtl() }

// Update handles a message; a panic in the lab ends the session with a message.
func (m *sessionModel) Update(msg tea.Msg) (model tea.Model, cmd tea.Cmd) {
	defer func() {
		if v := recover(); v != nil {
			m.s.crashed("screen", v)
			m.inner, m.phase, m.reason = nil, phaseEnded, "internal error in the lab; please reconnect"
			m.fr.stale = true
			model, cmd = m, tea.Quit
		}
	}()
	urgent := false
	switch msg := msg.(type) {
	case ctlMsg:
		cmd = tea.Batch(m.control(msg.msg), m.s.waitCtl())
		urgent = true
	case tea.KeyMsg:
		cmd, urgent = m.key(msg)
	case frameTickMsg:
		m.fr.tickPending = false
		urgent = m.fr.dirty
	case clearFlashMsg:
		if msg.id != m.flashID {
			break
		}
		if left := time.Until(m.flashEnd); left > 0 { // shown again meanwhile: it stays
			cmd = tea.Tick(left, func(time.Time) tea.Msg { return msg })
			break
		}
		m.flash, urgent = "", true
	case tea.WindowSizeMsg:
		cmd, urgent = m.resize(msg), true
	default:
		if m.inner != nil && m.phase == phaseLab {
			m.inner, cmd = m.inner.Update(msg)
		}
	}
	return m, tea.Batch(cmd, m.schedule(urgent))
}

// control handles a message from the supervisor.
func (m *sessionModel) control(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		// Re-sent as a message of its own: bubbletea's renderer must see it too (it erases
		// what is left of shorter lines only when it knows the width).
		return func() tea.Msg { return msg }
	case startLabMsg, swapLabMsg:
		var inner tea.Model
		if s, ok := msg.(startLabMsg); ok {
			inner = s.inner
		} else {
			inner = msg.(swapLabMsg).inner
		}
		if m.phase == phaseEnded {
			return nil
		}
		m.inner, m.phase = inner, phaseLab
		var cmd tea.Cmd
		m.inner, cmd = m.inner.Update(tea.WindowSizeMsg{Width: m.w, Height: m.h})
		return tea.Batch(cmd, m.inner.Init())
	case queueMsg:
		m.queuePos = msg.pos
	case noticeMsg:
		m.notice = msg.text
	case flashMsg:
		return m.setFlash(msg.text)
	case endMsg:
		m.phase, m.reason = phaseEnded, msg.reason
		return tea.Quit
	}
	return nil
}

// resize clamps the client's size and passes it on.
func (m *sessionModel) resize(msg tea.WindowSizeMsg) tea.Cmd {
	m.w, m.h = max(0, min(msg.Width, maxWidth)), max(0, min(msg.Height, maxHeight))
	if m.inner == nil {
		return nil
	}
	var cmd tea.Cmd
	m.inner, cmd = m.inner.Update(tea.WindowSizeMsg{Width: m.w, Height: m.h})
	return cmd
}

// floodText is the flash of a dropped key.
const floodText = "too many keys at once: slow down"

// key handles a key press: it is activity (the idle timer restarts), Ctrl-Z is swallowed,
// a flood is dropped, w (write the run to the server's disk) is refused. It reports whether
// the screen must be drawn at once. A dropped key changes nothing on the screen after the
// first: a client holding a key at 50 presses a second must not cost 50 frames a second
// to draw (most of which the renderer, at FPS, would throw away), which is CPU the
// session's engine needs to publish what the accepted keys asked for.
func (m *sessionModel) key(k tea.KeyMsg) (tea.Cmd, bool) {
	m.s.touch()
	if h := m.s.srv.cfg.hooks.key; h != nil {
		h(m.s.id.user, k)
	}
	if k.Type == tea.KeyCtrlZ {
		return nil, false
	}
	// Several runes in one message are several presses (the lab handles them so): each
	// takes a token, and those beyond the tokens left are dropped, the oldest first (the
	// newest are what the user is waiting for: the q after a paste).
	presses := 1
	if k.Type == tea.KeyRunes && !k.Paste {
		presses = max(1, len(k.Runes))
	}
	n := m.keys.take(time.Now(), presses)
	if n < presses {
		if q, ok := leaving(k); ok { // leaving is never a flood: answered whatever the limit
			k, n, presses = q, 1, 1
		}
	}
	if n == 0 {
		shown := m.flash == floodText
		return m.setFlash(floodText), !shown
	}
	var flash tea.Cmd
	if n < presses {
		k.Runes = k.Runes[len(k.Runes)-n:]
		flash = m.setFlash(floodText)
	}
	switch m.phase {
	case phaseQueued, phaseEnded:
		if s := k.String(); s == "q" || s == "ctrl+c" || s == "esc" {
			m.phase, m.reason = phaseEnded, "you left"
			return tea.Quit, true
		}
		return nil, false
	}
	if k.String() == "w" {
		return m.setFlash("w is off over SSH: only a local sharpflat writes runs"), true
	}
	if s := k.String(); s == "q" || s == "ctrl+c" {
		m.reason = "you left"
	}
	var cmd tea.Cmd
	m.inner, cmd = m.inner.Update(k)
	return tea.Batch(cmd, flash), true
}

// leaving reports whether k asks to leave (ctrl+c, or a q among its runes, as the newest of
// a burst that the key limit cuts may be), and the key that says so alone.
func leaving(k tea.KeyMsg) (tea.KeyMsg, bool) {
	switch {
	case k.Type == tea.KeyCtrlC:
		return k, true
	case k.Type == tea.KeyRunes && !k.Paste && slices.Contains(k.Runes, 'q'):
		return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'q'}}, true
	}
	return k, false
}

// setFlash shows text for flashTTL. The same text again only extends its time: a flood of
// dropped keys starts one timer, not one per key.
func (m *sessionModel) setFlash(text string) tea.Cmd {
	m.flashEnd = time.Now().Add(flashTTL)
	if text == m.flash { // its timer is running and will see the new end
		return nil
	}
	m.flashID++
	m.flash = text
	id := m.flashID
	return tea.Tick(flashTTL, func(time.Time) tea.Msg { return clearFlashMsg{id} })
}

// frame is the frame-rate cap. Every Update is followed by a View; when the last frame is
// younger than interval and nothing urgent (a key, a notice, a resize) happened, View
// returns the cached frame and a tick brings the newest state a little later, so at most
// FPS frames a second are drawn but the last state is always shown.
type frame struct {
	interval    time.Duration
	cache       string
	last        time.Time
	stale       bool // the next View draws
	dirty       bool // something changed since the last frame
	tickPending bool
}

func (m *sessionModel) schedule(urgent bool) tea.Cmd {
	now := time.Now()
	if urgent || now.Sub(m.fr.last) >= m.fr.interval {
		m.fr.stale, m.fr.dirty = true, false
		return nil
	}
	m.fr.dirty = true
	if m.fr.tickPending {
		return nil
	}
	m.fr.tickPending = true
	return tea.Tick(m.fr.last.Add(m.fr.interval).Sub(now), func(time.Time) tea.Msg { return frameTickMsg{} })
}

// View draws the frame (or returns the cached one); a panic ends the session.
func (m *sessionModel) View() (out string) {
	defer func() {
		if v := recover(); v != nil {
			m.s.crashed("screen", v)
			m.inner, m.phase, m.reason = nil, phaseEnded, "internal error in the lab; please reconnect"
			m.fr.cache = m.endedView()
			out = m.fr.cache
		}
	}()
	if !m.fr.stale {
		return m.fr.cache
	}
	m.fr.stale, m.fr.last = false, time.Now()
	switch {
	case m.phase == phaseQueued:
		m.fr.cache = m.queueView()
	case m.phase == phaseEnded || m.inner == nil:
		m.fr.cache = m.endedView()
	default:
		m.fr.cache = m.labView()
	}
	return m.fr.cache
}

// labView is the lab with the server's banner, if any, over its first line.
func (m *sessionModel) labView() string {
	v := m.inner.View()
	text, warn := m.notice, true
	if text == "" {
		text, warn = m.flash, false
	}
	if text == "" {
		return v
	}
	_, rest, _ := strings.Cut(v, "\n")
	return m.s.styles.banner(text, m.w, warn) + "\n" + rest
}

// queueView is the waiting room (or, for a moment, the lab starting).
func (m *sessionModel) queueView() string {
	lines := []string{m.s.styles.title.Render("sharpflat"), ""}
	if m.queuePos == 0 {
		lines = append(lines, "Starting the lab…")
	} else {
		lines = append(lines,
			"The lab is full: every engine on this server is training.",
			fmt.Sprintf("You are number %d in the queue; your lab starts as soon as one is free.", m.queuePos),
			"",
			m.s.styles.dim.Render("q leaves"))
	}
	if t := m.notice + m.flash; t != "" {
		lines = append(lines, "", m.s.styles.banner(t, min(m.w, 72), m.notice != ""))
	}
	return m.centered(lines)
}

// endedView is the last frame (the handler prints the reason after leaving the alternate
// screen too).
func (m *sessionModel) endedView() string {
	return m.centered([]string{m.s.styles.title.Render("sharpflat"), "", "Session ended: " + m.reason})
}

func (m *sessionModel) centered(lines []string) string {
	w, h := max(m.w, 1), max(m.h, 1)
	out := make([]string, 0, h)
	for range max(0, (h-len(lines))/2) {
		out = append(out, "")
	}
	for _, l := range lines {
		l = ansi.Truncate(l, w, "…")
		out = append(out, strings.Repeat(" ", max(0, (w-ansi.StringWidth(l))/2))+l)
	}
	return strings.Join(out, "\n")
}

// bannerStyles are the server's own styles, made from the session's renderer.
type bannerStyles struct {
	title, dim, notice, warn lipgloss.Style
}

func newBannerStyles(r *lipgloss.Renderer) bannerStyles {
	return bannerStyles{
		title:  r.NewStyle().Bold(true).Foreground(lipgloss.AdaptiveColor{Light: "#5A3FC0", Dark: "#B9A5FF"}),
		dim:    r.NewStyle().Faint(true),
		notice: r.NewStyle().Bold(true).Foreground(lipgloss.AdaptiveColor{Light: "#FFFFFF", Dark: "#000000"}).Background(lipgloss.AdaptiveColor{Light: "#3060B0", Dark: "#8FB8FF"}),
		warn:   r.NewStyle().Bold(true).Foreground(lipgloss.AdaptiveColor{Light: "#FFFFFF", Dark: "#000000"}).Background(lipgloss.AdaptiveColor{Light: "#B03030", Dark: "#FFB454"}),
	}
}

// banner is text on a full-width line.
func (b bannerStyles) banner(text string, w int, warn bool) string {
	st := b.notice
	if warn {
		st = b.warn
	}
	text = ansi.Truncate(" "+text+" ", max(w, 1), "…")
	pad := max(0, w-ansi.StringWidth(text))
	return st.Render(text + strings.Repeat(" ", pad))
}

// tokenBucket limits key presses: burst at once, rate a second on average.
type tokenBucket struct {
	rate, burst float64
	tokens      float64
	last        time.Time
}

func (b *tokenBucket) allow(now time.Time) bool { return b.take(now, 1) == 1 }

// take takes up to n tokens and says how many it got.
func (b *tokenBucket) take(now time.Time, n int) int {
	if b.last.IsZero() {
		b.tokens = b.burst
	} else {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	got := min(n, int(b.tokens))
	b.tokens -= float64(got)
	return got
}

// execMsgType is bubbletea's (unexported) message for tea.Exec: running a process on the
// server. Nothing in the lab asks for it; the filter drops it anyway.
var execMsgType = reflect.TypeOf(tea.ExecProcess(nil, nil)())

// filterMsg drops the messages a program on a server must never act on: SuspendMsg (its
// handler sends SIGTSTP to the whole process group, i.e. would stop the server) and exec.
func filterMsg(_ tea.Model, msg tea.Msg) tea.Msg {
	switch msg.(type) {
	case tea.SuspendMsg:
		return nil
	}
	if reflect.TypeOf(msg) == execMsgType {
		return nil
	}
	return msg
}
