package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sharpflat/internal/safetext"
	"sharpflat/lab/lesson"
)

// A claim that does not hold and a condition that never holds are named by their lines in
// the lesson's file.
func TestLessonCheckNamesTheLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "never.toml")
	const doc = `title = "Never"
preset = "moons"

[[step]]
caption = "Wait for a loss below zero."
until = { metric = "loss", below = 0, max_steps = 5 }
expect = [ { metric = "loss", below = 0 } ]
`
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "lesson", "--check", path)
	if code != 1 || !strings.Contains(out, "✗ until loss < 0 did not happen · "+path+":4\n") ||
		!strings.Contains(out, "✗ loss below 0: loss ") || !strings.Contains(out, " · "+path+":7\n") {
		t.Errorf("lesson --check of an impossible step: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "0 training steps and up to 5 more (waiting for a metric)") || !strings.Contains(errOut, "step 1/1 · 5 steps (waiting for a metric, at most 5)\n") {
		t.Errorf("the estimate and progress of a metric step:\n%s", errOut)
	}
}

// hostileLesson carries s in every text a lesson shows, as a lesson built by a program
// (not read by the parser, which refuses them) would.
func hostileLesson(s string) *lesson.Lesson {
	above := 0.5
	return &lesson.Lesson{Name: "evil" + s, File: "evil" + s + ".toml", Title: s + " evil", Summary: s, Preset: "moons", Steps: []lesson.Step{
		{Title: s, Caption: "c" + s, Until: lesson.Until{Steps: 2}, Line: 3,
			Expect: []lesson.Expect{{Metric: "loss" + s, Above: &above, Line: 4}}},
	}}
}

// Nothing a lesson's file says reaches the terminal able to act: every hostile string as
// title, step title, claim and file name is escaped in lesson --check and --list output,
// and a file holding one is refused with a message that shows it escaped.
func TestLessonOutputEscapesHostileText(t *testing.T) {
	numericsOnly(t)
	dir := t.TempDir()
	for i, h := range safetext.Hostile() {
		l := hostileLesson(h)
		var out, errOut bytes.Buffer
		err := checkLesson(l, &out, &errOut)
		if err == nil || !strings.Contains(out.String(), "✗ loss") {
			t.Errorf("%q: check: %v\n%s", h, err, out.String())
		}
		var list bytes.Buffer
		listLessons(&list, []*lesson.Lesson{l})
		for what, s := range map[string]string{"--check": out.String(), "--check stderr": errOut.String(), "error": err.Error(), "--list": list.String()} {
			if safetext.Executable(s) {
				t.Errorf("%q reaches the terminal through lesson %s:\n%q", h, what, s)
			}
		}

		path := filepath.Join(dir, "h"+string(rune('a'+i))+".toml")
		doc := "title = \"" + strings.ReplaceAll(strings.ReplaceAll(h, "\\", `\\`), "\"", `\"`) + " evil\"\npreset = \"moons\"\n[[step]]\ncaption = \"c\"\n"
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"lesson", "--check", path}, {"lesson", "--list", path}, {"lesson", path}} {
			code, o, e := runCLI(t, args...)
			if code == 0 || safetext.Executable(o) || safetext.Executable(e) {
				t.Errorf("%v with title %q: exit %d, output %q %q", args, h, code, o, e)
			}
		}
	}
	code, out, _ := runCLI(t, "lesson", "--print", "edge-of-stability")
	if code != 0 || safetext.Executable(out) {
		t.Errorf("lesson --print: exit %d", code)
	}
}
