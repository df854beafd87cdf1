package lesson

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"sharpflat/internal/safetext"
)

// tomlBasic writes s as a TOML basic string: the characters a terminal acts on as \uXXXX
// escapes (as an attacker would write them), an invalid byte as itself.
func tomlBasic(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteByte(s[i])
			i++
			continue
		}
		switch {
		case r == '"' || r == '\\':
			b.WriteString(`\` + string(r))
		case safetext.Executable(string(r)) || r == '\n' || r == '\t':
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
	return b.String()
}

// A lesson's text reaches terminals (the lab, lesson --check, the classroom's students):
// the parser refuses every control character in it with the field's line and column, and
// the message shows the character escaped, never raw.
func TestParseRefusesControlCharacters(t *testing.T) {
	for _, h := range safetext.Hostile() {
		for _, tc := range []struct {
			field, doc string
			line       int
		}{
			{"title", "title = " + tomlBasic("x"+h+" evil") + "\npreset = \"eos\"\n[[step]]\ncaption = \"c\"\n", 1},
			{"summary", "title = \"t\"\nsummary = " + tomlBasic(h) + "\npreset = \"eos\"\n[[step]]\ncaption = \"c\"\n", 2},
			{"step[1].caption", "title = \"t\"\npreset = \"eos\"\n[[step]]\ncaption = " + tomlBasic("line\n"+h) + "\n", 4},
			{"step[1].title", head + "title = " + tomlBasic(h), 5},
		} {
			_, err := Parse("x.toml", []byte(tc.doc))
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("%s %q: %v, want an *Error", tc.field, h, err)
				continue
			}
			if strings.Contains(e.Msg, "syntax error") { // the TOML parser refuses an invalid byte itself
				if e.Line != tc.line || safetext.Executable(err.Error()) {
					t.Errorf("%s %q: %q", tc.field, h, err)
				}
				continue
			}
			if e.Line != tc.line || e.Field != tc.field || !strings.Contains(e.Msg, "control character") || safetext.Executable(err.Error()) {
				t.Errorf("%s %q: %q, want at line %d: %s: control character …", tc.field, h, err, tc.line, tc.field)
			}
		}
	}
}
