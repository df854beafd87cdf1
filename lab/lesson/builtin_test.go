package lesson

import "testing"

// Every built-in lesson parses (a bad one would panic at start-up; this names it), has a
// unique name, and keeps to 3–8 steps.
func TestBuiltinLessons(t *testing.T) {
	seen := map[string]bool{}
	for _, l := range Builtin() {
		if seen[l.Name] {
			t.Errorf("two built-in lessons named %q", l.Name)
		}
		seen[l.Name] = true
		if n := len(l.Steps); n < 3 || n > 8 {
			t.Errorf("%s: %d steps, want 3–8", l.Name, n)
		}
		if src, ok := BuiltinSource(l.Name); !ok || len(src) == 0 {
			t.Errorf("%s: no source", l.Name)
		}
		if got, err := Find(l.Name); err != nil || got != l {
			t.Errorf("Find(%q) = %v, %v", l.Name, got, err)
		}
	}
	if len(Builtin()) != 8 {
		t.Errorf("%d built-in lessons, want 8", len(Builtin()))
	}
	if _, err := Find("no-such-lesson"); err == nil {
		t.Error("Find of an unknown name succeeded")
	}
}
