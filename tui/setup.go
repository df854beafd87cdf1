package tui

// The setup panel (S): everything a preset fixes (the data, the network, the optimizer),
// edited with the keyboard over the charts and applied as a fresh run, as TensorFlow
// Playground changes its setup with a click. The form edits a draft Config through train's
// field table (Field.Get and Field.Set, the parsers of the command-line flags), so what the
// panel makes is what the same flags make, and y shares it as that command.

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"unicode"

	tea "github.com/charmbracelet/bubbletea"

	"sharpflat/lab/train"
)

// rowKind is how a row of the panel changes its setting.
type rowKind int

const (
	rowChoice   rowKind = iota // ←/→ cycle through choices
	rowLadder                  // ←/→ walk a ladder of values; typing a value sets any other
	rowWidths                  // ←/→ remove and add a hidden layer; typing "32-16" sets them all
	rowFeatures                // ←/→ move between the features; space turns one on or off
	rowPreset                  // ←/→ replace the draft by another preset's settings
)

// setupRow is one line of the panel: a setting of train.Config by its flag name.
type setupRow struct {
	field string // the flag name (train.FieldByName); "preset" for the preset row
	label string
	kind  rowKind
	group string // the heading the row starts, if any
}

// setupRows are the panel's lines, in order.
var setupRows = []setupRow{
	{field: "preset", label: "start from", kind: rowPreset},
	{field: "data", label: "data set", kind: rowChoice, group: "data"},
	{field: "noise", label: "noise σ", kind: rowLadder},
	{field: "n", label: "examples", kind: rowLadder},
	{field: "test-frac", label: "test share", kind: rowLadder},
	{field: "features", label: "features", kind: rowFeatures},
	{field: "hidden", label: "hidden", kind: rowWidths, group: "network"},
	{field: "act", label: "activation", kind: rowChoice},
	{field: "loss", label: "loss", kind: rowChoice},
	{field: "batch", label: "batch", kind: rowLadder, group: "training"},
	{field: "lr", label: "η", kind: rowLadder},
	{field: "momentum", label: "momentum β", kind: rowLadder},
	{field: "weight-decay", label: "weight decay", kind: rowLadder},
	{field: "seed", label: "seed", kind: rowLadder},
	{field: "k", label: "subspace k", kind: rowLadder},
	{field: "hessian-set", label: "Hessian set", kind: rowLadder},
}

// choices are the values a choice row cycles through.
func choices(field string) []string {
	switch field {
	case "data":
		return train.DataSets()
	case "act":
		return []string{"tanh", "relu", "gelu", "softplus", "identity"}
	case "loss":
		return []string{"ce", "mse"}
	}
	return nil
}

// ladder is the values ←/→ walk for a ladder row; a value off the ladder moves to the next
// rung in the direction asked. Seeds and η move by a step rather than along a list.
func ladder(field string) []float64 {
	switch field {
	case "noise":
		return []float64{0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1}
	case "n":
		return []float64{50, 100, 200, 300, 400, 500, 600, 800, 1000, 1500, 2000, 3000, 5000, 10000}
	case "test-frac":
		return []float64{0, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5}
	case "batch":
		return []float64{0, 8, 16, 32, 64, 128, 256, 512}
	case "momentum":
		return []float64{0, 0.5, 0.8, 0.9, 0.95, 0.99}
	case "weight-decay":
		return []float64{0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1}
	case "k":
		return []float64{1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 30, 40}
	case "hessian-set":
		return []float64{0, 128, 256, 512, 1000, 1024, 2048, 4096, 5000}
	}
	return nil
}

// setupForm is the panel's state: the draft and where the cursor is.
type setupForm struct {
	open    bool
	draft   train.Config
	row     int
	feature int    // the feature under the cursor on the features row
	text    []rune // a value being typed (nil: none)
	err     string // why the last edit or apply was refused
	confirm bool   // enter was pressed once on a run that was not written: enter again replaces it
	// need and refused are check's answer for the draft of generation checked; gen counts
	// the draft's changes. The check runs off the screen's loop, one at a time (a CSV file's
	// estimate reads the whole file), and again when the draft changed meanwhile.
	need     train.Footprint
	refused  error
	gen      int
	checked  int
	checking bool
	serial   int // which opening of the panel this is (a check of an earlier one is dropped)
}

