package lesson

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// full is a lesson that uses every field, each table in its inline or dotted spelling.
const full = `# A lesson that uses every field.
title   = "Edge of stability"
summary = "Full-batch GD: λ₁ rises to 2/η and stays there."
preset  = "eos"
seed    = 7

[[step]]
title   = "Train"
caption = """
Watch **λ₁**.
"""
do      = { preset = "eos", seed = 3, reset = true, lr = 0.4, alpha = 0.5, momentum = 0.9, batch = 0, k = 10, refresh = 5, recompute = true, checkpoint = true }
until   = { steps = 600, auto = true }
expect  = [
  { metric = "sharpness/edge", above = 0.95 },
  { metric = "loss", falls_by = 0.5 },
]

[[step]]
caption = "Wait for it."
do.w_dom = 1
do.w_bulk = 0
do.rollback = true
do.lr = 1
until = { metric = "sharpness", below = 10, max_steps = 2000 }
expect = [
  { metric = "test_acc", above = 0.2, below = 0.9, throughout = true },
  { metric = "edge", rises_by = 1 },
  { metric = "chi_grad", within = 1e-1 },
]

[[step]]
caption = 'Look.'
do = { pause = true }
until = {}
`

// fullHeaders is full with sub-table headers: [step.do], [step.until] and [[step.expect]].
const fullHeaders = `title   = "Edge of stability"
summary = "Full-batch GD: λ₁ rises to 2/η and stays there."
preset  = "eos"
seed    = 7

[[step]]
title   = "Train"
caption = """
Watch **λ₁**.
"""
[step.do]
preset = "eos"
seed = 3
reset = true
lr = 0.4
alpha = 0.5
momentum = 0.9
batch = 0
k = 10
refresh = 5
recompute = true
checkpoint = true
[step.until]
steps = 600
auto = true
[[step.expect]]
metric = "sharpness/edge"
above = 0.95
[[step.expect]]
metric = "loss"
falls_by = 0.5

[[step]]
caption = "Wait for it."
[[step.expect]]
metric = "test_acc"
above = 0.2
below = 0.9
throughout = true
[step.do]
w_dom = 1
w_bulk = 0
rollback = true
lr = 1
[[step.expect]]
metric = "edge"
rises_by = 1
[step.until]
metric = "sharpness"
below = 10
max_steps = 2000
[[step.expect]]
metric = "chi_grad"
within = 0.1

[[step]]
caption = 'Look.'
[step.do]
pause = true
[step.until]
`

func ptr[T any](v T) *T { return &v }

func wantFull() *Lesson {
	return &Lesson{
		Name:    "eos",
		Title:   "Edge of stability",
		Summary: "Full-batch GD: λ₁ rises to 2/η and stays there.",
		Preset:  "eos",
		Seed:    7,
		Steps: []Step{
			{
				Title:   "Train",
				Caption: "Watch **λ₁**.",
				Do: Actions{Preset: "eos", Seed: ptr[uint64](3), Reset: true, LR: ptr(0.4), Alpha: ptr(0.5),
					Momentum: ptr(0.9), Batch: ptr(0), K: ptr(10), Refresh: ptr(5), Recompute: true, Checkpoint: true},
				Until: Until{Steps: 600, Auto: true},
				Expect: []Expect{
					{Metric: "sharpness/edge", Above: ptr(0.95), Line: 15},
					{Metric: "loss", FallsBy: ptr(0.5), Line: 16},
				},
				Line: 7,
			},
			{
				Caption: "Wait for it.",
				Do:      Actions{WDom: ptr(1.0), WBulk: ptr(0.0), Rollback: true, LR: ptr(1.0)},
				Until:   Until{Metric: "sharpness", Below: ptr(10.0), MaxSteps: 2000},
				Expect: []Expect{
					{Metric: "test_acc", Above: ptr(0.2), Below: ptr(0.9), Throughout: true, Line: 27},
					{Metric: "edge", RisesBy: ptr(1.0), Line: 28},
					{Metric: "chi_grad", Within: ptr(0.1), Line: 29},
				},
				Line: 19,
			},
			{Caption: "Look.", Do: Actions{Pause: true}, Line: 32},
		},
	}
}

