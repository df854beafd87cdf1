package tui

// The lesson band: in lesson mode, a band above the charts shows the lesson's step, its
// caption (a little Markdown), how far the step has come, and the caption's claims with
// where each stands (✓ holds, ✗ does not, … not judged yet, – skipped).
//
// Every string of a lesson may come from anyone's file: it passes through safetext here,
// where it is drawn (the parser refuses control characters too; a lesson built by a program
// does not pass the parser).

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"

	"sharpflat/internal/safetext"
	"sharpflat/lab"
	"sharpflat/lab/lesson"
)

// minBandCharts is the least height the charts keep when the band takes their room
// (computeLayout draws no charts below 8 lines).
const minBandCharts = 10

// lessonBandHeight is the lines the band takes in a w×h terminal (0 without a lesson): its
// head, the caption wrapped to w, and one line per claim. While training runs the band
// keeps within a third of the screen and the charts keep the lab's smallest screen; while
// nothing moves (the step waits for the user, or training is paused) the text is what there
// is to read, and it may take the charts' room down to minBandCharts lines.
func (m Model) lessonBandHeight(w, h int) int {
	v := m.snap.Lesson
	if v == nil || !m.have {
		return 0
	}
	return max(0, min(m.bandWant(v, w), m.bandLimit(w, h, m.bandStill(v))))
}

// bandWant is the lines the band would take to show everything.
func (m Model) bandWant(v *lab.LessonView, w int) int {
	return 1 + len(wrapMarkdown(m.lessonCaption(v), w-2)) + len(m.claimLines(v, w)) // the claims and the step's error
}

// bandLimit is the most lines the band may take, still or not.
func (m Model) bandLimit(w, h int, still bool) int {
	limit := h / 3
	if still {
		sliderH := 2
		if h >= 36 {
			sliderH = 3
		}
		limit = max(limit, h-1-sliderH-m.bannerHeight()-lipgloss.Height(m.footerView(w))-minBandCharts)
	}
	return min(limit, h-MinHeight) // the charts keep the lab's smallest screen
}

// bandStill reports whether nothing trains: the step waits for the user, or is paused.
func (m Model) bandStill(v *lab.LessonView) bool {
	return v.Done || v.Over || !v.Trains || m.snap.Run != lab.Running || m.snap.Held
}

// pressed finds the instructions a caption gives the one at the keys ("Press **space**").
var pressed = regexp.MustCompile(`(^|[.!?:;]\s+|\n\s*)Press\b`)

// lessonCaption is the step's caption as this session shows it: escaped, and for a student
// watching a classroom (read-only) an instruction to press a key says what the teacher
// will do: "The teacher will press **space**: …". A student cannot press it.
func (m Model) lessonCaption(v *lab.LessonView) string {
	c := safetext.Text(v.Caption)
	if m.opts.ReadOnly {
		c = pressed.ReplaceAllString(c, "${1}The teacher will press")
	}
	return c
}

// lessonBandView draws the band in exactly n lines of width w.
func (m Model) lessonBandView(w, n int) string {
	st := m.c.Styles
	v := m.snap.Lesson
	lines := make([]string, 0, n)

	head := st.Title.Render(safetext.Line(v.Title)) + st.Label.Render(fmt.Sprintf(" · step %d/%d", v.Index+1, v.Count))
	if v.StepTitle != "" {
		head += st.Label.Render(" · ") + st.Value.Render(safetext.Line(v.StepTitle))
	}
	lines = append(lines, spread(head, m.lessonProgress(v), w))

	claims := m.claimLines(v, w)
	body, top, shown := m.textWindow(v, w, n)
	for _, l := range body[top : top+shown] {
		lines = append(lines, " "+l.render(st))
	}
	if shown < len(body) && shown > 0 || len(body) > 1 && shown == 1 { // the last line says where the text is and how to see the rest
		lines = append(lines, " "+st.Label.Render(m.textMore(v, w, top, shown, len(body))))
	}
	for len(lines) < n-len(claims) {
		lines = append(lines, "")
	}
	lines = append(lines, claims...)
	if len(lines) > n {
		lines = lines[:n]
	}
	for i := range lines {
		lines[i] = truncate(lines[i], w)
	}
	return strings.Join(lines, "\n")
}

