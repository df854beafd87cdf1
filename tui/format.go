package tui

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// num formats v with about digits significant digits, compactly: 0.213, 14.2, 1.2e+03 → 1.2k
// only for counts (see count); NaN is "–" (not measured) and ±Inf "±∞".
func num(v float64, digits int) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case math.IsInf(v, 1):
		return "∞"
	case math.IsInf(v, -1):
		return "−∞"
	case v == 0:
		return "0"
	}
	a := math.Abs(v)
	if a >= 1e5 || a < 1e-3 {
		s := strconv.FormatFloat(v, 'e', max(0, digits-1), 64)
		// 1.20e+05 → 1.2e5: shorter, and still unambiguous.
		mant, exp, _ := strings.Cut(s, "e")
		if strings.Contains(mant, ".") {
			mant = strings.TrimRight(strings.TrimRight(mant, "0"), ".")
		}
		e, _ := strconv.Atoi(exp)
		return mant + "e" + strconv.Itoa(e)
	}
	if a >= 1 {
		// Whole digits are never cut: 5600 with 3 digits is 5600, not 5.6e+03.
		whole := int(math.Floor(math.Log10(a))) + 1
		return trimZero(strconv.FormatFloat(v, 'f', max(0, digits-whole), 64))
	}
	return strconv.FormatFloat(v, 'g', digits, 64)
}

// count formats a step count or a rate: 950, 12.3k, 4.56M.
func count(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v):
		return "–"
	case a < 1e4:
		return strconv.FormatFloat(math.Round(v), 'f', -1, 64)
	case a < 1e6:
		return trimZero(strconv.FormatFloat(v/1e3, 'f', 1, 64)) + "k"
	default:
		return trimZero(strconv.FormatFloat(v/1e6, 'f', 2, 64)) + "M"
	}
}

func trimZero(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// pct formats a fraction as a percentage.
func pct(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", 100*v)
}

// sub writes n with subscript digits: sub(12) = "₁₂".
func sub(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for _, r := range s {
		b.WriteRune('₀' + (r - '0'))
	}
	return b.String()
}

// width is the printed width of s (ANSI sequences ignored).
func width(s string) int { return ansi.StringWidth(s) }

// truncate cuts s (possibly styled) to at most w cells, ending in "…" when cut.
func truncate(s string, w int) string {
	if w <= 0 {
		return ""
	}
	return ansi.Truncate(s, w, "…")
}

// pad fills s (possibly styled) with spaces to exactly w cells, truncating if longer.
func pad(s string, w int) string {
	n := width(s)
	if n > w {
		return truncate(s, w)
	}
	return s + strings.Repeat(" ", w-n)
}

// spread puts left at the start and right at the end of a w-cell line; the left part is
// truncated to make room for right.
func spread(left, right string, w int) string {
	rw := width(right)
	if rw >= w {
		return truncate(right, w)
	}
	l := truncate(left, w-rw-1)
	return l + strings.Repeat(" ", w-width(l)-rw) + right
}
