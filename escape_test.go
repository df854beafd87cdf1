package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sharpflat/internal/safetext"
)

// Text from a file or the command line that a command echoes back (a CSV header, a path, a
// JSON field, an unknown value) reaches stderr and stdout with its control characters shown,
// never executed: each of safetext.Hostile's sequences (CSI, OSC 52, DCS, APC, C1, CR, a bidi
// override, invalid bytes) is fed through every command's error path, and none survives.
// (Lesson files: cmd_lesson_hostile_test.go; the lab's screen: tui/hostile_test.go.)
func TestCommandsEchoNoEscapes(t *testing.T) {
	dir := t.TempDir()
	for i, h := range safetext.Hostile() {
		csv := filepath.Join(dir, "h"+string(rune('a'+i))+".csv")
		if err := os.WriteFile(csv, []byte("x1,"+h+",label\n1,2,0\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg := filepath.Join(dir, "c"+string(rune('a'+i))+".json")
		if err := os.WriteFile(cfg, []byte(`{"act": "`+jsonEscape(h)+`"}`), 0o644); err != nil {
			t.Fatal(err)
		}
		missing := filepath.Join(dir, "no"+h+"where")
		for _, args := range [][]string{
			{"hessian", "--data", csv, "--weights", missing},
			{"hessian", "--data", missing, "--weights", missing},
			{"run", "--data", csv, "--out", filepath.Join(dir, "out")},
			{"run", "--config", cfg, "--out", filepath.Join(dir, "out")},
			{"run", "--resume", missing},
			{"run", "--preset", h, "--out", filepath.Join(dir, "out")},
			{"run", "--act", h, "--out", filepath.Join(dir, "out")},
			{"data", "export", "--data", csv, "--out", filepath.Join(dir, "exp")},
			{"experiment", "--report", missing},
			{h},
		} {
			var stdout, stderr bytes.Buffer
			code := run(args, &stdout, &stderr)
			if code == 0 && args[0] != "data" { // a feature may have any name: data export takes it
				t.Errorf("%q: exit 0, want a refusal", args)
			}
			for name, out := range map[string]string{"stdout": stdout.String(), "stderr": stderr.String()} {
				if safetext.Executable(out) {
					t.Errorf("%q: %s carries a control sequence: %q", args, name, out)
				}
			}
		}
	}
}

// jsonEscape writes s as the inside of a JSON string, every control character as \u00XX, so
// that the decoded value holds the raw bytes.
func jsonEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[r>>4])
			b.WriteByte("0123456789abcdef"[r&15])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
