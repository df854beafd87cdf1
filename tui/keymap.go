package tui

import (
	"slices"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
)

// KeyMap is every key of the lab. A pair of keys (←/→, −/+) is two bindings of which only the
// first carries the help text, so the help shows one line for the pair and stays the truth.
type KeyMap struct {
	Pause       key.Binding
	Step        key.Binding
	AlphaDown   key.Binding // toward Dom
	AlphaUp     key.Binding // toward Bulk
	Dom         key.Binding
	SGD         key.Binding
	Bulk        key.Binding
	Damped      key.Binding // D: Dom-damped (slows only the directions above the edge)
	LRDown      key.Binding
	LRUp        key.Binding
	KDown       key.Binding
	KUp         key.Binding
	RefreshDn   key.Binding // refresh more often (smaller T)
	RefreshUp   key.Binding // less often (larger T, then manual only)
	Recompute   key.Binding
	Momentum    key.Binding
	Checkpoint  key.Binding
	Rollback    key.Binding
	Reset       key.Binding
	Preset      key.Binding
	Setup       key.Binding // S: the setup panel (data, network, optimizer) for a fresh run
	Write       key.Binding
	LessonBack  key.Binding // lesson mode: the previous step (← takes it from α)
	LessonNext  key.Binding
	Lessons     key.Binding // the list of lessons
	Picture     key.Binding // what the network learned: decision regions or a projection
	TestPoints  key.Binding // x while the picture shows: the test points over the training points (t is the refresh period)
	Neurons     key.Binding // V: what each neuron computes (pictureState.key)
	NeuronsBack key.Binding // ← while the neurons show: the previous page of a wide layer (α's otherwise)
	NeuronsNext key.Binding
	Density     key.Binding // s: the spectrum panel shows the top-k bars or the density of H
	Compare     key.Binding // saved runs beside the live one
	Share       key.Binding // a command line that reproduces the setup
	Select      key.Binding // enter in a list
	Captions    key.Binding
	Help        key.Binding
	Quit        key.Binding
	ScrollUp    key.Binding // the glossary page
	ScrollDown  key.Binding
	TextUp      key.Binding // lesson mode: scroll a lesson's text that does not fit (also read-only)
	TextDown    key.Binding
	Close       key.Binding // esc: back to the charts
	Race        key.Binding // f: a race from here (Dom-SGD, SGD, Bulk-SGD or the chooser's), f again ends it
	RaceEnd     key.Binding // esc in a race (on the charts): ends it, keeping the focused arm
	RaceFocus   key.Binding // tab in a race: the next arm has the focus
	RaceAll     key.Binding // A in a race: keys act on every arm, or on the focused one
	RaceChoose  key.Binding // F: choose a race's arms

	// ReadOnly hides the steering keys from the help (they are refused with a message).
	ReadOnly bool
}

