package safetext

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Line returns s with every control character, C1 control, bidirectional override and invalid
// UTF-8 byte escaped, newlines and tabs included: for a value shown on one line (a title, a
// name, a field).
func Line(s string) string { return clean(s, false) }

// Text returns s escaped as Line does, but keeps newlines and tabs: for a block of text (a
// caption, an error message of several lines).
func Text(s string) string { return clean(s, true) }

// Safe reports whether s would pass Line unchanged.
func Safe(s string) bool { return firstUnsafe(s, false) < 0 }

// unsafe reports whether r must be escaped; keepLines spares '\n' and '\t'.
func unsafe(r rune, keepLines bool) bool {
	switch {
	case keepLines && (r == '\n' || r == '\t'):
		return false
	case r < 0x20, r == 0x7f: // C0 and DEL
		return true
	case r >= 0x80 && r <= 0x9f: // C1: CSI is 0x9b, OSC 0x9d, DCS 0x90
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069: // bidi embeddings, overrides, isolates
		return true
	case r == utf8.RuneError:
		return true // an invalid byte (a literal U+FFFD is escaped too: harmless, and unambiguous)
	}
	return false
}

func firstUnsafe(s string, keepLines bool) int {
	for i, r := range s {
		if unsafe(r, keepLines) {
			return i
		}
	}
	return -1
}

func clean(s string, keepLines bool) string {
	i := firstUnsafe(s, keepLines)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for len(s[i:]) > 0 {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case !unsafe(r, keepLines):
			b.WriteString(s[i : i+size])
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += size
	}
	return b.String()
}

// Writer escapes, as Text does, everything written through it to w: for stderr and logs,
// whose lines may quote a file or a peer. Each Write is escaped on its own; a multi-byte rune
// split across two writes is shown as its bytes (log and fmt write whole lines).
type Writer struct{ W io.Writer }

// NewWriter returns a Writer onto w.
func NewWriter(w io.Writer) *Writer { return &Writer{W: w} }

// Write writes Text(p) to the underlying writer and reports len(p) on success.
func (w *Writer) Write(p []byte) (int, error) {
	if _, err := io.WriteString(w.W, Text(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
