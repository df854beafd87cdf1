package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sharpflat/lab/train"
	"sharpflat/tui"
)

// The command y shares opens the lab on the very same settings: parsed by the lab's own
// flags, it gives back the configuration it was made from, field for field.
func TestShareCommandReproducesSetup(t *testing.T) {
	moons, _ := train.Preset("moons")
	moons.Seed, moons.LR, moons.K, moons.Momentum, moons.Batch = 7, 0.0123, 3, 0.9, 0
	moons.WDom, moons.WBulk = train.Weights(0.25)
	eos, _ := train.Preset("eos")
	eos.WDom, eos.WBulk = 0.3, 2 // off the slider's path: --w-dom and --w-bulk
	eos.RefreshEvery, eos.Hidden = 0, []int{8, 4}
	demo, _ := train.Preset("demo")
	for _, c := range []train.Config{demo, moons, eos} {
		line := tui.ShareCommand(c)
		args := strings.Fields(line)
		if args[0] != "sharpflat" {
			t.Fatalf("%q does not start with sharpflat", line)
		}
		fs := flag.NewFlagSet("lab", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		build := configFlags(fs)
		if err := fs.Parse(args[1:]); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		got, err := build()
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Errorf("%q gives back\n%+v\nwant\n%+v", line, got, c)
		}
		t.Log(line)
	}
}

const tinyLessonFile = `title = "Tiny"
preset = "moons"
seed = 3

[[step]]
caption = "Train a little."
until = { steps = 20 }
expect = [ { metric = "edge", above = 19.9 } ]

[[step]]
caption = "Halve η."
do = { lr = 0.05 }
until = { steps = 5 }
expect = [ { metric = "edge", below = 39 } ]
`

// lesson --list, --print, --check on a good and a failing lesson, and a bad file's error
// naming its line and field.
func TestLessonCommand(t *testing.T) {
	code, out, _ := runCLI(t, "lesson", "--list")
	for _, name := range []string{"dominant-subspace", "dom-stalls-bulk-learns", "edge-of-stability", "bulk-sgd-and-stability", "sliding-alpha", "gauss-newton"} {
		if code != 0 || !strings.Contains(out, name) {
			t.Errorf("lesson --list (exit %d) lacks %s:\n%s", code, name, out)
		}
	}
	code, out, _ = runCLI(t, "lesson", "--print", "edge-of-stability")
	if code != 0 || !strings.Contains(out, `preset  = "eos"`) {
		t.Errorf("lesson --print: exit %d\n%s", code, out)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "tiny.toml")
	if err := os.WriteFile(good, []byte(tinyLessonFile), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "lesson", good, "--check")
	if code != 1 || !strings.Contains(out, "✓ edge above 19.9: edge 20\n") || !strings.Contains(out, "✗ edge below 39: edge 40 · "+good+":14\n") ||
		!strings.Contains(errOut, "1 claim(s) of tiny do not hold") {
		t.Errorf("lesson --check: exit %d\n%s\n%s", code, out, errOut)
	}
	// stderr: the estimated time first, then where the lesson stands (a log gets a line as
	// each step begins and ends)
	if !strings.Contains(errOut, "tiny: 25 training steps, about ") || !strings.Contains(errOut, "an estimate from ") ||
		!strings.Contains(errOut, "step 1/2 · 20/20 steps\n") || !strings.Contains(errOut, "step 2/2 · 5/5 steps\n") {
		t.Errorf("lesson --check's estimate and progress on stderr:\n%s", errOut)
	}
	if code, out, _ := runCLI(t, "lesson", "--list", good); code != 0 || !strings.Contains(out, "tiny  ") || !strings.Contains(out, "Tiny  ") || !strings.Contains(out, "moons · 2 steps") {
		t.Errorf("lesson --list FILE: exit %d\n%s", code, out)
	}
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte(strings.Replace(tinyLessonFile, `lr = 0.05`, `lr = -1`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runCLI(t, "lesson", "--check", bad)
	if code != 1 || !strings.Contains(errOut, "bad.toml:12:") || !strings.Contains(errOut, "step[2].do.lr") {
		t.Errorf("a bad lesson file: exit %d, %s", code, errOut)
	}
	if code, _, errOut = runCLI(t, "lesson", "no-such"); code != 1 || !strings.Contains(errOut, "built-in lessons are") {
		t.Errorf("an unknown lesson: exit %d, %s", code, errOut)
	}
	if code, _, _ = runCLI(t, "lesson"); code != 2 {
		t.Errorf("lesson without a lesson: exit %d, want 2", code)
	}
}

// The complete example of docs/LESSONS.md parses and every claim of it holds.
func TestLessonsDocExample(t *testing.T) {
	numericsOnly(t)
	doc, err := os.ReadFile("docs/LESSONS.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "## A complete example\n\n```toml\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/LESSONS.md has no complete example")
	}
	path := filepath.Join(t.TempDir(), "moons.toml")
	if err := os.WriteFile(path, []byte(example), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "lesson", "--check", path)
	if code != 0 || !strings.Contains(out, "every claim holds") {
		t.Errorf("the example's claims: exit %d\n%s%s", code, out, errOut)
	}
	if _, want, ok := strings.Cut(string(doc), "`sharpflat lesson --check` on it:\n\n```\n"); !ok || !strings.HasPrefix(out, strings.SplitN(want, "```", 2)[0]) {
		t.Errorf("the --check output in docs/LESSONS.md is not what it prints:\n%s", out)
	}
}

// Command lines that cannot work are refused before anything starts: --compare with no
// directory after it, and a classroom lesson nobody could step.
func TestLessonAndCompareUsage(t *testing.T) {
	if code, _, errOut := runCLI(t, "lab", "--compare", "--preset", "moons"); code != 2 || !strings.Contains(errOut, "--compare needs run directories") {
		t.Errorf("lab --compare without a directory: exit %d, %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "serve", "--open", "--classroom", "--lesson", "edge-of-stability", "--listen", "127.0.0.1:0"); code != 2 || !strings.Contains(errOut, "needs --controllers") {
		t.Errorf("serve --classroom --lesson without controllers: exit %d, %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "lesson", "--print", "x.toml"); code != 2 || !strings.Contains(errOut, "built-in lesson's name") {
		t.Errorf("lesson --print FILE: exit %d, %s", code, errOut)
	}
}