// setupCheckedMsg is check's answer for generation gen of the draft of the panel opened
// serial-th.
type setupCheckedMsg struct {
	serial, gen int
	need        train.Footprint
	refused     error
}

// checkCmd checks the draft as it is now off the screen's loop.
func (f setupForm) checkCmd() tea.Cmd {
	serial, gen, c := f.serial, f.gen, f.draft
	return func() tea.Msg {
		need, err := (setupForm{draft: c}).check()
		return setupCheckedMsg{serial: serial, gen: gen, need: need, refused: err}
	}
}

// current says whether the estimate shown is of the draft as it is.
func (f *setupForm) current() bool { return f.checked == f.gen }

// maxSetupRunes bounds a typed value.
const maxSetupRunes = 40

// setupAction is what a key in the panel asks of the session.
type setupAction int

const (
	setupNone  setupAction = iota
	setupClose             // esc: the panel closes, the draft is dropped
	setupApply             // enter: the draft becomes a fresh run
	setupShare             // y: the draft as a command line
)

// newSetupForm opens the panel on c, the settings in force.
func newSetupForm(c train.Config) setupForm {
	c.Hidden = slices.Clone(c.Hidden)
	return setupForm{open: true, draft: c, row: 1, gen: 1}
}

// key handles one key of the panel.
func (f setupForm) key(k tea.KeyMsg) (setupForm, setupAction) {
	if f.text != nil {
		return f.typing(k), setupNone
	}
	r := setupRows[f.row]
	if k.Type != tea.KeyEnter {
		f.confirm = false
	}
	switch k.String() {
	case "esc":
		return f, setupClose
	case "enter":
		return f, setupApply
	case "y":
		return f, setupShare
	case "up":
		f.row, f.err = max(0, f.row-1), ""
	case "down", "tab":
		f.row, f.err = min(len(setupRows)-1, f.row+1), ""
	case "left", "right":
		f.err = ""
		f = f.change(r, k.String() == "right")
	case " ":
		if r.kind == rowFeatures {
			f = f.toggleFeature()
		}
	default:
		if k.Type == tea.KeyRunes && len(k.Runes) == 1 && typable(r.kind) && startsValue(k.Runes[0]) {
			f.text, f.err = []rune{k.Runes[0]}, ""
		}
	}
	return f, setupNone
}

// typable says whether a row takes a typed value.
func typable(k rowKind) bool { return k == rowLadder || k == rowWidths }

// startsValue says whether r begins a typed value: a digit or a point (a number, widths),
// or the first letter of "none" (no hidden layer) or "default" (the data set's noise).
func startsValue(r rune) bool { return unicode.IsDigit(r) || r == '.' || r == 'n' || r == 'd' }

// typing edits a value being typed: enter sets it through the field's parser, esc drops it.
func (f setupForm) typing(k tea.KeyMsg) setupForm {
	switch k.Type {
	case tea.KeyEsc:
		f.text, f.err = nil, ""
	case tea.KeyEnter:
		name := setupRows[f.row].field
		if err := train.SetField(&f.draft, name, string(f.text)); err != nil {
			f.err = fmt.Sprintf("%s: %v", name, err)
			return f
		}
		f.text, f.err = nil, ""
	case tea.KeyBackspace:
		if len(f.text) > 0 {
			f.text = f.text[:len(f.text)-1]
		}
	case tea.KeyRunes:
		for _, r := range k.Runes {
			if r < unicode.MaxASCII && unicode.IsPrint(r) && len(f.text) < maxSetupRunes {
				f.text = append(f.text, r)
			}
		}
	}
	return f
}

