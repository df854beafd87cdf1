package tui

// y: a one-line command that reproduces the current setup (the Playground's shareable URL in
// terminal form), shown in the footer and copied with OSC 52 where the terminal allows.

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/aymanbagabas/go-osc52/v2"
	tea "github.com/charmbracelet/bubbletea"

	"sharpflat/internal/safetext"
	"sharpflat/lab"
	"sharpflat/lab/train"
)

// ShareCommand is the command line that opens the lab on c: the preset, seed, α (or the
// weights off its path) and η always, then every other setting that differs from the
// preset's.
func ShareCommand(c train.Config) string {
	base, err := train.Preset(c.Preset)
	args := []string{"sharpflat"}
	if err == nil {
		args = append(args, "--preset", c.Preset)
	} else {
		base, _ = train.Preset("demo")
	}
	alpha := c.Alpha()
	if !math.IsNaN(alpha) {
		args = append(args, "--alpha", strconv.FormatFloat(alpha, 'g', -1, 64))
	}
	always := map[string]bool{"seed": true, "lr": true}
	for _, f := range train.Fields() {
		v := f.Get(&c)
		if (f.Name == "w-dom" || f.Name == "w-bulk") && !math.IsNaN(alpha) {
			continue
		}
		if always[f.Name] || v != f.Get(&base) {
			args = append(args, "--"+f.Name, shareQuote(v))
		}
	}
	return strings.Join(args, " ")
}

// share makes the command of the setup in force, shows it, and copies it.
func (m Model) share() (tea.Model, tea.Cmd) {
	if !m.have {
		return m.setStatus("waiting for the engine…", false)
	}
	if r := m.snap.Race; r != nil && len(r.Arms) > 0 {
		return m.shareLine(raceShareCommand(r), "this race")
	}
	return m.shareConfig(m.base(), "this setup")
}

// shareConfig shows and copies the command line of c (what names it in the status).
func (m Model) shareConfig(c train.Config, what string) (tea.Model, tea.Cmd) {
	return m.shareLine(ShareCommand(c), what)
}

// shareLine shows a command line and copies it where the terminal allows.
func (m Model) shareLine(line, what string) (tea.Model, tea.Cmd) {
	m.shared = line
	how := "shown below"
	var copyCmd tea.Cmd
	if w := m.opts.Clipboard; w != nil {
		how = "copied to your clipboard where the terminal allows (OSC 52)"
		seq := osc52.New(m.shared).String()
		copyCmd = func() tea.Msg {
			_, _ = fmt.Fprint(w, seq)
			return nil
		}
	}
	m2, cmd := m.setStatus(what+" as a command, "+how+" (any key hides it)", false)
	return m2, tea.Batch(cmd, copyCmd)
}

// raceShareCommand is the command line that races r's arms again: the lab on the settings
// the race forked from (RaceView.Base), trained to the fork, then the arms (`--race
// dom,sgd,bulk --race-at S`). It replays the race when those settings held from step 0; a
// setting changed before the fork is not in a command line.
func raceShareCommand(r *lab.RaceView) string {
	specs := make([]lab.ArmSpec, len(r.Arms))
	for i, a := range r.Arms {
		specs[i] = a.Spec
	}
	return ShareCommand(r.Base) + " --race " + shareQuote(lab.FormatRace(specs)) + " --race-at " + strconv.Itoa(r.At)
}

// shareQuote quotes a value for the shared command line. A value with no control character
// is quoted as the cluster scripts quote (train.ShellQuote); one with any is written in
// bash's ANSI-C quoting, $'…', with every byte outside printable ASCII, the quote and the
// backslash as \xNN: the line stays one line of printable text (shown on a terminal it
// executes nothing; pasted into a shell it is one command) and still carries every byte.
func shareQuote(v string) string {
	if safetext.Safe(v) {
		return train.ShellQuote(v)
	}
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x20 || c >= 0x7f || c == '\'' || c == '\\' {
			fmt.Fprintf(&b, `\x%02x`, c)
			continue
		}
		b.WriteByte(c)
	}
	b.WriteByte('\'')
	return b.String()
}