// DefaultKeyMap returns the lab's keys.
func DefaultKeyMap() *KeyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	quiet := func(keys ...string) key.Binding { return key.NewBinding(key.WithKeys(keys...)) }
	disabled := func(b key.Binding) key.Binding { b.SetEnabled(false); return b }
	return &KeyMap{
		Pause:       b([]string{" "}, "space", "pause/resume"),
		Step:        b([]string{"n"}, "n", "one step (pauses)"),
		AlphaDown:   b([]string{"left", "["}, "←/→", "α −/+ 0.05"),
		AlphaUp:     quiet("right", "]"),
		Dom:         b([]string{"d"}, "d/g/b/D", "Dom/SGD/Bulk/Damped"),
		SGD:         quiet("g"),
		Bulk:        quiet("b"),
		Damped:      quiet("D"),
		LRDown:      b([]string{"-", "_"}, "-/+", "η ÷/× 1.25"),
		LRUp:        quiet("+", "="),
		KDown:       b([]string{"k"}, "k/K", "subspace k −/+ 1"),
		KUp:         quiet("K"),
		RefreshDn:   b([]string{"t"}, "t/T", "refresh more/less often"),
		RefreshUp:   quiet("T"),
		Recompute:   b([]string{"e"}, "e", "recompute eigenspace"),
		Momentum:    b([]string{"m"}, "m", "momentum 0 ↔ 0.9"),
		Checkpoint:  b([]string{"c"}, "c", "checkpoint"),
		Rollback:    b([]string{"u"}, "u", "roll back"),
		Reset:       b([]string{"r"}, "r", "reset (same seed)"),
		Preset:      b([]string{"p"}, "p", "next preset"),
		Setup:       b([]string{"S"}, "S", "setup: data, network, optimizer"),
		Write:       b([]string{"w"}, "w", "write run so far"),
		LessonBack:  b([]string{"left"}, "←/→", "lesson step back/next"),
		LessonNext:  quiet("right"),
		Lessons:     b([]string{"l"}, "l", "lessons"),
		Picture:     b([]string{"v"}, "v", "what the net learned"),
		TestPoints:  disabled(b([]string{"x"}, "x", "picture: test points on/off")),
		Neurons:     b([]string{"V"}, "V", "what each neuron computes"),
		NeuronsBack: disabled(b([]string{"left"}, "←/→", "neurons: page (not α)")),
		NeuronsNext: disabled(quiet("right")),
		Density:     b([]string{"s"}, "s", "spectrum: bars ↔ density"),
		Compare:     b([]string{"o"}, "o", "compare saved runs"),
		Share:       b([]string{"y"}, "y", "share this setup"),
		Select:      b([]string{"enter"}, "enter", "choose"),
		Captions:    b([]string{"i"}, "i", "captions on/off"),
		Help:        b([]string{"?"}, "?", "keys, then glossary"),
		Quit:        b([]string{"q", "ctrl+c"}, "q", "quit"),
		ScrollUp:    b([]string{"up", "pgup"}, "↑/↓", "scroll"),
		ScrollDown:  quiet("down", "pgdown"),
		TextUp:      b([]string{"pgup"}, "pgup/pgdn", "scroll the lesson text"),
		TextDown:    quiet("pgdown"),
		Close:       b([]string{"esc"}, "esc", "back to the charts"),
		Race:        b([]string{"f"}, "f/F", "race from here / choose arms"),
		RaceEnd:     quiet("esc"),
		RaceFocus:   b([]string{"tab"}, "tab", "race: focus the next arm"),
		RaceAll:     b([]string{"A"}, "A", "race: keys act on all arms"),
		RaceChoose:  quiet("F"),
	}
}

// steering lists the bindings that change the engine (refused in a read-only session).
func (k *KeyMap) steering() []key.Binding {
	return []key.Binding{k.Pause, k.Step, k.AlphaDown, k.AlphaUp, k.Dom, k.SGD, k.Bulk, k.Damped,
		k.LRDown, k.LRUp, k.KDown, k.KUp, k.RefreshDn, k.RefreshUp, k.Recompute, k.Momentum,
		k.Checkpoint, k.Rollback, k.Reset, k.Preset, k.Setup, k.Write, k.LessonBack, k.LessonNext, k.Lessons,
		k.Race, k.RaceEnd, k.RaceFocus, k.RaceAll, k.RaceChoose}
}

// setRace switches the keys that only a race has (tab, A, esc ending it) on or off.
func (k *KeyMap) setRace(on bool) {
	k.RaceEnd.SetEnabled(on)
	k.RaceFocus.SetEnabled(on)
	k.RaceAll.SetEnabled(on)
}

// setLesson switches the keys between lesson mode (←/→ step the lesson, [/] move α) and
// the free lab (←/→ and [/] move α).
func (k *KeyMap) setLesson(on bool) {
	k.LessonBack.SetEnabled(on)
	k.LessonNext.SetEnabled(on)
	k.TextUp.SetEnabled(on)
	k.TextDown.SetEnabled(on)
	// The neurons' pages: ←/→ in the free lab, < and > in a lesson, whose ←/→ step it
	// (syncPictureKeys enables them while the neurons show).
	back, next := k.NeuronsBack.Enabled(), k.NeuronsNext.Enabled()
	if on {
		k.AlphaDown = key.NewBinding(key.WithKeys("["), key.WithHelp("[/]", "α −/+ 0.05"))
		k.AlphaUp = key.NewBinding(key.WithKeys("]"))
		k.NeuronsBack = key.NewBinding(key.WithKeys("<"), key.WithHelp("</>", "neurons: page"))
		k.NeuronsNext = key.NewBinding(key.WithKeys(">"))
	} else {
		k.AlphaDown = key.NewBinding(key.WithKeys("left", "["), key.WithHelp("←/→", "α −/+ 0.05"))
		k.AlphaUp = key.NewBinding(key.WithKeys("right", "]"))
		k.NeuronsBack = key.NewBinding(key.WithKeys("left"), key.WithHelp("←/→", "neurons: page (not α)"))
		k.NeuronsNext = key.NewBinding(key.WithKeys("right"))
	}
	k.NeuronsBack.SetEnabled(back)
	k.NeuronsNext.SetEnabled(next)
}

