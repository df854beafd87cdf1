package tui

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"

	"sharpflat/internal/safetext"
	"sharpflat/lab"
	"sharpflat/lab/train"
)

// View draws the screen: header, optimizer bar, divergence banner, charts, footer.
func (m Model) View() string {
	w, h := m.c.Width, m.c.Height
	if w < MinWidth || h < MinHeight {
		return m.tooSmallView()
	}
	footer := m.footerView(w)
	if m.shared != "" {
		footer = m.sharedView(w) + "\n" + footer
	}
	if m.chooser.open {
		footer = m.chooserView(w) + "\n" + footer
	}
	bandH := m.lessonBandHeight(w, h)
	rows := max(len(m.snap.Basis.Values), m.snap.Config.K) // the bottom row fits the spectrum…
	if m.picture {
		rows = h // … or is as tall as it may be for the picture
	}
	l := computeLayout(w, h-bandH, m.bannerHeight(), lipgloss.Height(footer), rows, m.picture)
	if l.chartsH == 0 && bandH > 0 { // the band gives way to the charts' minimum
		bandH = 0
		l = computeLayout(w, h, m.bannerHeight(), lipgloss.Height(footer), rows, m.picture)
	}

	var b strings.Builder
	b.Grow(w * h * 3)
	b.WriteString(m.headerView(w))
	b.WriteByte('\n')
	b.WriteString(m.sliderView(w, l.sliderH))
	b.WriteByte('\n')
	if l.bannerH > 0 {
		b.WriteString(m.bannerView(w))
		b.WriteByte('\n')
	}
	if bandH > 0 {
		b.WriteString(m.lessonBandView(w, bandH))
		b.WriteByte('\n')
	}
	if l.chartsH > 0 {
		if m.setup.open {
			g := newGrid(l.w, l.chartsH)
			m.setupView(g.all())
			b.WriteString(g.render(&m.c.Styles.Ink))
		} else if m.list.kind != listNone {
			g := newGrid(l.w, l.chartsH)
			m.listView(g.all())
			b.WriteString(g.render(&m.c.Styles.Ink))
		} else if m.page == pageGlossary {
			g := newGrid(l.w, l.chartsH)
			m.glossaryView(g.all())
			b.WriteString(g.render(&m.c.Styles.Ink))
		} else {
			b.WriteString(m.panelsView(l))
		}
		b.WriteByte('\n')
	}
	b.WriteString(footer)
	return b.String()
}

// presetName is the header's first item: the preset, or, when the setup panel (or a flag)
// changed its data set, that data set and the preset it was set up from: "demo" over spirals
// would say the wrong data.
func presetName(c *train.Config) string {
	if p, err := train.Preset(c.Preset); err == nil && p.Data != c.Data {
		return safetext.Line(filepath.Base(c.Data)) + " (from " + safetext.Line(c.Preset) + ")"
	}
	return safetext.Line(c.Preset)
}

// tooSmallView says what size the lab needs, centred (plain text: nothing here needs the
// renderer).
func (m Model) tooSmallView() string {
	w, h := max(m.c.Width, 1), max(m.c.Height, 1)
	lines := []string{
		fmt.Sprintf("sharpflat needs at least %d×%d;", MinWidth, MinHeight),
		fmt.Sprintf("this terminal is %d×%d.", m.c.Width, m.c.Height),
		"Enlarge it, or press q to quit.",
	}
	out := make([]string, h)
	top := max(0, (h-len(lines))/2)
	for i := range out {
		if j := i - top; j >= 0 && j < len(lines) {
			l := truncate(lines[j], w)
			out[i] = strings.Repeat(" ", max(0, (w-width(l))/2)) + l
		}
	}
	return strings.Join(out, "\n")
}

// headerView is one line: brand, preset, data, architecture, P on the left; step, rate and
// state on the right.
func (m Model) headerView(w int) string {
	st := m.c.Styles
	s := &m.snap
	var right []string
	if m.have {
		right = append(right, st.Label.Render("step ")+st.Value.Render(count(float64(s.Step))))
		if s.Run == lab.Running && !s.Held {
			right = append(right, st.Value.Render(count(s.Rate))+st.Label.Render(" steps/s"))
		}
	}
	if h := m.raceHeader(); h != "" {
		right = append(right, h)
	}
	if m.opts.Watching != nil {
		right = append(right, st.Value.Render(fmt.Sprint(m.opts.Watching()))+st.Label.Render(" watching"))
	}
	right = append(right, m.stateBadge())
	r := strings.Join(right, st.Label.Render(" · "))
	// The left part loses its least telling items until it fits.
	left := st.Brand.Render("sharpflat")
	if m.have {
		// The preset, network and data name may come from a file (a lesson, a CSV).
		info := []string{presetName(&s.Config), safetext.Line(s.Arch), fmt.Sprintf("P %d", s.P),
			lossName(s.Config.Loss.String()), safetext.Line(s.Data)}
		for n := len(info); n > 0; n-- {
			l := left + "  " + st.Header.Render(strings.Join(info[:n], " · "))
			if width(l)+2+width(r) <= w || n == 1 {
				left = l
				break
			}
		}
	}
	return spread(left, r, w)
}

