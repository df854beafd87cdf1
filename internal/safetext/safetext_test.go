package safetext

import (
	"bytes"
	"strings"
	"testing"
)

func TestLineEscapesEverySequence(t *testing.T) {
	for _, h := range Hostile() {
		in := "before " + h + " after"
		for name, f := range map[string]func(string) string{"Line": Line, "Text": Text} {
			out := f(in)
			if Executable(out) {
				t.Errorf("%s(%q) = %q: still executable", name, in, out)
			}
			if !strings.HasPrefix(out, "before ") || !strings.HasSuffix(out, " after") {
				t.Errorf("%s(%q) = %q: safe text around it changed", name, in, out)
			}
		}
	}
}

func TestVisibleEscapes(t *testing.T) {
	// Expected strings written by hand, in Go's string-literal spelling.
	cases := []struct{ in, line, text string }{
		{"plain λ₁ ✓ —", "plain λ₁ ✓ —", "plain λ₁ ✓ —"},
		{"\x1b]52;c;x\x07", `\x1b]52;c;x\x07`, `\x1b]52;c;x\x07`},
		{"a\nb\tc\r", `a\nb\tc\r`, "a\nb\tc\\r"},
		{"\u009b1m", `\u009b1m`, `\u009b1m`},
		{"x\u202ey", `x\u202ey`, `x\u202ey`},
		{"bad\xffbyte", `bad\xffbyte`, `bad\xffbyte`},
	}
	for _, c := range cases {
		if got := Line(c.in); got != c.line {
			t.Errorf("Line(%q) = %q, want %q", c.in, got, c.line)
		}
		if got := Text(c.in); got != c.text {
			t.Errorf("Text(%q) = %q, want %q", c.in, got, c.text)
		}
	}
	if !Safe("run-3 λ") || Safe("a\x1bb") || Safe("a\nb") {
		t.Error("Safe disagrees with Line")
	}
}

func TestWriter(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	n, err := w.Write([]byte("error: \x1b[31mred\x1b[0m\n"))
	if err != nil || n != len("error: \x1b[31mred\x1b[0m\n") {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if got, want := b.String(), "error: \\x1b[31mred\\x1b[0m\n"; got != want {
		t.Errorf("wrote %q, want %q", got, want)
	}
}

func FuzzLine(f *testing.F) {
	for _, h := range Hostile() {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if out := Line(s); Executable(out) || strings.ContainsAny(out, "\n\t") {
			t.Fatalf("Line(%q) = %q", s, out)
		}
		if out := Text(s); Executable(out) {
			t.Fatalf("Text(%q) = %q", s, out)
		}
	})
}
