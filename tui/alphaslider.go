package tui

import (
	"fmt"
	"math"
	"strings"

	"sharpflat/lab/train"
)

// The optimizer bar: the α slider that walks Dom-SGD → SGD → Bulk-SGD,
//
//	Dom ◀────────━━━━●┼────────────▶ Bulk   α 0.40 damped-Bulk Dom (w_dom 1, w_bulk 0.8)
//	       Dom-SGD          SGD          Bulk-SGD        (on tall screens)
//	η 0.1 · 2/η 20 · β 0 · batch 32 · k 10 · T 1 · basis @1234, 0 steps ago (41 HVPs, 9 ms)
//
// with (w_dom, w_bulk) = train.Weights(α): α=0 Dom-SGD (1, 0), α=½ SGD (1, 1), α=1 Bulk-SGD
// (0, 1). The heavy stretch of the track runs from the SGD mark to the knob.

// regime names the update a (w_dom, w_bulk) pair makes (docs/SCIENCE.md, "The update").
func regime(c *train.Config) string {
	switch a := c.Alpha(); {
	case math.IsNaN(a):
		return "off the slider's path"
	case a == 0:
		return "Dom-SGD"
	case a == 0.5:
		return "SGD"
	case a == 1:
		return "Bulk-SGD"
	case a < 0.5:
		return "damped-Bulk Dom"
	default:
		return "damped-Dom Bulk"
	}
}

// sliderView is the optimizer bar in lines lines (2 or 3).
func (m Model) sliderView(w, lines int) string {
	st := m.c.Styles
	c := &m.snap.Config
	if !m.have {
		return strings.Repeat("\n", lines-1)
	}
	alpha := c.Alpha()
	info := st.Label.Render("α ") + st.Value.Render(num(alpha, 2)) + "  " + st.Knob.Render(regime(c)) +
		st.Label.Render(fmt.Sprintf("  (w_dom %s, w_bulk %s)", num(c.WDom, 3), num(c.WBulk, 3)))
	const lead, tail = "Dom ◀", "▶ Bulk"
	n := min(61, w-len([]rune(lead))-len([]rune(tail))-width(info)-3)
	n = max(n, 11)
	if n%2 == 0 {
		n--
	}
	// The track: light, heavy from the centre to the knob, the SGD mark at the centre.
	a := sliderAlpha(c)
	knob, mid := int(math.Round(a*float64(n-1))), (n-1)/2
	var track strings.Builder
	for i := 0; i < n; i++ {
		switch {
		case i == knob && math.IsNaN(alpha):
			track.WriteString(st.Knob.Render("○"))
		case i == knob:
			track.WriteString(st.Knob.Render("●"))
		case i == mid:
			track.WriteString(st.TrackMark.Render("┼"))
		case (i > mid && i < knob) || (i < mid && i > knob):
			track.WriteString(st.Knob.Render("━"))
		default:
			track.WriteString(st.Track.Render("─"))
		}
	}
	line1 := st.Label.Render(lead) + track.String() + st.Label.Render(tail) + "  " + info
	out := []string{truncate(line1, w)}
	if lines >= 3 {
		// Regime names under the ends and the centre of the track.
		row := []rune(strings.Repeat(" ", len([]rune(lead))+n+len([]rune(tail))))
		put := func(at int, s string) {
			for i, r := range []rune(s) {
				if at+i >= 0 && at+i < len(row) {
					row[at+i] = r
				}
			}
		}
		put(0, "Dom-SGD")
		put(len([]rune(lead))+mid-1, "SGD")
		put(len(row)-len("Bulk-SGD"), "Bulk-SGD")
		out = append(out, st.Dim.Render(truncate(string(row), w)))
	}
	return strings.Join(append(out, m.settingsView(w)), "\n")
}

// settingsView is the line of settings under the slider; items that do not fit are left
// out, least important first.
func (m Model) settingsView(w int) string {
	st := m.c.Styles
	s := &m.snap
	c := &s.Config
	kv := func(k, v string) string { return st.Label.Render(k+" ") + st.Value.Render(v) }
	type item struct {
		text string
		prio int // lower stays longer
	}
	var items []item
	add := func(prio int, text string) { items = append(items, item{text, prio}) }

	add(0, kv("η", num(c.LR, 4)))
	switch {
	case c.Optimizer == train.Adam:
		add(1, st.Label.Render("adam (no 2/η line)"))
	case c.Momentum > 0:
		add(1, kv("(2+2β)/η", num(s.Threshold, 4)))
	default:
		add(1, kv("2/η", num(s.Threshold, 4)))
	}
	add(2, kv("β", num(c.Momentum, 3)))
	if c.Batch == 0 {
		add(5, st.Value.Render("full batch"))
	} else {
		add(5, kv("batch", fmt.Sprint(c.Batch)))
	}
	add(0, kv("k", fmt.Sprint(c.K)))
	if c.RefreshEvery == 0 {
		add(0, kv("T", "manual"))
	} else {
		add(0, kv("T", fmt.Sprint(c.RefreshEvery)))
	}
	if s.Refreshing > 0 {
		add(0, st.Status.Render(fmt.Sprintf("refreshing the eigenspace… %d HVPs", s.Refreshing)))
	}
	if s.Basis.Step < 0 {
		add(1, st.Label.Render("no basis yet"))
	} else {
		age := s.Step - s.Basis.Step
		add(1, kv("basis", fmt.Sprintf("@%d", s.Basis.Step))+st.Label.Render(fmt.Sprintf(", %s ago", plural(age, "step"))))
		cost := fmt.Sprintf("%d HVPs, %s ms", s.Basis.Products, num(s.Basis.MS, 2))
		if !s.Basis.Converged {
			add(3, st.StatusErr.Render("not converged")+st.Label.Render(" ("+cost+")"))
		} else {
			add(4, st.Label.Render("("+cost+")"))
		}
	}
	sep := st.Label.Render(" · ")
	for limit := 5; limit >= 0; limit-- {
		var parts []string
		for _, it := range items {
			if it.prio <= limit {
				parts = append(parts, it.text)
			}
		}
		line := strings.Join(parts, sep)
		if width(line) <= w || limit == 0 {
			return truncate(line, w)
		}
	}
	return ""
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