// stateBadge is the engine's state as a word (and a colour where there is colour).
func (m Model) stateBadge() string {
	st := m.c.Styles
	switch {
	case !m.have:
		return st.Paused.Render("starting")
	case m.stopped || m.snap.Run == lab.Stopped:
		return st.Stopped.Render("■ stopped")
	case m.snap.Held:
		return st.Paused.Render("‖ waiting for the teacher")
	case m.snap.Run == lab.Running:
		return st.Running.Render("▶ running")
	case m.snap.Run == lab.Paused:
		return st.Paused.Render("‖ paused")
	default:
		return st.Diverged.Render(" ✗ DIVERGED ")
	}
}

// bannerHeight is 1 while diverged (the banner says how to recover).
func (m Model) bannerHeight() int {
	if m.have && m.snap.Run == lab.Diverged {
		return 1
	}
	return 0
}

// bannerView explains a divergence and how to roll back.
func (m Model) bannerView(w int) string {
	st := m.c.Styles
	s := &m.snap
	to := s.RollbackTo
	var how string
	switch {
	case m.opts.ReadOnly:
		how = "paused until the session's owner rolls back"
	case to >= 0:
		how = fmt.Sprintf("u rolls back to %s at step %d (paused) · r resets", train.CheckpointName(s.RollbackWhy), to)
	default:
		how = "r resets"
	}
	// What to do comes before the numbers, which may be cut.
	head := fmt.Sprintf("✗ diverged at step %d", s.Step)
	line := st.Banner.Render(head) + st.Label.Render(" · ") + st.Value.Render(how)
	if d := s.Diverged; d != nil {
		line += st.Label.Render(fmt.Sprintf(" · loss %.4g, λ₁ %.4g, %s %.4g", float64(d.Loss), float64(d.Sharpness), d.ThresholdName, float64(d.Threshold)))
	}
	return truncate(line, w)
}

// footerView is the help (short, or full on ?) with the status message on the right.
func (m Model) footerView(w int) string {
	st := m.c.Styles
	hm := m.help
	hm.Width = w
	km := *m.c.KeyMap
	hm.ShowAll = m.page == pageKeys
	switch m.page {
	case pageKeys:
		km.Help = key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "glossary"))
	case pageGlossary:
		km.Help = key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "charts"))
	}
	status := ""
	if m.status != "" {
		s := st.Status
		if m.statusErr {
			s = st.StatusErr
		}
		status = s.Render(truncate(m.status, max(10, w-18)))
	}
	if m.opts.ReadOnly && status == "" {
		status = st.Dim.Render("read-only session")
	}
	if hm.ShowAll {
		cols := max(1, (w+4)/34)
		n := 0
		for _, c := range km.FullHelp() {
			for _, b := range c {
				if b.Enabled() { // as fullHelpColumns: a disabled key takes no row
					n++
				}
			}
		}
		full := hm.FullHelpView(km.fullHelpColumns((n + cols - 1) / cols))
		if status != "" {
			full += "\n" + spread("", status, w)
		}
		return full
	}
	if m.setup.open { // the panel takes the keys: say its own
		return spread(st.Dim.Render(truncate("esc closes · enter starts the run · y shares it · ctrl+c quits", max(10, w-width(status)-2))), status, w)
	}
	avail := max(10, w-width(status)-2)
	hm.Width = avail
	bs := km.shortHelpFits(hm, avail, m.have && m.snap.Run == lab.Diverged)
	return spread(hm.ShortHelpView(bs), status, w)
}

// sharedView is the command y made, on as many lines as it needs (at most three).
func (m Model) sharedView(w int) string {
	st := m.c.Styles
	var lines []string
	rest := safetext.Line(m.shared) // shareQuote leaves nothing to escape: a second guard
	for len(lines) < 3 && rest != "" {
		n := min(len([]rune(rest)), max(1, w))
		lines = append(lines, st.Value.Render(string([]rune(rest)[:n])))
		rest = string([]rune(rest)[n:])
	}
	return strings.Join(lines, "\n")
}

// lossName spells out the loss of lab.Snapshot.Loss.
func lossName(l string) string {
	switch l {
	case "ce":
		return "cross-entropy"
	case "mse":
		return "MSE"
	}
	return l
}
