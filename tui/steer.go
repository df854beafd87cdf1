package tui

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"sharpflat/lab"
	"sharpflat/lab/train"
)

// intent is the settings a key asked for. Snapshots arrive up to 50 ms late and a command
// takes effect at the next step boundary, so a key pressed twice in quick succession must
// start from what the first press asked for, not from the snapshot still in flight. The
// request is trusted until a snapshot echoes its sequence number (lab.Snapshot.Seq: the
// engine has applied it, and every setting the snapshot shows comes after it), however long
// that takes: a busy machine makes it late, never wrong.
type intent struct {
	seq uint64 // the engine's Seq once the request was queued (0: no request)
	cfg train.Config
}

// base returns the settings a relative change (α ± 0.05, η × 1.25, ...) starts from.
func (m *Model) base() train.Config {
	if m.want.seq > m.snap.Seq {
		return m.want.cfg
	}
	return m.snap.Config
}

// asked records c as the settings just requested, after their commands were queued.
func (m *Model) asked(c train.Config) { m.want = intent{seq: m.e.Seq(), cfg: c} }

// refreshLadder is the sequence t and T walk: shorter to longer refresh periods, then
// manual only (0).
func refreshLadder() []int { return []int{1, 2, 5, 10, 20, 50, 100, 200, 500, 0} }

// sliderAlpha is the slider position of any weights: α of Weights on its path, and off it
// the point of the path with the same w_bulk − w_dom.
func sliderAlpha(c *train.Config) float64 {
	if a := c.Alpha(); !math.IsNaN(a) {
		return a
	}
	return math.Max(0, math.Min(1, 0.5+(c.WBulk-c.WDom)/2))
}