// lessonProgress is the head's right side: what the step waits for and how far it is.
func (m Model) lessonProgress(v *lab.LessonView) string {
	st := m.c.Styles
	until := safetext.Line(v.Until)
	next := "space/→ next · ← back"
	if m.opts.ReadOnly { // a student watching: what the teacher will do, not a key
		next = "the teacher goes on"
		if v.Next != "" {
			next = "next: " + safetext.Line(v.Next) + ", when the teacher goes on"
		}
	}
	switch {
	case v.Over:
		if m.opts.ReadOnly {
			return st.Running.Render("✓ the lesson is over")
		}
		return st.Running.Render("✓ the lesson is over") + st.Label.Render(" · ← replays the last step · l: lessons, or leave")
	case v.GaveUp:
		return st.StatusErr.Render(until+": not reached in "+count(float64(v.Trained))+" steps") + st.Label.Render(" · "+next)
	case v.Done:
		return st.Running.Render("✓ "+strings.TrimPrefix(until, "until ")) + st.Label.Render(" · "+next)
	case !v.Trains:
		return st.Label.Render(next)
	}
	var where string
	if !math.IsNaN(v.Progress) {
		where = st.Value.Render(fmt.Sprintf("%d/%s", v.Trained, strings.TrimSuffix(strings.TrimSuffix(until, " steps"), " step"))) + st.Label.Render(" steps")
	} else {
		where = st.Value.Render(until) + st.Label.Render(fmt.Sprintf(" · %d steps so far", v.Trained))
	}
	if v.Left >= 5*time.Second {
		where += st.Label.Render(" · ≈ " + lab.Duration(v.Left) + " left")
	}
	if v.FastForward {
		ff := "→ to the step's end, then on · → again skips it · "
		if m.opts.ReadOnly {
			ff = "the teacher goes on at the step's end · "
		}
		return st.Label.Render(ff) + where
	}
	return where
}

// claimLines are the claims of the step, one a line: mark, claim, measured value.
func (m Model) claimLines(v *lab.LessonView, w int) []string {
	st := m.c.Styles
	var out []string
	if v.Error != "" { // the step's fresh start could not start: the run in force goes on
		out = append(out, truncate(st.StatusErr.Render(" ✗ "+safetext.Line(v.Error)), w))
	}
	for _, c := range v.Claims {
		var mark string
		switch c.Verdict {
		case lesson.Holds:
			mark = st.Running.Render(" ✓ ")
		case lesson.Fails:
			mark = st.StatusErr.Render(" ✗ ")
		case lesson.Skipped:
			out = append(out, truncate(st.Label.Render(" – ")+st.Value.Render(safetext.Line(c.Text))+st.Label.Render(" · "+safetext.Line(c.Value)), w))
			continue
		default:
			mark = st.Label.Render(" … ")
		}
		out = append(out, truncate(mark+st.Value.Render(safetext.Line(c.Text))+st.Label.Render(" · now "+safetext.Line(c.Value)), w))
	}
	return out
}

// A tiny Markdown: paragraphs (blank lines), "- " or "* " bullets, **bold**, *italic* and
// `code`. Lines are wrapped at word boundaries.

type mdStyle int

const (
	mdPlain mdStyle = iota
	mdBold
	mdItalic
	mdCode
)

type mdWord struct {
	text  string
	style mdStyle
	glue  bool // no space before it ("**λ₁**," is two words glued)
}

// mdLine is one wrapped line: its indent and words (joined by single spaces).
type mdLine struct {
	indent string
	words  []mdWord
}

func (l mdLine) render(st *Styles) string {
	var b strings.Builder
	b.WriteString(l.indent)
	for i, w := range l.words {
		if i > 0 && !w.glue {
			b.WriteByte(' ')
		}
		b.WriteString(mdRender(st, w))
	}
	return b.String()
}

func mdRender(st *Styles, w mdWord) string {
	switch w.style {
	case mdBold:
		return st.Value.Bold(true).Render(w.text)
	case mdItalic:
		return st.Value.Italic(true).Render(w.text)
	case mdCode:
		return st.Ink[inkSharp].Render(w.text)
	}
	return w.text
}

