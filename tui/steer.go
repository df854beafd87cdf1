package tui

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"sharpflat/lab"
	"sharpflat/lab/train"
)

// intent is the settings a key asked for. Snapshots arrive up to 50 ms late and a command
// takes effect at the next step boundary, so a key pressed twice in quick succession must
// start from what the first press asked for, not from the snapshot still in flight.
type intent struct {
	at  time.Time
	cfg train.Config
}

// intentTTL is how long a request is trusted over the snapshots' settings.
const intentTTL = time.Second

// base returns the settings a relative change (α ± 0.05, η × 1.25, ...) starts from.
func (m *Model) base() train.Config {
	if !m.want.at.IsZero() && time.Since(m.want.at) < intentTTL {
		return m.want.cfg
	}
	return m.snap.Config
}

func (m *Model) asked(c train.Config) { m.want = intent{at: time.Now(), cfg: c} }

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

// handleKey maps a key to an engine command.
func (m Model) handleKey(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	km := m.c.KeyMap
	switch {
	case key.Matches(k, km.Quit):
		m.sub.Cancel()
		return m, tea.Quit
	case key.Matches(k, km.Help):
		m.help.ShowAll = !m.help.ShowAll
		return m, nil
	case !key.Matches(k, km.steering()...):
		return m, nil
	case m.opts.ReadOnly:
		return m.setStatus("read-only session: steering keys are disabled", true)
	case m.stopped:
		return m.setStatus("the engine has stopped: q quits", true)
	case !m.have:
		return m.setStatus("waiting for the engine…", false)
	}

	e, c, st := m.e, m.base(), m.snap.Run
	diverged := func() (Model, tea.Cmd) {
		return m.setStatus("diverged: u rolls back to the last checkpoint, r resets", true)
	}
	switch {
	case key.Matches(k, km.Pause):
		if st == lab.Diverged {
			return diverged()
		}
		e.TogglePause()
	case key.Matches(k, km.Step):
		if st == lab.Diverged {
			return diverged()
		}
		if st == lab.Running {
			e.Pause()
		}
		e.StepN(1)
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
		c.WDom, c.WBulk = train.Weights(a)
		e.SetAlpha(a)
	case key.Matches(k, km.LRDown):
		c.LR /= 1.25
		e.SetLR(c.LR)
	case key.Matches(k, km.LRUp):
		c.LR *= 1.25
		e.SetLR(c.LR)
	case key.Matches(k, km.KDown, km.KUp):
		if key.Matches(k, km.KDown) {
			c.K = max(1, c.K-1)
		} else {
			c.K = min(c.K+1, 1000, max(1, m.snap.P))
		}
		e.SetK(c.K)
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
	case key.Matches(k, km.Checkpoint):
		e.Checkpoint()
	case key.Matches(k, km.Rollback):
		e.Rollback()
		m.asked(c)
		return m.setStatus("rolling back (paused there); the settings stay: change them, then space", false)
	case key.Matches(k, km.Reset):
		e.Reset(0)
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
	return m, nil
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
		if err := e.SaveRun(dir); err != nil {
			return statusMsg{text: "writing the run failed: " + err.Error(), err: true}
		}
		return statusMsg{text: "run written to " + dir}
	}
}