func TestParseFull(t *testing.T) {
	l, err := Parse("lessons/eos.toml", []byte(full))
	if err != nil {
		t.Fatal(err)
	}
	want := wantFull()
	want.File = "lessons/eos.toml"
	if !reflect.DeepEqual(l, want) {
		t.Errorf("got\n%s\nwant\n%s", dump(l), dump(want))
	}
}

// The sub-table spellings ([step.do], [step.until], [[step.expect]]) mean the same as the
// inline ones; only the lines differ.
func TestParseHeaders(t *testing.T) {
	l, err := Parse("eos.toml", []byte(fullHeaders))
	if err != nil {
		t.Fatal(err)
	}
	var lines [][]int
	for _, s := range l.Steps {
		ls := []int{s.Line}
		for _, x := range s.Expect {
			ls = append(ls, x.Line)
		}
		lines = append(lines, ls)
	}
	if want := [][]int{{6, 26, 29}, {33, 35, 45, 52}, {56}}; !reflect.DeepEqual(lines, want) {
		t.Errorf("lines %v, want %v", lines, want)
	}
	want := wantFull()
	want.File = "eos.toml"
	for _, l := range []*Lesson{l, want} {
		for i := range l.Steps {
			l.Steps[i].Line = 0
			for j := range l.Steps[i].Expect {
				l.Steps[i].Expect[j].Line = 0
			}
		}
	}
	if !reflect.DeepEqual(l, want) {
		t.Errorf("got\n%s\nwant\n%s", dump(l), dump(want))
	}
}

// A step's show names the spectrum panel's view; a step without one leaves it.
func TestParseShow(t *testing.T) {
	doc := "title = \"T\"\npreset = \"moons\"\n[[step]]\ncaption = \"a\"\nshow = \"density\"\n[[step]]\ncaption = \"b\"\n[[step]]\ncaption = \"c\"\nshow = \"bars\"\n"
	l, err := Parse("x.toml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range l.Steps {
		got = append(got, s.Show)
	}
	if want := []string{"density", "", "bars"}; !reflect.DeepEqual(got, want) {
		t.Errorf("shows %q, want %q", got, want)
	}
}

// Steps may also be written as an inline array; a BOM and CRLF line ends are fine.
func TestParseSpellings(t *testing.T) {
	doc := "\uFEFFtitle = \"T\"\r\npreset = \"demo\"\r\nstep = [\r\n  { caption = \"\"\"\r\none\r\ntwo\r\n\"\"\" },\r\n  { caption = \"b\", until.steps = 3, expect = [{metric = \"loss\", below = 1}] },\r\n]\r\n"
	l, err := Parse("dir/x.toml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := &Lesson{Name: "x", File: "dir/x.toml", Title: "T", Preset: "demo", Steps: []Step{
		{Caption: "one\ntwo", Line: 4},
		{Caption: "b", Until: Until{Steps: 3}, Expect: []Expect{{Metric: "loss", Below: ptr(1.0), Line: 8}}, Line: 8},
	}}
	if !reflect.DeepEqual(l, want) {
		t.Errorf("got\n%s\nwant\n%s", dump(l), dump(want))
	}
}