// wrapMarkdown lays out text in lines at most w cells wide.
func wrapMarkdown(text string, w int) []mdLine {
	w = max(w, 8)
	var out []mdLine
	for _, para := range mdBlocks(text) {
		indent, rest := "", ""
		first := para
		if strings.HasPrefix(para, "- ") || strings.HasPrefix(para, "* ") {
			first, indent, rest = "• "+para[2:], "", "  "
		}
		words := mdWords(first)
		cur := mdLine{indent: indent}
		curW := lipgloss.Width(indent)
		for _, wd := range words {
			ww := lipgloss.Width(wd.text)
			if wd.glue && len(cur.words) > 0 {
				cur.words = append(cur.words, wd)
				curW += ww
				continue
			}
			wd.glue = false
			if len(cur.words) > 0 && curW+1+ww > w {
				out = append(out, cur)
				cur = mdLine{indent: rest}
				curW = lipgloss.Width(rest)
			}
			if len(cur.words) > 0 {
				curW++
			}
			cur.words = append(cur.words, wd)
			curW += ww
		}
		if len(cur.words) > 0 {
			out = append(out, cur)
		}
	}
	return out
}

// mdBlocks splits text into paragraphs and bullets, each joined into one line.
func mdBlocks(text string) []string {
	var out []string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.Join(cur, " "))
			cur = nil
		}
	}
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "":
			flush()
		case strings.HasPrefix(t, "- ") || strings.HasPrefix(t, "* "):
			flush()
			cur = append(cur, t)
		default:
			cur = append(cur, t)
		}
	}
	flush()
	return out
}

// mdWords splits a paragraph into words, each with the style of the markup around it.
func mdWords(s string) []mdWord {
	var out []mdWord
	style := mdPlain
	var word strings.Builder
	spaced := true // whitespace came since the last word
	emit := func() {
		if word.Len() > 0 {
			out = append(out, mdWord{text: word.String(), style: style, glue: !spaced})
			word.Reset()
			spaced = false
		}
	}
	toggle := func(to mdStyle) {
		emit()
		if style == to {
			style = mdPlain
		} else if style == mdPlain {
			style = to
		}
	}
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '`':
			toggle(mdCode)
		case style != mdCode && r == '*' && i+1 < len(rs) && rs[i+1] == '*':
			toggle(mdBold)
			i++
		case style != mdCode && r == '*' && (style == mdItalic || (i+1 < len(rs) && rs[i+1] != ' ')):
			toggle(mdItalic)
		case r == ' ' || r == '\t':
			emit()
			spaced = true
		default:
			word.WriteRune(r)
		}
	}
	emit()
	return out
}

// textWindow is the lesson text wrapped to w, the first line shown and how many lines are
// shown in a band of n lines: all of it, or a window that pgup/pgdn move, the band's last
// text line then saying where the window is.
func (m Model) textWindow(v *lab.LessonView, w, n int) (body []mdLine, top, shown int) {
	body = wrapMarkdown(m.lessonCaption(v), w-2)
	room := max(0, n-1-len(m.claimLines(v, w)))
	if len(body) <= room || room == 0 { // all of it, or no room for text at all
		return body, 0, min(len(body), room)
	}
	shown = max(0, room-1)
	if m.textStep == v.Index {
		top = min(m.textTop, len(body)-shown)
	}
	return body, max(0, top), shown
}

// textMore is the line under a cut lesson text: which lines show, and the keys that show
// the others (pgup/pgdn; also in a student's read-only session: reading is not steering).
func (m Model) textMore(v *lab.LessonView, w, top, shown, total int) string {
	where := fmt.Sprintf("lines %d–%d of %d", top+1, top+shown, total)
	var keys []string
	if top+shown < total {
		keys = append(keys, "pgdn more")
	}
	if top > 0 {
		keys = append(keys, "pgup back")
	}
	more := "↕ " + where + " · " + strings.Join(keys, " · ")
	if !m.bandStill(v) && m.bandWant(v, w) <= m.bandLimit(w, m.c.Height, true) {
		more += " · all of it when paused or at the step's end"
	}
	return more
}

// scrollText moves the lesson text's window by a page (less a line, to keep the reader's
// place), down or up, within the text; another step starts at its top.
func (m Model) scrollText(down bool) Model {
	v := m.snap.Lesson
	if m.textStep != v.Index {
		m.textStep, m.textTop = v.Index, 0
	}
	w, h := m.c.Width, m.c.Height
	_, top, shown := m.textWindow(v, w, m.lessonBandHeight(w, h))
	page := max(1, shown-1)
	body := wrapMarkdown(m.lessonCaption(v), w-2)
	if down {
		m.textTop = min(top+page, max(0, len(body)-shown))
	} else {
		m.textTop = max(0, top-page)
	}
	return m
}