// change moves row r's setting one notch down (up: false) or up.
func (f setupForm) change(r setupRow, up bool) setupForm {
	step := 1
	if !up {
		step = -1
	}
	switch r.kind {
	case rowPreset:
		names := train.Presets()
		i := (slices.Index(names, f.draft.Preset) + step + len(names)) % len(names)
		if c, err := train.Preset(names[i]); err == nil {
			f.draft = c
		}
	case rowChoice:
		cs := choices(r.field)
		fd, _ := train.FieldByName(r.field)
		i := (slices.Index(cs, fd.Get(&f.draft)) + step + len(cs)) % len(cs)
		f.set(r.field, cs[i])
		if r.field == "data" {
			// A preset's Hessian set is sized for its data (mnist's 1024 of 1500): another data
			// set takes the default, all of its training set up to 2048.
			f.draft.HessianSet = 0
		}
	case rowFeatures:
		n := len(train.AllFeatures())
		f.feature = (f.feature + step + n) % n
	case rowWidths:
		h := f.draft.Hidden
		switch {
		case up && len(h) > 0:
			f.draft.Hidden = append(slices.Clone(h), h[len(h)-1])
		case up:
			f.draft.Hidden = []int{8}
		case len(h) > 0:
			f.draft.Hidden = slices.Clone(h[:len(h)-1])
		}
		if len(f.draft.Hidden) == 0 {
			f.draft.Hidden = nil // as the flag's "none" reads
		}
	case rowLadder:
		f = f.walk(r.field, up)
	}
	return f
}

// walk moves a ladder row's value to the next rung above or below it.
func (f setupForm) walk(field string, up bool) setupForm {
	fd, _ := train.FieldByName(field)
	switch field {
	case "lr": // η × or ÷ 1.25, as the lab's −/+ keys
		lr := f.draft.LR
		if up {
			lr *= 1.25
		} else {
			lr /= 1.25
		}
		f.set(field, strconv.FormatFloat(lr, 'g', 4, 64))
		return f
	case "seed":
		s := f.draft.Seed
		if up {
			s++
		} else if s > 1 {
			s--
		}
		f.set(field, strconv.FormatUint(s, 10))
		return f
	}
	x := fd.Number(&f.draft)
	if field == "noise" { // from the σ in force: the data set's own while it is the default
		sigma, set := f.draft.Noise.Sigma()
		if !set {
			d, ok := train.DefaultNoise(f.draft.Data)
			if !ok {
				f.err = f.draft.Data + " is not generated: it has no noise to set"
				return f
			}
			sigma = d
		}
		x = sigma
	}
	f.set(field, strconv.FormatFloat(nextRung(ladder(field), x, up), 'g', -1, 64))
	return f
}

// nextRung is the first rung of l above x (up) or below it, or x's end of the ladder.
func nextRung(l []float64, x float64, up bool) float64 {
	if up {
		for _, v := range l {
			if v > x*(1+1e-9) {
				return v
			}
		}
		return l[len(l)-1]
	}
	for i := len(l) - 1; i >= 0; i-- {
		if l[i] < x*(1-1e-9) {
			return l[i]
		}
	}
	return l[0]
}

// set sets a field of the draft from its text; the panel's own values always parse, so an
// error is a bug in the panel and is shown as one.
func (f *setupForm) set(field, v string) {
	if err := train.SetField(&f.draft, field, v); err != nil {
		f.err = fmt.Sprintf("%s: %v", field, err)
	}
}

// toggleFeature turns the feature under the cursor on or off (the last one stays on).
func (f setupForm) toggleFeature() setupForm {
	all := train.AllFeatures()
	ft := all[f.feature]
	s := f.draft.Features.With(ft, !f.draft.Features.Has(ft))
	if len(s.List()) == 0 {
		f.err = "at least one feature: the network needs an input"
		return f
	}
	f.draft.Features = s
	return f
}

// check says what keeps the draft from becoming a run, with its memory estimate: the same
// checks train.New makes, before anything is built.
func (f setupForm) check() (train.Footprint, error) {
	c := f.draft
	if err := c.Validate(); err != nil {
		return train.Footprint{}, err
	}
	fp, err := train.ConfigFootprint(&c)
	if err != nil {
		return fp, err
	}
	return fp, fp.Check("this setup", train.MemoryLimit())
}

