package train

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

// Unset and an explicit 0 are different settings, in text and in JSON.
func TestNoiseUnsetAndZero(t *testing.T) {
	var unset Noise
	zero := NoiseOf(0)
	if s, set := unset.Sigma(); set || s != 0 || !unset.IsZero() {
		t.Errorf("unset: Sigma %v %v, IsZero %v", s, set, unset.IsZero())
	}
	if s, set := zero.Sigma(); !set || s != 0 || zero.IsZero() {
		t.Errorf("NoiseOf(0): Sigma %v %v, IsZero %v", s, set, zero.IsZero())
	}
	if unset.String() != "default" || zero.String() != "0" || NoiseOf(0.125).String() != "0.125" {
		t.Errorf("texts %q %q %q", unset, zero, NoiseOf(0.125))
	}
	for text, want := range map[string]Noise{"default": {}, "": {}, " Default ": {}, "0": zero, "0.3": NoiseOf(0.3), "10": NoiseOf(10)} {
		n := NoiseOf(7)
		if err := n.UnmarshalText([]byte(text)); err != nil || n != want {
			t.Errorf("%q reads as %v (%v), want %v", text, n, err, want)
		}
	}
	for js, want := range map[string]Noise{"0": zero, "0.05": NoiseOf(0.05), "null": {}, `"default"`: {}, `"0.2"`: NoiseOf(0.2)} {
		var n Noise
		if err := json.Unmarshal([]byte(js), &n); err != nil || n != want {
			t.Errorf("JSON %s reads as %v (%v), want %v", js, n, err, want)
		}
	}
	if b, _ := json.Marshal(NoiseOf(0.05)); string(b) != "0.05" {
		t.Errorf("JSON of 0.05: %s, want a number", b)
	}
}

func TestNoiseErrors(t *testing.T) {
	for text, want := range map[string]string{
		"-0.1":  "σ = -0.1: want 0…10",
		"11":    "σ = 11: want 0…10",
		"NaN":   "σ = NaN: want 0…10",
		"+Inf":  "σ = +Inf: want 0…10",
		"lots":  `"lots" is not a number: want σ ≥ 0`,
		"0.1.2": `"0.1.2" is not a number: want σ ≥ 0`,
	} {
		var n Noise
		if err := n.UnmarshalText([]byte(text)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", text, err, want)
		}
	}
	c := small()
	c.Noise = NoiseOf(-1) // set in code, not parsed: Validate still refuses it
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "noise: σ = -1: want 0…10") {
		t.Errorf("NoiseOf(-1): Validate says %v", err)
	}
	for _, data := range []string{"mnist", "mnist5k", "some/file.csv"} {
		c := small()
		c.Data, c.Noise = data, NoiseOf(0.1)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), "noise: 0.1, but data "+data+" has no noise setting") || !strings.Contains(err.Error(), "gaussian, moons, spirals") {
			t.Errorf("%s: error %v, want one naming the noise, the data and the sets that have it", data, err)
		}
	}
}

// The defaults are the sets' own σ (the values of nn.Synthetic's doc); MNIST and files have none.
func TestDefaultNoise(t *testing.T) {
	want := map[string]float64{"gaussian": 1, "moons": 0.1, "spirals": 0.05, "circles": 0.05, "xor": 0.25, "teacher": 0.1}
	for _, name := range DataSets() {
		s, ok := DefaultNoise(name)
		w, has := want[name]
		if ok != has || s != w {
			t.Errorf("%s: DefaultNoise %v %v, want %v %v", name, s, ok, w, has)
		}
	}
	if _, ok := DefaultNoise("x.csv"); ok {
		t.Error("a CSV file has a default noise")
	}
	if got := DataSets(); !reflect.DeepEqual(got, []string{"gaussian", "moons", "spirals", "circles", "xor", "teacher", "mnist", "mnist14", "mnist5k"}) {
		t.Errorf("DataSets() = %v", got)
	}
}

// The noise reaches the data: an explicit default gives the default's bytes, σ = 0 puts the
// spirals on their arms (the hand formula of nn.Spirals: arm k at radius r has angle
// 2πk/3 + 3πr), and a larger σ moves the points off them.
func TestNoiseReachesTheData(t *testing.T) {
	c := small()
	c.Data = "spirals"
	def, defTest, _, err := RunData(&c)
	if err != nil {
		t.Fatal(err)
	}
	c.Noise = NoiseOf(0.05)
	same, sameTest, _, _ := RunData(&c)
	if !reflect.DeepEqual(def, same) || !reflect.DeepEqual(defTest, sameTest) {
		t.Error("noise 0.05 (spirals' default) changes the data")
	}
	off := func(x, y float64, k int) float64 {
		r := math.Hypot(x, y)
		th := 2*math.Pi*float64(k)/3 + 3*math.Pi*r
		return math.Hypot(x-r*math.Cos(th), y-r*math.Sin(th))
	}
	for _, sigma := range []float64{0, 0.3} {
		c.Noise = NoiseOf(sigma)
		tr, te, _, err := RunData(&c)
		if err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for _, d := range []struct {
			x      []float64
			labels []int
		}{{tr.X, tr.Labels}, {te.X, te.Labels}} {
			for i, k := range d.labels {
				worst = math.Max(worst, off(d.x[2*i], d.x[2*i+1], k))
			}
		}
		if sigma == 0 && worst > 1e-12 {
			t.Errorf("σ = 0: a point is %g off its arm", worst)
		}
		if sigma > 0 && worst < 0.1 {
			t.Errorf("σ = %v: every point within %g of its arm", sigma, worst)
		}
	}
}