// ShortHelp is the footer: the keys a first-time user needs, described briefly.
func (k *KeyMap) ShortHelp() []key.Binding {
	short := func(b key.Binding, desc string) key.Binding {
		b.SetHelp(b.Help().Key, desc)
		return b
	}
	if k.ReadOnly {
		return []key.Binding{short(k.Picture, "picture"), short(k.Density, "density"), short(k.Captions, "captions"), short(k.Help, "help"), k.Quit}
	}
	if k.LessonNext.Enabled() {
		return []key.Binding{short(k.LessonBack, "lesson"), short(k.Pause, "pause/next"), short(k.AlphaDown, "α"), k.Dom,
			short(k.LRDown, "η"), short(k.Picture, "picture"), short(k.Help, "help"), k.Quit}
	}
	if k.RaceFocus.Enabled() {
		end := key.NewBinding(key.WithKeys(k.Race.Keys()...), key.WithHelp("f", "end race"))
		return []key.Binding{short(k.Pause, "pause"), short(k.RaceFocus, "next arm"), end, short(k.AlphaDown, "α"), k.Dom,
			short(k.LRDown, "η"), k.Rollback, short(k.Captions, "captions"), short(k.Help, "help"), k.Quit}
	}
	return []key.Binding{short(k.Pause, "pause"), short(k.AlphaDown, "α"), k.Dom, short(k.LRDown, "η"),
		short(k.Recompute, "recompute"), short(k.Density, "density"), k.Rollback, short(k.Captions, "captions"), short(k.Help, "help"), k.Quit}
}

// shortHelpFits returns the short help that fits in w cells as rendered by h: it leaves
// out the less needed keys first (? and q always stay; u stays while diverged).
func (k *KeyMap) shortHelpFits(h help.Model, w int, diverged bool) []key.Binding {
	bs := k.ShortHelp()
	drop := []key.Binding{k.Density, k.Picture, k.Dom, k.LRDown, k.Recompute, k.Step, k.AlphaDown, k.Captions, k.Rollback, k.Pause, k.Race, k.RaceFocus}
	if diverged {
		drop = []key.Binding{k.Density, k.Picture, k.Dom, k.LRDown, k.Recompute, k.AlphaDown, k.Captions, k.Pause, k.Race, k.RaceFocus}
	}
	for _, d := range drop {
		h.Width = 0
		if width(h.ShortHelpView(bs)) <= w {
			break
		}
		bs = slices.DeleteFunc(bs, func(b key.Binding) bool { return slices.Equal(b.Keys(), d.Keys()) })
	}
	return bs
}

// FullHelp is every key, in columns.
func (k *KeyMap) FullHelp() [][]key.Binding {
	if k.ReadOnly {
		return [][]key.Binding{{k.TextUp, k.Picture, k.TestPoints, k.Neurons, k.NeuronsBack, k.Density, k.Share, k.Captions, k.Help, k.Quit}}
	}
	return [][]key.Binding{
		{k.LessonBack, k.Pause, k.Step, k.AlphaDown, k.Dom, k.LRDown, k.Momentum},
		{k.KDown, k.RefreshDn, k.Recompute, k.Checkpoint, k.Rollback, k.Reset},
		{k.Race, k.RaceFocus, k.RaceAll},
		{k.TextUp, k.Preset, k.Setup, k.Lessons, k.Picture, k.TestPoints, k.Neurons, k.NeuronsBack, k.Density, k.Compare, k.Share, k.Write, k.Captions, k.Help, k.Quit},
	}
}

// fullHelpColumns regroups the full help into as many columns as fit, each at most rows
// long (the help bubble truncates what does not fit in width).
func (k *KeyMap) fullHelpColumns(rows int) [][]key.Binding {
	var all []key.Binding
	for _, col := range k.FullHelp() {
		for _, b := range col {
			if b.Enabled() { // a disabled key is not drawn: it takes no row either
				all = append(all, b)
			}
		}
	}
	rows = max(1, rows)
	var cols [][]key.Binding
	for len(all) > 0 {
		n := min(rows, len(all))
		cols = append(cols, all[:n])
		all = all[n:]
	}
	return cols
}