// handleKey maps a key to an engine command. Every key is answered in the frame it arrives:
// the status line says what it asked for (the engine applies it at its next step boundary,
// and the charts follow with the next snapshot).
func (m Model) handleKey(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	km := m.c.KeyMap
	hidden := m.shared != "" && !key.Matches(k, km.Share)
	if hidden {
		m.shared = "" // any other key hides a shared command
	}
	if m.confirmQuit {
		m.confirmQuit = false
		if key.Matches(k, km.Quit) {
			m.sub.Cancel()
			return m, tea.Quit
		}
		return m.setStatus("quit cancelled", false)
	}
	if m.list.kind != listNone && k.Type != tea.KeyCtrlC {
		return m.listKey(k)
	}
	if m.chooser.open && k.Type != tea.KeyCtrlC {
		return m.chooserKey(k)
	}
	if m.setup.open && k.Type != tea.KeyCtrlC {
		return m.setupKey(k)
	}
	switch {
	case k.Type == tea.KeyCtrlC:
		m.sub.Cancel()
		return m, tea.Quit
	case key.Matches(k, km.Picture):
		m.picture = !m.picture
		m.pic.neurons = false
		m.sub.WantPicture(m.picture)
		m.syncPictureKeys()
		if m.picture {
			return m.setStatus(m.pictureWords(), false)
		}
		return m.setStatus("picture off", false)
	case key.Matches(k, km.Share):
		return m.share()
	case key.Matches(k, km.Compare) && !m.opts.ReadOnly:
		return m.openRuns()
	case key.Matches(k, km.Quit):
		if m.unsaved() {
			m.confirmQuit = true
			m.statusID++ // no timeout: the question stays until it is answered
			m.status, m.statusErr = "quit without writing this run? q again quits · w writes it first · any other key cancels", true
			return m, nil
		}
		m.sub.Cancel()
		return m, tea.Quit
	case key.Matches(k, km.Help):
		m.page = (m.page + 1) % numPages
		m.glossaryTop = 0
		return m, nil
	case key.Matches(k, km.Captions):
		m.captions = !m.captions
		if m.captions {
			return m.setStatus("captions on: a line under each chart says how to read it (i hides them)", false)
		}
		return m.setStatus("captions off", false)
	case m.page == pageGlossary && key.Matches(k, km.ScrollUp, km.ScrollDown, km.Close):
		switch {
		case key.Matches(k, km.Close):
			m.page = pageNone
		case key.Matches(k, km.ScrollUp):
			m.glossaryTop = max(0, m.glossaryTop-1)
		default:
			m.glossaryTop++
		}
		return m, nil
	case key.Matches(k, km.Close) && (m.page != pageNone || !km.RaceEnd.Enabled() || m.opts.ReadOnly || hidden):
		m.page = pageNone // on the charts of a race, with nothing else to close, esc ends the race (below)
		return m, nil
	case m.snap.Lesson != nil && key.Matches(k, km.TextUp, km.TextDown): // reading is not steering
		return m.scrollText(key.Matches(k, km.TextDown)), nil
	case !key.Matches(k, km.steering()...):
		return m, nil
	case m.opts.ReadOnly:
		return m.setStatus("read-only session: steering keys are disabled", true)
	case m.stopped:
		return m.setStatus("the engine has stopped: q quits", true)
	case !m.have:
		return m.setStatus("waiting for the engine…", false)
	case key.Matches(k, km.Lessons):
		return m.openLessons()
	case key.Matches(k, km.Setup):
		return m.openSetup()
	}
	if mm, cmd, ok := m.lessonKey(k); ok {
		return mm, cmd
	}
	if mm, cmd, ok := m.raceKey(k); ok {
		return mm, cmd
	}

	e, c, st := m.e, m.base(), m.snap.Run
	diverged := func() (Model, tea.Cmd) {
		return m.setStatus("diverged: u rolls back to the last checkpoint, r resets", true)
	}
	var ack string
	switch {
	case key.Matches(k, km.Pause):
		if st == lab.Diverged {
			return diverged()
		}
		e.TogglePause()
		ack = "resuming"
		if st == lab.Running {
			ack = "pausing"
		}
	case key.Matches(k, km.Step):
		if st == lab.Diverged {
			return diverged()
		}
		if st == lab.Running {
			e.Pause()
		}
		e.StepN(1)
		ack = "one step, then paused"
	case key.Matches(k, km.AlphaDown, km.AlphaUp, km.Dom, km.SGD, km.Bulk):
		a := sliderAlpha(&c)
		switch {
		case key.Matches(k, km.AlphaDown):
			a = math.Round(a*20-1) / 20
		case key.Matches(k, km.AlphaUp):
			a = math.Round(a*20+1) / 20
		case key.Matches(k, km.Dom):
			a = 0
		case key.Matches(k, km.SGD):
			a = 0.5
		default:
			a = 1
		}
		a = math.Max(0, math.Min(1, a))
		wDom, wBulk := train.Weights(a)
		c.SetRule(train.Blend{Dom: wDom, Bulk: wBulk}) // replaces a rule that is not a blend
		e.SetAlpha(a)
		ack = fmt.Sprintf("α %s: %s (w_dom %s, w_bulk %s)", num(a, 2), regime(&c), num(c.WDom, 3), num(c.WBulk, 3))
	case key.Matches(k, km.Damped):
		if c.Optimizer == train.Adam {
			return m.setStatus("Dom-damped slows directions by the edge 2/η, which Adam does not have: switch to SGD", true)
		}
		r := train.DomDamped{C: 1}
		c.SetRule(r)
		e.SetRule(r)
		ack = fmt.Sprintf("%s: slows only the directions above the edge %s %s", r.Name(), edgeName(&c), num(c.StabilityThreshold(), 4))
	case key.Matches(k, km.LRDown, km.LRUp):
		if key.Matches(k, km.LRDown) {
			c.LR /= 1.25
		} else {
			c.LR *= 1.25
		}
		e.SetLR(c.LR)
		ack = fmt.Sprintf("η %s: the edge %s is now %s", num(c.LR, 4), edgeName(&c), num(c.StabilityThreshold(), 4))
	case key.Matches(k, km.KDown, km.KUp):
		if key.Matches(k, km.KDown) {
			c.K = max(1, c.K-1)
		} else {
			c.K = max(1, min(c.K+1, lab.MaxK, m.snap.P-1))
		}
		if c.K != m.base().K { // a held K at the top must not restart the refresh again and again
			e.SetK(c.K)
		}
		ack = fmt.Sprintf("k %d: recomputing the top %d directions", c.K, c.K)
		if key.Matches(k, km.KUp) && c.K == lab.MaxK {
			ack = fmt.Sprintf("k %d: the lab's largest (the eigensolver's cost grows as k³)", c.K)
		}
	case key.Matches(k, km.RefreshDn, km.RefreshUp):
		ladder := refreshLadder()
		i := slices.Index(ladder, c.RefreshEvery)
		if i < 0 { // a period off the ladder: the first rung above it
			i = slices.IndexFunc(ladder, func(t int) bool { return t == 0 || t > c.RefreshEvery })
			if key.Matches(k, km.RefreshUp) {
				i--
			}
		}
		if key.Matches(k, km.RefreshDn) {
			i = max(0, i-1)
		} else {
			i = min(len(ladder)-1, i+1)
		}
		c.RefreshEvery = ladder[i]
		e.SetRefresh(c.RefreshEvery)
		ack = "T " + refreshWords(c.RefreshEvery)
	case key.Matches(k, km.Recompute):
		e.Recompute()
		m.asked(c)
		return m.setStatus("recomputing the eigenspace…", false)
	case key.Matches(k, km.Momentum):
		if c.Momentum > 0 {
			c.Momentum = 0
		} else {
			c.Momentum = 0.9
		}
		e.SetMomentum(c.Momentum)
		ack = fmt.Sprintf("momentum β %s: the edge %s is %s", num(c.Momentum, 2), edgeName(&c), num(c.StabilityThreshold(), 4))
	case key.Matches(k, km.Checkpoint):
		e.Checkpoint()
		ack = fmt.Sprintf("checkpoint at step %d: u comes back here", m.snap.Step)
	case key.Matches(k, km.Rollback):
		e.Rollback()
		m.asked(c)
		if m.snap.RollbackTo < 0 {
			return m.setStatus("no checkpoint to roll back to (c makes one)", true)
		}
		return m.setStatus(fmt.Sprintf("rolling back to %s at step %d (paused there); the settings stay: change them, then space",
			train.CheckpointName(m.snap.RollbackWhy), m.snap.RollbackTo), false)
	case key.Matches(k, km.Reset):
		e.Reset(0)
		ack = fmt.Sprintf("reset: a fresh start with seed %d", c.Seed)
	case key.Matches(k, km.Preset):
		names := train.Presets()
		next := names[(slices.Index(names, m.snap.Config.Preset)+1)%len(names)]
		e.LoadPreset(next)
		m.want = intent{} // the preset brings its own settings
		return m.setStatus("loading preset "+next+"…", false)
	case key.Matches(k, km.Write):
		m2, cmd := m.setStatus("writing the run…", false)
		return m2, tea.Batch(cmd, saveRunCmd(e, m.opts.RunDir, m.snap.Config.Preset))
	}
	m.asked(c)
	return m.setStatus(ack, false)
}

