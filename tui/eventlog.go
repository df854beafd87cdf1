package tui

import (
	"fmt"
	"strings"

	"sharpflat/internal/safetext"
	"sharpflat/lab/train"
)

// eventTag names and colours an event kind of train.Event.
func eventTag(kind train.EventKind) (string, ink) {
	switch kind {
	case train.EventCommand:
		return "set", inkLabel
	case train.EventRefresh:
		return "eigen", inkChiG
	case train.EventDivergence:
		return "DIVERGED", inkWarn
	case train.EventRollback:
		return "rollback", inkNote
	case train.EventCheckpoint:
		return "ckpt", inkOK
	case train.EventError:
		return "ERROR", inkWarn
	}
	return kind.String(), inkLabel
}

// eventsPanel lists the newest events, newest last: step, kind, text. An event's text
// wraps onto at most wrap lines.
func (m Model) eventsPanel(a area, titled bool, wrap int) {
	ev := m.snap.Events
	y0 := 0
	if titled {
		legend(a, title("events", "", 9), note("checkpoints "+stepsList(m.snap.Checkpoints), "", inkLabel, 0))
		y0 = 1
	}
	rows := a.h - y0
	if rows <= 0 || len(ev) == 0 {
		return
	}
	if len(ev) > rows {
		ev = ev[len(ev)-rows:]
	}
	sw := 1
	for _, e := range ev {
		sw = max(sw, len(fmt.Sprint(e.Step)))
	}
	indent := sw + 1 + 9 // "step tag      "
	avail := a.w - indent
	if avail < 8 {
		return
	}
	type line struct {
		ev    *train.Event
		first bool
		text  string
	}
	var lines []line // newest event first, its lines in order
	for i := len(ev) - 1; i >= 0 && len(lines) < rows; i-- {
		parts := wrapText(safetext.Line(ev[i].Text), avail, wrap) // it may quote a file
		block := make([]line, len(parts))
		for j, p := range parts {
			block[j] = line{&ev[i], j == 0, p}
		}
		if len(lines)+len(block) > rows {
			block = block[:rows-len(lines)]
			if len(block) > 0 && len(parts) > len(block) {
				b := &block[len(block)-1]
				b.text = string([]rune(b.text)[:max(0, len([]rune(b.text))-1)]) + "…"
			}
		}
		lines = append(block, lines...)
	}
	for i, l := range lines {
		y := y0 + i
		if l.first {
			tag, tk := eventTag(l.ev.Kind)
			a.text(0, y, fmt.Sprintf("%*d ", sw, l.ev.Step), inkLabel)
			a.text(sw+1, y, tag, tk)
		}
		k := inkNone
		if l.ev.Kind == train.EventDivergence || l.ev.Kind == train.EventError {
			k = inkWarn
		}
		a.text(indent, y, l.text, k)
	}
}

// wrapText breaks s at spaces into lines of at most w runes, at most n lines; a line cut
// short ends in "…".
func wrapText(s string, w, n int) []string {
	var out []string
	var cur []rune
	for _, word := range strings.Fields(s) {
		wr := []rune(word)
		if len(cur) > 0 && len(cur)+1+len(wr) > w {
			out = append(out, string(cur))
			cur = cur[:0]
		}
		if len(cur) > 0 {
			cur = append(cur, ' ')
		}
		cur = append(cur, wr...)
	}
	if len(cur) > 0 {
		out = append(out, string(cur))
	}
	cut := func(l string) string {
		r := []rune(l)
		return string(r[:min(len(r), w-1)]) + "…"
	}
	for i, l := range out {
		if len([]rune(l)) > w {
			out[i] = cut(l)
		}
	}
	if len(out) > n {
		out = out[:n]
		out[n-1] = cut(out[n-1])
	}
	return out
}

// stepsList formats checkpoint steps: "0, 100, 200".
func stepsList(s []int) string {
	if len(s) == 0 {
		return "none"
	}
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = fmt.Sprint(v)
	}
	return strings.Join(parts, ", ")
}
