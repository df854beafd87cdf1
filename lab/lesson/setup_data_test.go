package lesson

import (
	"reflect"
	"testing"

	"sharpflat/lab/train"
)

// noise and features are setup keys: a σ or "default", and an array of feature names; they
// apply as --noise and --features do.
func TestParseSetupNoiseFeatures(t *testing.T) {
	if got := SetupKeys(); !reflect.DeepEqual(got, []string{"hidden", "act", "loss", "data", "n", "test_frac", "weight_decay", "noise", "features"}) {
		t.Errorf("SetupKeys() = %q", got)
	}
	doc := head + "do = { data = \"moons\", noise = 0.2, features = [\"x1\", \"x2\", \"x1x2\"] }\n[[step]]\ncaption = \"d\"\ndo.noise = \"default\"\n"
	l, err := Parse("x.toml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := []Setting{{"data", "moons"}, {"noise", "0.2"}, {"features", "x1,x2,x1x2"}}
	if got := l.Steps[0].Do.Setup; !reflect.DeepEqual(got, want) {
		t.Errorf("setup %q, want %q", got, want)
	}
	if got := l.Steps[1].Do.Setup; !reflect.DeepEqual(got, []Setting{{"noise", "default"}}) {
		t.Errorf("second step's setup %q", got)
	}
	got, _ := train.Preset("eos")
	for _, s := range l.Steps[0].Do.Setup {
		if err := s.Apply(&got); err != nil {
			t.Fatal(err)
		}
	}
	flags, _ := train.Preset("eos")
	for _, kv := range [][2]string{{"data", "moons"}, {"noise", "0.2"}, {"features", "x1,x2,x1x2"}} {
		if err := train.SetField(&flags, kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(got, flags) {
		t.Errorf("the setup applied: %+v\nthe flags: %+v", got, flags)
	}
	if !reflect.DeepEqual(got.Noise, train.NoiseOf(0.2)) {
		t.Errorf("noise %v, want σ = 0.2", got.Noise)
	}
	if s := got.Features.String(); s != "x1,x2,x1x2" {
		t.Errorf("features %q", s)
	}
	// Features on 2-D data are fine: the 2-D data may come in the same step.
	if _, err := Parse("x.toml", []byte(head+"do = { data = \"xor\", features = [\"x1x2\"] }")); err != nil {
		t.Errorf("features with 2-D data: %v", err)
	}
	// A preset in the step starts the setup in force afresh: noise is refused only while
	// MNIST is in force.
	ok := head + "do.data = \"mnist\"\n[[step]]\ncaption = \"d\"\ndo = { preset = \"moons\", noise = 0.3 }"
	if _, err := Parse("x.toml", []byte(ok)); err != nil {
		t.Errorf("noise after a preset of 2-D data: %v", err)
	}
}

// Bad noise and features values are refused at their line and column; noise with a data
// set that has none is refused for the setup in force, not for the key alone.
func TestParseSetupNoiseFeaturesErrors(t *testing.T) {
	tests := []parseErrorCase{
		{"noise negative", head + "do.noise = -1", 5, 12, "step[1].do.noise", "σ = -1: want 0…10"},
		{"noise word", head + "do.noise = \"none\"", 5, 12, "step[1].do.noise", `expected a number, or "default" (the data set's own), got "none"`},
		{"noise bool", head + "do.noise = true", 5, 12, "step[1].do.noise", "expected a number, got a boolean"},
		{"features empty", head + "do.features = []", 5, 15, "step[1].do.features", "expected at least one name"},
		{"features unknown", head + "do.features = [\"x1\", \"x3\"]", 5, 15, "step[1].do.features", "x3"},
		{"features twice", head + "do.features = [\"x1\", \"x1\"]", 5, 22, "step[1].do.features[2]", `"x1" is item 1 again`},
		{"features comma", head + "do.features = [\"x1,x2\"]", 5, 16, "step[1].do.features[1]", `expected one name, got "x1,x2"`},
		{"features string", head + "do.features = \"x1,x2\"", 5, 15, "step[1].do.features", "expected an array of names"},
		{"noise on mnist", head + "do = { data = \"mnist14\", noise = 0.1 }", 5, 34, "step[1].do.noise", "the setup in force would be invalid: noise: 0.1, but data mnist14 has no noise setting"},
		{"features on gaussian", head + "do.features = [\"x1\", \"x1x2\"]", 5, 15, "step[1].do.features", "the setup in force would be invalid:"},
		{"noise then mnist", head + "do.noise = 0.1\n[[step]]\ncaption = \"d\"\ndo.data = \"mnist\"", 8, 11, "step[2].do.data", "data mnist has no noise setting"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkParseError(t, tc) })
	}
}
