package tui

// Drawing the setup panel (setup.go) into the charts area: the rows in one column, or two
// (the data | the network and training) where the width allows, each scrolled to keep the
// cursor in sight on a short terminal; under them the selected setting's help (or the
// features to turn on and off, or the value being typed), then the memory estimate or why
// the draft is refused.

import (
	"fmt"
	"slices"
	"strings"

	"sharpflat/lab/train"
)

// setupSplit is the first row of the panel's second column when it has two.
const setupSplit = 6

// setupLabelW is the width of a row's label.
const setupLabelW = 13

// setupLine is one line of a column: a group heading (row < 0) or a row.
type setupLine struct {
	row     int
	heading string
}

// setupView draws the panel into a.
func (m Model) setupView(a area) {
	a.text(0, 0, truncate("setup of a fresh run: ↑↓ choose a setting · ←→ change it, or type a value", a.w), inkTitle)
	const foot = 3
	cols := [][]int{}
	if a.w >= 76 {
		cols = append(cols, seq(0, setupSplit), seq(setupSplit, len(setupRows)))
	} else {
		cols = append(cols, seq(0, len(setupRows)))
	}
	// The rows take what they need (a blank line under them) and the rest stays below the
	// foot; on a short terminal they scroll.
	need := 0
	for _, rows := range cols {
		need = max(need, len(columnLines(rows)))
	}
	bodyH := max(0, min(need+1, a.h-1-foot))
	colW := a.w / len(cols)
	for i, rows := range cols {
		m.setupColumn(a.sub(i*colW, 1, colW, bodyH), rows)
	}
	m.setupFoot(a.sub(0, 1+bodyH, a.w, min(foot, max(0, a.h-1-bodyH))))
}

// columnLines are a column's lines: its rows, each group's heading before its first row.
func columnLines(rows []int) []setupLine {
	var lines []setupLine
	for _, i := range rows {
		if g := setupRows[i].group; g != "" {
			lines = append(lines, setupLine{row: -1, heading: g})
		}
		lines = append(lines, setupLine{row: i})
	}
	return lines
}

// seq is the integers lo … hi−1.
func seq(lo, hi int) []int {
	s := make([]int, 0, hi-lo)
	for i := lo; i < hi; i++ {
		s = append(s, i)
	}
	return s
}

// setupColumn draws rows (with their group headings) into a, scrolled so that the cursor's
// row shows.
func (m Model) setupColumn(a area, rows []int) {
	lines := columnLines(rows)
	cursor := max(0, slices.IndexFunc(lines, func(l setupLine) bool { return l.row == m.setup.row }))
	top := 0
	if len(lines) > a.h {
		top = max(0, min(cursor-a.h/2, len(lines)-a.h))
	}
	for y := 0; y < a.h && top+y < len(lines); y++ {
		l := lines[top+y]
		if l.row < 0 {
			a.text(0, y, l.heading, inkLabel)
			continue
		}
		m.setupRowView(a, y, l.row)
	}
}

// setupRowView draws row i on line y: the cursor, the label, the value.
func (m Model) setupRowView(a area, y, i int) {
	f := &m.setup
	r := setupRows[i]
	mark, k := "  ", inkNone
	if i == f.row {
		mark, k = "▸ ", inkTitle
	}
	x := a.text(0, y, mark, k)
	x = a.text(x, y, r.label, k)
	x = max(x+1, 2+setupLabelW)
	v := setupValue(r, &f.draft)
	if i == f.row && f.text != nil {
		v = string(f.text) + "▏"
	}
	a.text(x, y, truncate(v, a.w-x), k)
}

// setupValue words row r's value in c.
func setupValue(r setupRow, c *train.Config) string {
	switch r.kind {
	case rowPreset:
		return "the " + c.Preset + " preset"
	case rowFeatures:
		if d, ok := train.DataInputs(c.Data); ok && d != 2 && c.Features.IsZero() {
			return fmt.Sprintf("%d inputs (2-D data only)", d)
		}
		var ls []string
		for _, ft := range c.Features.List() {
			ls = append(ls, ft.Label())
		}
		return strings.Join(ls, ", ")
	case rowWidths:
		if len(c.Hidden) == 0 {
			return "none (a linear model)"
		}
		return train.JoinWidths(c.Hidden)
	case rowLadder:
		return ladderWords(r.field, c)
	}
	fd, _ := train.FieldByName(r.field)
	return fd.Get(c)
}

// setupFoot draws the panel's last lines: the row's help (or the features, or how to finish
// a typed value), then the refusal, the question before replacing an unwritten run, or the
// memory estimate.
func (m Model) setupFoot(a area) {
	f := &m.setup
	r := setupRows[f.row]
	switch {
	case f.text != nil:
		a.text(0, 0, truncate("typing "+r.label+": enter sets it · backspace · esc drops it", a.w), inkLabel)
	case r.kind == rowFeatures:
		x := 0
		for i, ft := range train.AllFeatures() {
			box := "[ ] "
			if f.draft.Features.Has(ft) {
				box = "[✓] "
			}
			k := inkNone
			if i == f.feature {
				k = inkTitle
				x = a.text(x, 0, "▸", k)
			} else {
				x = a.text(x, 0, " ", k)
			}
			x = a.text(x, 0, box+ft.Label()+" ", k)
		}
		if x < a.w {
			a.text(x, 0, "· space on/off", inkLabel)
		}
	default:
		a.text(0, 0, truncate(setupHelp(r), a.w), inkLabel)
	}
	warn := ""
	switch {
	case f.err != "":
		warn = f.err
	case f.confirm:
		warn = "this run was not written: enter again replaces it · esc, then w, writes it first"
	case f.refused != nil && f.current():
		warn = "refused: " + strings.TrimPrefix(f.refused.Error(), "invalid configuration:")
	}
	if warn != "" { // on the two lines under the help, the memory's too
		for i, l := range wrapText(oneLine(warn), a.w, 2) {
			a.text(0, 1+i, l, inkWarn)
		}
		return
	}
	if !f.current() {
		a.text(0, 2, truncate("memory: estimating what this setup needs…", a.w), inkLabel)
		return
	}
	if f.refused == nil {
		total := train.Bytes(f.need.Total())
		parts := strings.Trim(strings.TrimPrefix(f.need.String(), "about "+total+" "), "()")
		a.text(0, 2, truncate(fmt.Sprintf("memory about %s, limit %s · %s", total, train.Bytes(float64(train.MemoryLimit())), parts), a.w), inkLabel)
	}
}

// setupHelp is what a row sets and how.
func setupHelp(r setupRow) string {
	how := map[rowKind]string{
		rowChoice: "←→ choose",
		rowLadder: "←→ steps, or type a value",
		rowWidths: "→ adds a layer, ← removes one, or type widths like 32-16 (none: linear)",
		rowPreset: "←→ start from another preset's settings",
	}[r.kind]
	if r.kind == rowPreset {
		return how
	}
	fd, _ := train.FieldByName(r.field)
	return how + " · " + fd.Usage
}

// oneLine joins the lines of a message (Validate lists one problem a line).
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
