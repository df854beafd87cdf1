package lesson

import (
	"reflect"
	"strings"
	"testing"

	"sharpflat/lab/train"
)

// The setup keys of do become Settings in the order written, each value as the setting's
// flag takes it, and applied they give the Config that the equivalent flags give.
func TestParseSetup(t *testing.T) {
	doc := head + `do = { hidden = [64, 8], act = "relu", loss = "ce", data = "spirals", n = 600, test_frac = 0.25, weight_decay = 1e-3 }
[[step]]
caption = "linear"
do.hidden = []
do.test_frac = 0
`
	l, err := Parse("x.toml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []Setting{{"hidden", "64-8"}, {"act", "relu"}, {"loss", "ce"}, {"data", "spirals"}, {"n", "600"},
		{"test_frac", "0.25"}, {"weight_decay", "0.001"}}
	if got := l.Steps[0].Do.Setup; !reflect.DeepEqual(got, want) {
		t.Errorf("setup %q\nwant %q", got, want)
	}
	if got, want := l.Steps[1].Do.Setup, []Setting{{"hidden", "none"}, {"test_frac", "0"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("second step's setup %q, want %q", got, want)
	}
	if !l.Steps[0].Do.Fresh() || !l.Steps[1].Do.Fresh() {
		t.Error("a setup key is not a fresh start")
	}

	// Applied to the preset, the setup is the Config of the flags
	// --hidden 64-8 --act relu … --weight-decay 0.001 (set one by one by train's table).
	got, _ := train.Preset("eos")
	for _, s := range l.Steps[0].Do.Setup {
		if err := s.Apply(&got); err != nil {
			t.Fatal(err)
		}
	}
	flags, _ := train.Preset("eos")
	for _, kv := range [][2]string{{"hidden", "64-8"}, {"act", "relu"}, {"loss", "ce"}, {"data", "spirals"}, {"n", "600"},
		{"test-frac", "0.25"}, {"weight-decay", "0.001"}} {
		if err := train.SetField(&flags, kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(got, flags) {
		t.Errorf("the setup applied: %+v\nthe flags: %+v", got, flags)
	}
	if got.Hidden[0] != 64 || got.TestFrac != 0.25 || got.WeightDecay != 0.001 || got.N != 600 {
		t.Errorf("applied: hidden %v, test_frac %g, weight_decay %g, n %d", got.Hidden, got.TestFrac, got.WeightDecay, got.N)
	}
	if s := DescribeSetup(l.Steps[1].Do.Setup); s != "hidden none, test_frac 0" {
		t.Errorf("DescribeSetup = %q", s)
	}
}

// The setup keys of the network and the split are offered (train has a setting of each
// JSON key); noise and features in setup_data_test.go.
func TestSetupKeys(t *testing.T) {
	want := []string{"hidden", "act", "loss", "data", "n", "test_frac", "weight_decay"}
	if got := SetupKeys(); !reflect.DeepEqual(got[:min(len(got), len(want))], want) {
		t.Errorf("SetupKeys() = %q, want %q first", got, want)
	}
}

// A setup key ends a race running, as a preset does: the step after it may change settings.
func TestSetupEndsARace(t *testing.T) {
	doc := head + "do.race = [\"dom\", \"bulk\"]\n[[step]]\ncaption = \"d\"\ndo = { hidden = [4], lr = 0.1 }\n"
	if _, err := Parse("x.toml", []byte(doc)); err != nil {
		t.Errorf("a setup key with lr during a race: %v", err)
	}
	bad := head + "do.race = [\"dom\", \"bulk\"]\n[[step]]\ncaption = \"d\"\ndo = { lr = 0.1 }\n"
	if _, err := Parse("x.toml", []byte(bad)); err == nil {
		t.Error("lr during a race without a fresh start was accepted")
	}
	arm := head + "do.race = [\"dom\", \"bulk\"]\n[[step]]\ncaption = \"d\"\ndo.act = \"relu\"\nuntil.steps = 1\nexpect = [{metric = \"loss@dom\", below = 1}]\n"
	if _, err := Parse("x.toml", []byte(arm)); err == nil || !strings.Contains(err.Error(), "no race runs in this step") {
		t.Errorf("an arm named after a setup ended the race: %v", err)
	}
}

// Bad setup values are refused at their line and column, with the setting's own range.
func TestParseSetupErrors(t *testing.T) {
	tests := []parseErrorCase{
		{"hidden not an array", head + "do.hidden = \"16-16\"", 5, 13, "step[1].do.hidden", "expected an array of widths (hidden = [16, 16]; [] is a linear model), got a string"},
		{"hidden zero", head + "do.hidden = [16, 0]", 5, 18, "step[1].do.hidden[2]", "expected a width in [1, 100000], got 0"},
		{"hidden float", head + "do.hidden = [16, 1.5]", 5, 18, "step[1].do.hidden[2]", "expected an integer, got a float"},
		{"hidden huge", head + "do.hidden = [100001]", 5, 14, "step[1].do.hidden[1]", "expected a width in [1, 100000]"},
		{"act", head + "do.act = \"sigmoid\"", 5, 10, "step[1].do.act", "sigmoid"},
		{"act type", head + "do.act = 1", 5, 10, "step[1].do.act", "expected a string, got an integer"},
		{"loss", head + "do.loss = \"hinge\"", 5, 11, "step[1].do.loss", "hinge"},
		{"data", head + "do.data = \"spiral\"", 5, 11, "step[1].do.data", `unknown data set "spiral" (did you mean "spirals"? data sets: gaussian,`},
		{"data file", head + "do.data = \"/etc/passwd.csv\"", 5, 11, "step[1].do.data", "a lesson cannot read a CSV file"},
		{"n small", head + "do.n = 3", 5, 8, "step[1].do.n", "n: 3, want ≥ 4"},
		{"n zero", head + "do.n = 0", 5, 8, "step[1].do.n", "expected an integer in [1, 1000000000], got 0"},
		{"n float", head + "do.n = 100.0", 5, 8, "step[1].do.n", "expected an integer, got a float"},
		{"test_frac", head + "do.test_frac = 1", 5, 16, "step[1].do.test_frac", "test_frac: 1, want in [0, 1)"},
		{"test_frac nan", head + "do.test_frac = nan", 5, 16, "step[1].do.test_frac", "expected a finite number, got nan"},
		{"weight_decay", head + "do.weight_decay = -0.1", 5, 19, "step[1].do.weight_decay", "weight_decay: -0.1, want in [0, 10]"},
		{"unknown key", head + "do.hiden = [4]", 5, 4, "step[1].do.hiden", `unknown field (did you mean "hidden"? fields of do: preset, seed,`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkParseError(t, tc) })
	}
}

// show accepts the neurons view and the decision picture beside the spectrum's views.
func TestParseShowViews(t *testing.T) {
	for _, v := range []string{"density", "bars", "neurons", "picture"} {
		l, err := Parse("x.toml", []byte(head+"show = \""+v+"\""))
		if err != nil {
			t.Errorf("show = %q: %v", v, err)
			continue
		}
		if l.Steps[0].Show != v {
			t.Errorf("show = %q gave %q", v, l.Steps[0].Show)
		}
	}
	if _, err := Parse("x.toml", []byte(head+"show = \"neuron\"")); err == nil || !strings.Contains(err.Error(), `did you mean "neurons"?`) {
		t.Errorf("show = \"neuron\": %v", err)
	}
}