// unsaved reports whether quitting would lose steps the user could still write with w.
func (m Model) unsaved() bool {
	return !m.opts.NoConfirm && !m.opts.NoWrite && !m.opts.ReadOnly && m.have && !m.stopped &&
		m.snap.Step > 0 && m.snap.Step > m.savedStep
}

// edgeName is the stability threshold's formula under c.
func edgeName(c *train.Config) string {
	switch {
	case c.Optimizer == train.Adam:
		return "(none for Adam)"
	case c.Momentum > 0:
		return "(2+2β)/η"
	}
	return "2/η"
}

// refreshWords says what a refresh period T means.
func refreshWords(t int) string {
	switch t {
	case 0:
		return "manual: the eigenspace is recomputed only when you press e"
	case 1:
		return "1: the eigenspace is recomputed every step"
	}
	return fmt.Sprintf("%d: the eigenspace is recomputed every %d steps", t, t)
}

// raceWritten lists the arms' directories of a race SaveRun wrote at dir (nil for a run: dir
// holds its config.json itself).
func raceWritten(dir string) []string {
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err == nil {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var arms []string
	for _, d := range entries {
		if d.IsDir() {
			arms = append(arms, d.Name())
		}
	}
	return arms
}

// savedMsg says that w wrote the run up to step.
type savedMsg struct {
	text string
	step int
}

// saveRunCmd writes the run so far under base as <preset>-<time> (with -2, -3, ... if that
// exists) and reports the path.
func saveRunCmd(e *lab.Engine, base, preset string) tea.Cmd {
	return func() tea.Msg {
		name := fmt.Sprintf("%s-%s", preset, time.Now().Format("20060102-150405"))
		dir := filepath.Join(base, name)
		for i := 2; ; i++ {
			if _, err := os.Stat(dir); os.IsNotExist(err) {
				break
			}
			dir = filepath.Join(base, fmt.Sprintf("%s-%d", name, i))
		}
		step := -1
		e.Do(func(t *train.Trainer) { step = t.StepCount() })
		if err := e.SaveRun(dir); err != nil {
			return statusMsg{text: "writing the run failed: " + err.Error(), err: true}
		}
		if arms := raceWritten(dir); arms != nil { // a race: a run directory for each arm
			return savedMsg{text: fmt.Sprintf("race written to %s: one run per arm (%s)", dir, strings.Join(arms, ", ")), step: step}
		}
		return savedMsg{text: "run written to " + dir, step: step}
	}
}
