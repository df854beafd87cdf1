package train

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestFeatureNames(t *testing.T) {
	var tokens, labels []string
	for _, f := range AllFeatures() {
		tokens, labels = append(tokens, f.String()), append(labels, f.Label())
	}
	if want := []string{"x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"}; !reflect.DeepEqual(tokens, want) {
		t.Errorf("tokens %v, want %v", tokens, want)
	}
	if want := []string{"x₁", "x₂", "x₁²", "x₂²", "x₁x₂", "sin x₁", "sin x₂"}; !reflect.DeepEqual(labels, want) {
		t.Errorf("labels %v, want %v", labels, want)
	}
}

// Every way of writing {x₁, x₂} is the zero value; every non-empty set reads back from its text.
func TestFeatureSetDefaultAndRoundTrip(t *testing.T) {
	var s FeatureSet
	for _, text := range []string{"x1,x2", "x2,x1", " X1 , x2 "} {
		if err := s.UnmarshalText([]byte(text)); err != nil || !s.IsZero() {
			t.Errorf("%q: %v, IsZero %v: want the zero value", text, err, s.IsZero())
		}
	}
	if FeaturesOf(X2, X1) != 0 || FeatureSet(0).With(X1, false).With(X1, true) != 0 {
		t.Error("{x1, x2} built by FeaturesOf or With is not the zero value")
	}
	if b, _ := FeatureSet(0).MarshalText(); string(b) != "x1,x2" || FeatureSet(0).Width() != 2 {
		t.Errorf("the default writes %q, width %d", b, FeatureSet(0).Width())
	}
	if e := FeatureSet(0).With(X1, false).With(X2, false); len(e.List()) != 0 {
		t.Errorf("removing both: %v, want the empty set", e.List())
	}
	for bits := 1; bits < 1<<7; bits++ {
		var fs []Feature
		for f := range 7 {
			if bits&(1<<f) != 0 {
				fs = append(fs, Feature(f))
			}
		}
		s := FeaturesOf(fs...)
		if !reflect.DeepEqual(s.List(), fs) {
			t.Fatalf("FeaturesOf(%v).List() = %v", fs, s.List())
		}
		text, _ := s.MarshalText()
		var back FeatureSet
		if err := back.UnmarshalText(text); err != nil || back != s {
			t.Fatalf("%v: %q reads back as %v (%v)", fs, text, back.List(), err)
		}
	}
	if got := FeaturesOf(X1X2, X1).String(); got != "x1,x1x2" {
		t.Errorf("{x1x2, x1} writes %q, want x1,x1x2 (in order)", got)
	}
}

func TestFeatureSetErrors(t *testing.T) {
	for text, want := range map[string][]string{
		"":         {"no features", "x1, x2, x1sq"},
		"x1,x3":    {`"x3"`, "valid: x1, x2, x1sq, x2sq, x1x2, sinx1, sinx2"},
		"x1,x1":    {"x1 given twice"},
		"x1,,x2":   {`""`, "valid:"},
		"cos x1":   {`"cos x1"`, "valid:"},
		"x1x2,x1,": {"valid:"},
	} {
		var s FeatureSet
		err := s.UnmarshalText([]byte(text))
		for _, w := range want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%q: error %v, want it to say %q", text, err, w)
			}
		}
	}
}

// The transformed columns are the hand formulas of the raw points, and the network reads
// len(List()) inputs.
func TestFeaturesTransformColumns(t *testing.T) {
	c := small()
	c.Data, c.Hidden = "spirals", []int{8}
	raw, rawTest, err := PlaneData(&c)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"x1,x2,x1sq,x2sq,x1x2,sinx1,sinx2", "x1x2", "sinx2,x1sq"} {
		if err := SetField(&c, "features", text); err != nil {
			t.Fatal(err)
		}
		tr, te, _, err := RunData(&c)
		if err != nil {
			t.Fatal(err)
		}
		w := len(c.Features.List())
		if tr.D != w || te.D != w || tr.N != raw.N || te.N != rawTest.N {
			t.Fatalf("%s: D %d/%d N %d/%d, want D %d and the raw sizes %d/%d", text, tr.D, te.D, tr.N, te.N, w, raw.N, rawTest.N)
		}
		hand := map[string]func(x1, x2 float64) float64{
			"x1": func(x1, x2 float64) float64 { return x1 }, "x2": func(x1, x2 float64) float64 { return x2 },
			"x1sq": func(x1, x2 float64) float64 { return x1 * x1 }, "x2sq": func(x1, x2 float64) float64 { return x2 * x2 },
			"x1x2": func(x1, x2 float64) float64 { return x1 * x2 }, "sinx1": func(x1, x2 float64) float64 { return math.Sin(x1) },
			"sinx2": func(x1, x2 float64) float64 { return math.Sin(x2) },
		}
		order := []string{}
		for _, tok := range []string{"x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"} {
			if strings.Contains(","+text+",", ","+tok+",") {
				order = append(order, tok)
			}
		}
		for _, i := range []int{0, 1, 17, tr.N - 1} {
			x1, x2 := raw.X[2*i], raw.X[2*i+1]
			for j, tok := range order {
				if got, want := tr.X[i*w+j], hand[tok](x1, x2); got != want {
					t.Errorf("%s: example %d column %d (%s) = %g, want %g at (%g, %g)", text, i, j, tok, got, want, x1, x2)
				}
			}
			if tr.Labels[i] != raw.Labels[i] {
				t.Errorf("%s: example %d's label changed", text, i)
			}
		}
		x1, x2 := rawTest.X[0], rawTest.X[1]
		if got, want := te.X[w-1], hand[order[w-1]](x1, x2); got != want {
			t.Errorf("%s: the test set's first example, last column = %g, want %g", text, got, want)
		}
		tn, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		if in := tn.Model().Widths[0]; in != w {
			t.Errorf("%s: the network reads %d inputs, want %d", text, in, w)
		}
	}
}