// dump shows a lesson with its pointers followed.
func dump(l *Lesson) string {
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// head starts a lesson whose first step's caption is on line 4; a case's lines follow.
const head = "title = \"t\"\npreset = \"eos\"\n[[step]]\ncaption = \"c\"\n"

func TestParseErrors(t *testing.T) {
	tests := []parseErrorCase{
		// TOML
		{"syntax", `title = "x" = 1`, 1, 13, "", "syntax error: expected newline"},
		{"unterminated", "title = \"x\npreset = 1", 1, 11, "", "syntax error: basic strings cannot have new lines"},
		{"bare string", head + "until = { metric = sharpness }", 5, 20, "", "syntax error"},
		{"duplicate key", "title = \"a\"\ntitle = \"b\"", 2, 1, "title", "duplicate key (first set at line 1)"},
		{"duplicate in inline", head + "do = { lr = 1, lr = 2 }", 5, 16, "step[1].do.lr", "duplicate key"},
		{"duplicate dotted", head + "do = { lr = 1 }\ndo.k = 2", 6, 1, "step[1].do", "already defined at line 5"},
		{"table twice", head + "[step.do]\n[step.do]", 6, 1, "step[1].do", "table defined twice (first at line 5)"},
		{"step as table", "[step]\ncaption = \"c\"", 1, 1, "step", "expected an array of tables ([[step]]), got a table"},
		{"step table after steps", head + "[step]", 5, 1, "step", "is an array of tables: write [[step]]"},
		{"sub-table before step", "title = \"t\"\n[step.do]\nlr = 1\n[[step]]", 4, 1, "step", "a sub-table's header must come after the [[step]]"},
		{"inline and header expect", head + "until.steps = 1\nexpect = [{metric = \"loss\", below = 1}]\n[[step.expect]]", 7, 1, "step[1].expect", "already set inline at line 6"},
		{"unknown table", head + "[step.extra]", 5, 7, "step[1].extra", "unknown field (fields of a step: title, caption, show, do, until, expect)"},
		{"unknown view", head + "show = \"densty\"", 5, 8, "step[1].show", `unknown view "densty" (did you mean "density"? views: density, bars, neurons, picture)`},
		{"view not a string", head + "show = true", 5, 8, "step[1].show", "expected a string"},

		// unknown fields
		{"unknown top", "title = \"t\"\ncolour = \"red\"", 2, 1, "colour", "unknown field (fields of a lesson: title, summary, preset, seed, step)"},
		{"unknown top close", "titel = \"t\"", 1, 1, "titel", `unknown field (did you mean "title"? fields of a lesson:`},
		{"unknown quoted", `"the title" = "t"`, 1, 1, `"the title"`, "unknown field"},
		{"unknown step", head + "text = \"x\"", 5, 1, "step[1].text", "unknown field (fields of a step:"},
		{"unknown do", head + "do = { lrr = 0.1 }", 5, 8, "step[1].do.lrr", `unknown field (did you mean "lr"? fields of do: preset, seed,`},
		{"unknown do dotted", head + "do.wdom = 1", 5, 4, "step[1].do.wdom", `did you mean "w_dom"?`},
		{"unknown do far", head + "do.x = 1", 5, 4, "step[1].do.x", "unknown field (fields of do:"},
		{"unknown until", head + "[step.until]\nstep = 10", 6, 1, "step[1].until.step", `unknown field (did you mean "steps"? fields of until: steps, metric,`},
		{"unknown expect", head + "until.steps = 1\n[[step.expect]]\nmetric = \"loss\"\nfallsby = 0.5", 8, 1, "step[1].expect[1].fallsby", `did you mean "falls_by"? fields of expect: metric,`},

		// types
		{"int as string", head + "do.k = \"5\"", 5, 8, "step[1].do.k", "expected an integer, got a string"},
		{"float as int", head + "until = { steps = 600.0 }", 5, 19, "step[1].until.steps", "expected an integer, got a float"},
		{"number as string", head + "do = { lr = \"0.1\" }", 5, 13, "step[1].do.lr", "expected a number, got a string"},
		{"bool as int", head + "do = { reset = 1 }", 5, 16, "step[1].do.reset", "expected a boolean (true or false), got an integer"},
		{"string as bool", "title = true", 1, 9, "title", "expected a string, got a boolean"},
		{"date", "seed = 1979-05-27", 1, 8, "seed", "expected an integer, got a date"},
		{"do as number", head + "do = 5", 5, 6, "step[1].do", "expected a table, got an integer"},
		{"until as array", head + "until = [1]", 5, 9, "step[1].until", "expected a table, got an array"},
		{"expect as table", head + "until.steps = 1\nexpect = { metric = \"loss\", below = 1 }", 6, 10, "step[1].expect", "expected an array of tables ([[step.expect]] or expect = [ { … } ]), got a table"},
		{"expect of numbers", head + "until.steps = 1\nexpect = [ 1 ]", 6, 12, "step[1].expect[1]", "expected a table, got an integer"},
		{"step as number", "step = 1", 1, 8, "step", "expected an array of tables ([[step]]), got an integer"},
		{"metric as number", head + "until = { metric = 1, above = 1 }", 5, 20, "step[1].until.metric", "expected a string, got an integer"},

		// ranges
		{"seed 0", "seed = 0", 1, 8, "seed", "expected an integer ≥ 1, got 0"},
		{"seed huge", "seed = 99999999999999999999", 1, 8, "seed", "expected an integer ≥ 1, got 99999999999999999999"},
		{"do seed", head + "do.seed = -3", 5, 11, "step[1].do.seed", "expected an integer ≥ 1, got -3"},
		{"lr negative", head + "do = { lr = -1 }", 5, 13, "step[1].do.lr", "expected a number > 0, got -1"},
		{"lr zero", head + "do.lr = 0.0", 5, 9, "step[1].do.lr", "expected a number > 0, got 0.0"},
		{"lr inf", head + "do.lr = inf", 5, 9, "step[1].do.lr", "expected a number > 0, got inf"},
		{"lr nan", head + "do.lr = nan", 5, 9, "step[1].do.lr", "expected a number > 0, got nan"},
		{"alpha", head + "do.alpha = 1.5", 5, 12, "step[1].do.alpha", "expected a number in [0, 1], got 1.5"},
		{"w_dom", head + "do.w_dom = 11", 5, 12, "step[1].do.w_dom", "expected a number in [0, 10], got 11"},
		{"w_bulk", head + "do.w_bulk = -0.1", 5, 13, "step[1].do.w_bulk", "expected a number in [0, 10], got -0.1"},
		{"momentum", head + "do.momentum = 1", 5, 15, "step[1].do.momentum", "expected a number in [0, 1), got 1"},
		{"batch", head + "do.batch = -1", 5, 12, "step[1].do.batch", "expected an integer ≥ 0 (0: full batch), got -1"},
		{"k zero", head + "do.k = 0", 5, 8, "step[1].do.k", "expected an integer in [1, 1000], got 0"},
		{"k big", head + "do.k = 1_001", 5, 8, "step[1].do.k", "expected an integer in [1, 1000], got 1_001"},
		{"refresh", head + "do.refresh = -5", 5, 14, "step[1].do.refresh", "expected an integer ≥ 0"},
		{"until steps", head + "until.steps = 0", 5, 15, "step[1].until.steps", "expected an integer in [1, 1000000] (a lesson step trains at most 1000000 steps), got 0"},
		{"max_steps", head + "until = { metric = \"loss\", below = 1, max_steps = 0 }", 5, 51, "step[1].until.max_steps", "expected an integer in [1, 1000000] (a lesson step trains at most 1000000 steps), got 0"},
		{"until above inf", head + "until = { metric = \"loss\", above = -inf }", 5, 36, "step[1].until.above", "expected a finite number, got -inf"},
		{"falls_by", head + "until.steps = 1\nexpect = [{ metric = \"loss\", falls_by = 0 }]", 6, 41, "step[1].expect[1].falls_by", "expected a number > 0"},
		{"within", head + "until.steps = 1\nexpect = [{ metric = \"loss\", within = -0.1 }]", 6, 39, "step[1].expect[1].within", "expected a number > 0"},
		{"too many steps", "title = \"t\"\npreset = \"eos\"\n" + strings.Repeat("[[step]]\ncaption = \"c\"\n", 51), 103, 1, "step[51]", "too many steps (at most 50)"},
		{"no steps", "title = \"t\"\npreset = \"eos\"\nstep = []", 3, 8, "step", "expected at least one step"},

		// names
		{"unknown metric", head + "until = { metric = \"sharpnes\", above = 1 }", 5, 20, "step[1].until.metric",
			`unknown metric "sharpnes" (did you mean "sharpness"? metrics: loss, train_loss,`},
		{"unknown metric case", head + "until.steps = 1\nexpect = [{ metric = \"energy_h\", above = 0.5 }]", 6, 22, "step[1].expect[1].metric", `(did you mean "energy_H"? metrics:`},
		{"unknown metric far", head + "until.steps = 1\nexpect = [{ metric = \"accuracy\", above = 0.5 }]", 6, 22, "step[1].expect[1].metric", `unknown metric "accuracy" (metrics: loss,`},
		{"unknown preset", "preset = \"eso\"", 1, 10, "preset", `unknown preset "eso" (did you mean "eos"? presets: demo, mnist, eos,`},
		{"unknown do preset", head + "do.preset = \"cifar\"", 5, 13, "step[1].do.preset", `unknown preset "cifar" (presets: demo,`},

		// missing and empty
		{"missing title", "preset = \"eos\"\n[[step]]\ncaption = \"c\"", 1, 1, "title", "missing (a lesson needs a title)"},
		{"missing preset", "title = \"t\"\n[[step]]\ncaption = \"c\"", 1, 1, "preset", "missing (presets: demo, mnist,"},
		{"missing steps", "title = \"t\"\npreset = \"eos\"", 1, 1, "step", "missing (a lesson needs at least one [[step]])"},
		{"missing caption", "title = \"t\"\npreset = \"eos\"\n[[step]]\ncaption = \"c\"\n\n  [[step]]\ntitle = \"x\"", 6, 3, "step[2].caption", "missing (the text the step shows)"},
		{"missing caption inline", "title = \"t\"\npreset = \"eos\"\nstep = [ {title = \"x\"} ]", 3, 10, "step[1].caption", "missing"},
		{"missing metric", head + "until.steps = 1\n[[step.expect]]\nabove = 1", 6, 1, "step[1].expect[1].metric", "missing (metrics: loss,"},
		{"empty title", "title = \"  \"", 1, 9, "title", "expected some text, got none"},
		{"empty caption", "title = \"t\"\n[[step]]\ncaption = \"\"\"\n\n\"\"\"", 3, 11, "step[1].caption", "expected some text (what the step shows), got none"},
		{"two-line title", "title = \"\"\"a\nb\"\"\"", 1, 9, "title", "expected one line of text, got several"},

		// until
		{"steps and metric", head + "until = { steps = 10, metric = \"loss\", below = 1 }", 5, 23, "step[1].until.metric", "cannot be used with steps"},
		{"metric and steps", head + "until = { metric = \"loss\", below = 1, steps = 10 }", 5, 39, "step[1].until.steps", "cannot be used with metric"},
		{"above and below", head + "until = { metric = \"loss\", above = 1, below = 2 }", 5, 39, "step[1].until.below", "cannot be used with above (a condition waits for one threshold)"},
		{"metric alone", head + "until = { metric = \"loss\" }", 5, 11, "step[1].until.metric", "needs above or below"},
		{"above alone", head + "until = { steps = 3, above = 1 }", 5, 22, "step[1].until.above", "only with metric"},
		{"max_steps alone", head + "until = { steps = 3, max_steps = 1 }", 5, 22, "step[1].until.max_steps", "only with metric"},
		{"auto alone", head + "until = { auto = true }", 5, 11, "step[1].until.auto", "only with steps or metric"},

		// expect
		{"no relation", head + "until.steps = 1\nexpect = [{ metric = \"loss\" }]", 6, 11, "step[1].expect[1]", "no relation (give above, below, falls_by, rises_by or within)"},
		{"two relations", head + "until.steps = 1\nexpect = [{ metric = \"loss\", falls_by = 0.1, above = 1 }]", 6, 46, "step[1].expect[1].above", "cannot be used with falls_by (a claim states one relation)"},
		{"two changes", head + "until.steps = 1\n[[step.expect]]\nmetric = \"loss\"\nwithin = 0.1\nrises_by = 0.1", 9, 1, "step[1].expect[1].rises_by", "cannot be used with within"},
		{"between reversed", head + "until.steps = 1\nexpect = [{ metric = \"loss\", above = 2, below = 1 }]", 6, 49, "step[1].expect[1].below", "expected a number > above (2), got 1"},
		{"throughout alone", head + "until.steps = 1\nexpect = [{ metric = \"loss\", within = 0.1, throughout = true }]", 6, 44, "step[1].expect[1].throughout", "only with above or below"},
		{"claim without training", head + "[[step.expect]]\nmetric = \"loss\"\nbelow = 1", 5, 1, "step[1].expect",
			"a claim needs a step that trains (until.steps or until.metric), so that it is checked at a fixed point"},
		{"claim while paused", head + "do.pause = true\nuntil.steps = 5\nexpect = [ {metric = \"loss\", below = 1} ]", 7, 12, "step[1].expect", "checked at a fixed point; this step has do.pause = true"},

		// do
		{"alpha and w_dom", head + "do = { alpha = 0.5, w_dom = 1 }", 5, 21, "step[1].do.w_dom", "cannot be used with alpha"},
		{"w_bulk and alpha", head + "[step.do]\nw_bulk = 1\nalpha = 0.5", 7, 1, "step[1].do.alpha", "cannot be used with w_bulk"},

		// sizes: a step that would train for days is a typo (the limit is MaxTrainSteps)
		{"steps too many", head + "until = { steps = 100000000 }", 5, 19, "step[1].until.steps", "expected an integer in [1, 1000000] (a lesson step trains at most 1000000 steps), got 100000000"},
		{"max_steps too many", head + "until = { metric = \"loss\", below = 0.1, max_steps = 1000001 }", 5, 53, "step[1].until.max_steps", "expected an integer in [1, 1000000]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkParseError(t, tc) })
	}
}

// Columns count characters, not bytes.
func TestParseColumnInCharacters(t *testing.T) {
	_, err := Parse("x.toml", []byte(`title = "λ₁"  ; x = 1`))
	var e *Error
	if !errors.As(err, &e) || e.Line != 1 || e.Col != 15 {
		t.Errorf("error %v, want at 1:15", err)
	}
}

func TestErrorString(t *testing.T) {
	for _, tc := range []struct {
		e    Error
		want string
	}{
		{Error{"a.toml", 3, 7, "step[1].do.lr", "bad"}, "a.toml:3:7: step[1].do.lr: bad"},
		{Error{"a.toml", 3, 0, "title", "bad"}, "a.toml:3: title: bad"},
		{Error{"a.toml", 3, 5, "", "syntax error: x"}, "a.toml:3:5: syntax error: x"},
		{Error{"a.toml", 0, 0, "", "not a regular file"}, "a.toml: not a regular file"},
		{Error{"", 2, 1, "seed", "bad"}, "2:1: seed: bad"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.e, got, tc.want)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "eos.toml")
	if err := os.WriteFile(good, []byte(full), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Load(good)
	if err != nil {
		t.Fatal(err)
	}
	want := wantFull()
	want.File = good
	if !reflect.DeepEqual(l, want) {
		t.Errorf("Load: got\n%s", dump(l))
	}

	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte("title = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad); err == nil || err.Error() != bad+":1:9: title: expected a string, got an integer" {
		t.Errorf("Load(bad): %v", err)
	}

	big := filepath.Join(dir, "big.toml")
	if err := os.WriteFile(big, []byte("# "+strings.Repeat("x", 1<<20)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, msg string }{
		{big, "too large"},
		{dir, "is a directory"},
		{filepath.Join(dir, "none.toml"), "no such file"},
	} {
		if _, err := Load(tc.path); err == nil || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), tc.path) {
			t.Errorf("Load(%s): %v, want …%s…", tc.path, err, tc.msg)
		}
	}
	if _, err := Load(filepath.Join(dir, "none.toml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing): %v, want os.ErrNotExist", err)
	}
}

// parseErrorCase is a document Parse must refuse, and where and why: the line, column and
// field of the error and a part of its message.
type parseErrorCase struct {
	name, doc  string
	line, col  int
	field, msg string
}

// checkParseError parses tc.doc and requires one *Error, on one line, at tc's place.
func checkParseError(t *testing.T, tc parseErrorCase) {
	t.Helper()
	l, err := Parse("x.toml", []byte(tc.doc))
	if err == nil {
		t.Fatalf("no error; lesson %s", dump(l))
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%T %v, want an *Error", err, err)
	}
	if e.File != "x.toml" || e.Line != tc.line || e.Col != tc.col || e.Field != tc.field || !strings.Contains(e.Msg, tc.msg) || strings.Contains(e.Msg, "\n") {
		t.Errorf("error %q\nwant x.toml:%d:%d: %s: …%s…", err, tc.line, tc.col, tc.field, tc.msg)
	}
}