// ladderWords says a ladder value the way the panel shows it.
func ladderWords(field string, c *train.Config) string {
	fd, _ := train.FieldByName(field)
	switch field {
	case "noise":
		if _, set := c.Noise.Sigma(); !set {
			if d, ok := train.DefaultNoise(c.Data); ok {
				return fmt.Sprintf("default (%s)", strconv.FormatFloat(d, 'g', -1, 64))
			}
			return "none (fixed data)"
		}
	case "batch":
		if c.Batch == 0 {
			return "full batch"
		}
	case "weight-decay":
		if c.WeightDecay == 0 {
			return "off"
		}
	case "lr":
		return num(c.LR, 4)
	case "hessian-set":
		if c.HessianSet == 0 {
			return fmt.Sprintf("all training examples up to %d", train.DefaultHessianSet)
		}
	}
	if x := fd.Number(c); !math.IsNaN(x) && !slices.Contains([]string{"seed", "n", "batch", "k", "hessian-set"}, field) {
		return strconv.FormatFloat(x, 'g', 4, 64)
	}
	return fd.Get(c)
}

// openSetup opens the panel on the settings in force.
func (m Model) openSetup() (tea.Model, tea.Cmd) {
	serial := m.setup.serial + 1
	m.setup = newSetupForm(m.base())
	m.setup.serial, m.setup.checking = serial, true
	m.page = pageNone
	m.status = ""
	return m, m.setup.checkCmd()
}

// setupChecked takes a check's answer, and checks the draft again if it changed meanwhile.
func (m Model) setupChecked(msg setupCheckedMsg) (tea.Model, tea.Cmd) {
	f := &m.setup
	if !f.open || f.serial != msg.serial {
		return m, nil
	}
	f.need, f.refused, f.checked, f.checking = msg.need, msg.refused, msg.gen, false
	if f.gen != msg.gen {
		f.checking = true
		return m, f.checkCmd()
	}
	return m, nil
}

// setupKey handles a key while the panel is open.
func (m Model) setupKey(k tea.KeyMsg) (tea.Model, tea.Cmd) {
	f, act := m.setup.key(k)
	var check tea.Cmd
	if !reflect.DeepEqual(f.draft, m.setup.draft) {
		f.gen++
		if !f.checking { // else setupChecked starts the next when the one running ends
			f.checking = true
			check = f.checkCmd()
		}
	}
	m.setup = f
	switch act {
	case setupClose:
		m.setup = setupForm{serial: m.setup.serial}
		return m.setStatus("setup closed: nothing changed", false)
	case setupShare:
		return m.shareConfig(m.setup.draft, "this setup (not started yet)")
	case setupApply:
		if m.stopped {
			m.setup.err = "the engine has stopped: q quits"
			return m, nil
		}
		if !m.setup.current() {
			m.setup.err = "still estimating what this setup needs: enter again in a moment"
			return m, nil
		}
		if err := m.setup.refused; err != nil {
			m.setup.err = "refused: " + err.Error()
			return m, nil
		}
		if m.unsaved() && !m.setup.confirm {
			m.setup.confirm = true
			return m, nil
		}
		c := m.setup.draft
		m.setup = setupForm{serial: m.setup.serial}
		m.e.Setup(c)
		m.want = intent{} // the fresh run brings its own settings
		return m.setStatus("a fresh run: "+setupSummary(&c)+" · y shares it as a command", false)
	}
	return m, check
}

// setupSummary words a setup in one line ("spirals (noise 0.2), 32-32 relu, ce, η 0.1").
func setupSummary(c *train.Config) string {
	data := c.Data
	if sigma, set := c.Noise.Sigma(); set {
		data += fmt.Sprintf(" (noise %s)", strconv.FormatFloat(sigma, 'g', -1, 64))
	}
	return fmt.Sprintf("%s, hidden %s %s, %s, η %s", data, train.JoinWidths(c.Hidden), c.Act, c.Loss, num(c.LR, 4))
}

// EditSetup types keys into a setup panel opened on c and returns its draft, the Config
// that enter would start, or why the panel refuses it: the panel without a screen, for
// scripts and for the check that the panel and the command-line flags make the same Config.
func EditSetup(c train.Config, keys []tea.KeyMsg) (train.Config, error) {
	f := newSetupForm(c)
	for _, k := range keys {
		f, _ = f.key(k)
		if f.err != "" {
			return f.draft, errors.New(f.err)
		}
	}
	_, err := f.check()
	return f.draft, err
}