// Features need 2-D data: mnist, the mixture and a 3-column CSV are refused, a 2-column CSV is
// not; the empty set is refused.
func TestFeaturesRefused(t *testing.T) {
	for _, data := range []string{"mnist", "mnist14", "gaussian", "teacher"} {
		c := small()
		c.Data = data
		c.Features = FeaturesOf(X1, X1X2)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), "features: x1,x1x2 need 2-D data") || !strings.Contains(err.Error(), "data "+data+" has") {
			t.Errorf("%s: error %v, want one naming the features, the data and its width", data, err)
		}
		if _, err := ConfigFootprint(&c); err == nil {
			t.Errorf("%s: ConfigFootprint accepts features", data)
		}
	}
	dir := t.TempDir()
	two := filepath.Join(dir, "two.csv")
	three := filepath.Join(dir, "three.csv")
	var b2, b3 strings.Builder
	b2.WriteString("a,b,label\n")
	b3.WriteString("a,b,c,label\n")
	for i := range 40 {
		x, y := float64(i%7)/7, float64(i%5)/5
		b2.WriteString(strings.Join([]string{strconv.FormatFloat(x, 'g', -1, 64), strconv.FormatFloat(y, 'g', -1, 64), strconv.Itoa(i % 2)}, ",") + "\n")
		b3.WriteString(strings.Join([]string{strconv.FormatFloat(x, 'g', -1, 64), strconv.FormatFloat(y, 'g', -1, 64), strconv.FormatFloat(x+y, 'g', -1, 64), strconv.Itoa(i % 2)}, ",") + "\n")
	}
	os.WriteFile(two, []byte(b2.String()), 0o644)
	os.WriteFile(three, []byte(b3.String()), 0o644)
	c := small()
	c.Data, c.HessianSet, c.Batch, c.Features = three, 0, 0, FeaturesOf(X1X2)
	if _, err := New(c); err == nil || !strings.Contains(err.Error(), "has 3 inputs") {
		t.Errorf("3-column CSV: error %v, want features refused", err)
	}
	if _, err := ConfigFootprint(&c); err == nil || !strings.Contains(err.Error(), "has 3 inputs") {
		t.Errorf("3-column CSV: ConfigFootprint error %v, want features refused", err)
	}
	c.Data = two
	tr, err := New(c)
	if err != nil {
		t.Fatalf("2-column CSV: %v", err)
	}
	if train, _, _ := tr.Data(); train.D != 1 {
		t.Errorf("2-column CSV with x1x2: D = %d, want 1", train.D)
	}
	c.Features = FeatureSet(0).With(X1, false).With(X2, false)
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "features: no features chosen") {
		t.Errorf("empty set: %v", err)
	}
}

// Both settings go through flags, config.json and checkpoints; a config without them writes
// neither, and its checkpoint does not name them.
func TestFeaturesNoiseRoundTrip(t *testing.T) {
	c := small()
	c.Data = "moons"
	plain := c
	if err := SetField(&c, "features", "x1x2,x1,sinx2"); err != nil {
		t.Fatal(err)
	}
	if err := SetField(&c, "noise", "0"); err != nil {
		t.Fatal(err)
	}
	if c.Features != FeaturesOf(X1, X1X2, SinX2) || c.Noise != NoiseOf(0) {
		t.Fatalf("flags gave features %v noise %v", c.Features.List(), c.Noise)
	}
	raw, _ := json.MarshalIndent(c, "", "  ")
	if !bytes.Contains(raw, []byte(`"features": "x1,x1x2,sinx2"`)) || !bytes.Contains(raw, []byte(`"noise": 0,`)) {
		t.Errorf("config.json:\n%s", raw)
	}
	back, err := ParseConfig(raw)
	if err != nil || !reflect.DeepEqual(back, c) {
		t.Errorf("config.json reads back as %+v (%v), want %+v", back, err, c)
	}
	plainJSON, _ := json.MarshalIndent(plain, "", "  ")
	if bytes.Contains(plainJSON, []byte("features")) || bytes.Contains(plainJSON, []byte("noise")) {
		t.Errorf("a config without the settings writes them:\n%s", plainJSON)
	}
	for _, cfg := range []Config{c, plain} {
		tr, _ := run(t, cfg, 2)
		var b bytes.Buffer
		if _, err := tr.Save(WhyResume).WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		named := bytes.Contains(b.Bytes(), []byte("features")) || bytes.Contains(b.Bytes(), []byte("noise"))
		cp, err := ReadCheckpoint(&b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(cp.Config, cfg) {
			t.Errorf("checkpoint read back %+v, want %+v", cp.Config, cfg)
		}
		if named != !cfg.Features.IsZero() {
			t.Errorf("features %v: the checkpoint names the later settings: %v", cfg.Features, named)
		}
		if cp.Config.Fingerprint() != cfg.Fingerprint() {
			t.Error("the fingerprint changes through a checkpoint")
		}
	}
	if plain.Fingerprint() == c.Fingerprint() {
		t.Error("features and noise do not change the fingerprint")
	}
}
