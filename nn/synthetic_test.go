package nn

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

// syntheticCase builds one generator's data set from a seed.
type syntheticCase struct {
	name    string
	n       int
	d       int
	classes int // 0: regression
	out     int
	gen     func(seed uint64) Dataset
}

var syntheticCases = []syntheticCase{
	{"gaussian", 1000, 20, 10, 0, func(s uint64) Dataset { return GaussianMixture(1000, 20, 10, s) }},
	{"gaussian-odd", 103, 3, 7, 0, func(s uint64) Dataset { return GaussianMixture(103, 3, 7, s) }},
	{"moons", 301, 2, 2, 0, func(s uint64) Dataset { return TwoMoons(301, 0.1, s) }},
	{"spirals", 300, 2, 3, 0, func(s uint64) Dataset { return Spirals(300, 3, 0.05, s) }},
	{"spirals5", 502, 2, 5, 0, func(s uint64) Dataset { return Spirals(502, 5, 0.05, s) }},
	{"circles", 200, 2, 2, 0, func(s uint64) Dataset { return Circles(200, 0.05, 0.5, s) }},
	{"xor", 402, 2, 2, 0, func(s uint64) Dataset { return XOR(402, 0.25, s) }},
	{"teacher", 150, 7, 0, 3, func(s uint64) Dataset { return TeacherStudent(150, 7, 5, 3, 0.1, s) }},
}

func TestSyntheticShapesBalanceDeterminism(t *testing.T) {
	for _, c := range syntheticCases {
		t.Run(c.name, func(t *testing.T) {
			a := c.gen(1)
			if err := a.Validate(); err != nil {
				t.Fatal(err)
			}
			if a.N != c.n || a.D != c.d || a.Classes != c.classes || a.Out != c.out {
				t.Fatalf("got N=%d D=%d Classes=%d Out=%d, want %d %d %d %d", a.N, a.D, a.Classes, a.Out, c.n, c.d, c.classes, c.out)
			}
			for i, v := range a.X {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("X[%d] = %v", i, v)
				}
			}
			if c.classes > 0 {
				counts := make([]int, c.classes)
				for _, l := range a.Labels {
					counts[l]++
				}
				lo, hi := c.n/c.classes, (c.n+c.classes-1)/c.classes
				for k, m := range counts {
					if m < lo || m > hi {
						t.Errorf("class %d has %d examples, want %d..%d (counts %v)", k, m, lo, hi, counts)
					}
				}
				// Shuffled: the first tenth holds more than one class.
				first := map[int]bool{}
				for _, l := range a.Labels[:c.n/10] {
					first[l] = true
				}
				if len(first) < 2 {
					t.Errorf("first %d labels are all one class: not shuffled", c.n/10)
				}
			}
			b := c.gen(1)
			if !reflect.DeepEqual(a, b) {
				t.Error("same seed gave different data")
			}
			for i := range a.X {
				if math.Float64bits(a.X[i]) != math.Float64bits(b.X[i]) {
					t.Fatalf("same seed: X[%d] differs in its bits", i)
				}
			}
			o := c.gen(2)
			if reflect.DeepEqual(a.X, o.X) {
				t.Error("seeds 1 and 2 gave the same features")
			}
		})
	}
}

func TestSyntheticEmpty(t *testing.T) {
	for _, d := range []Dataset{
		GaussianMixture(0, 3, 2, 1), TwoMoons(0, 0.1, 1), Spirals(0, 2, 0, 1),
		Circles(0, 0, 0.5, 1), XOR(0, 0, 1), TeacherStudent(0, 2, 2, 1, 0, 1),
	} {
		if err := d.Validate(); err != nil || d.N != 0 {
			t.Errorf("%s: n=0 gave N=%d, Validate: %v", d.Name, d.N, err)
		}
	}
}

// TestGaussianMixtureNoise checks the calibration set's model: within a class the spread
// around the class's sample mean is unit-variance isotropic noise, and the class means,
// drawn from N(0, I), are far apart compared with the sampling error of a mean.
func TestGaussianMixtureNoise(t *testing.T) {
	const n, d, k = 1000, 20, 10
	ds := GaussianMixture(n, d, k, 7)
	mean := make([]float64, k*d)
	count := make([]float64, k)
	for i, c := range ds.Labels {
		count[c]++
		for j := 0; j < d; j++ {
			mean[c*d+j] += ds.X[i*d+j]
		}
	}
	for c := 0; c < k; c++ {
		for j := 0; j < d; j++ {
			mean[c*d+j] /= count[c]
		}
	}
	var ss float64
	for i, c := range ds.Labels {
		for j := 0; j < d; j++ {
			r := ds.X[i*d+j] - mean[c*d+j]
			ss += r * r
		}
	}
	// Pooled within-class variance, (n − k)·d degrees of freedom: standard error √(2/19800) ≈ 0.01.
	v := ss / float64((n-k)*d)
	if math.Abs(v-1) > 0.05 {
		t.Errorf("within-class variance %.4f, want 1 ± 0.05", v)
	}
	// Mean norm² of a class mean: E‖μ‖² = d, its sample adds d/100.
	var mm float64
	for _, m := range mean {
		mm += m * m
	}
	mm /= k
	if mm < 0.4*d || mm > 2*d {
		t.Errorf("mean ‖μ_c‖² = %.2f, want about d = %d", mm, d)
	}
}

// TestSyntheticGeometry checks the noise-free shapes against their definitions.
func TestSyntheticGeometry(t *testing.T) {
	const tol = 1e-12
	moons := TwoMoons(200, 0, 3)
	for i, c := range moons.Labels {
		x, y := moons.X[2*i], moons.X[2*i+1]
		if c == 1 { // (1 − cos t, ½ − sin t) → (cos t, sin t)
			x, y = 1-x, 0.5-y
		}
		if math.Abs(math.Hypot(x, y)-1) > tol || y < -tol {
			t.Fatalf("moons point %d (class %d) off its half circle", i, c)
		}
	}
	circles := Circles(200, 0, 0.3, 3)
	for i, c := range circles.Labels {
		want := 1.0
		if c == 1 {
			want = 0.3
		}
		if r := math.Hypot(circles.X[2*i], circles.X[2*i+1]); math.Abs(r-want) > tol {
			t.Fatalf("circles point %d (class %d) at radius %v, want %v", i, c, r, want)
		}
	}
	const arms = 4
	sp := Spirals(400, arms, 0, 3)
	for i, c := range sp.Labels {
		x, y := sp.X[2*i], sp.X[2*i+1]
		r := math.Hypot(x, y)
		theta := 2*math.Pi*float64(c)/arms + 2*math.Pi*spiralTurns*r
		if r > 1 || math.Abs(x-r*math.Cos(theta)) > 1e-9 || math.Abs(y-r*math.Sin(theta)) > 1e-9 {
			t.Fatalf("spiral point %d (arm %d) = (%v, %v) off its arm", i, c, x, y)
		}
	}
	xor := XOR(400, 0, 3)
	for i, c := range xor.Labels {
		x, y := xor.X[2*i], xor.X[2*i+1]
		if math.Abs(x) != 1 || math.Abs(y) != 1 || (x*y < 0) != (c == 1) {
			t.Fatalf("xor point %d = (%v, %v) with class %d", i, x, y, c)
		}
	}
}

// TestTeacherStudentNoise: the same seed with and without noise gives the same inputs, and
// the targets differ by noise·ε with ε ~ N(0, 1).
func TestTeacherStudentNoise(t *testing.T) {
	const n, out, sigma = 2000, 2, 0.3
	clean := TeacherStudent(n, 5, 8, out, 0, 11)
	noisy := TeacherStudent(n, 5, 8, out, sigma, 11)
	if !reflect.DeepEqual(clean.X, noisy.X) {
		t.Fatal("noise changed the inputs")
	}
	var ss, yy float64
	for i := range clean.Y {
		r := noisy.Y[i] - clean.Y[i]
		ss += r * r
		yy += clean.Y[i] * clean.Y[i]
	}
	// Standard error of the sample std over 4000 draws ≈ σ/√8000 ≈ 0.0034.
	if std := math.Sqrt(ss / float64(n*out)); math.Abs(std-sigma) > 0.02 {
		t.Errorf("noise std %.4f, want %v", std, sigma)
	}
	if rms := math.Sqrt(yy / float64(n*out)); rms < 0.1 || rms > 5 {
		t.Errorf("teacher output rms %.3f: not of order one", rms)
	}
}

func TestSyntheticByName(t *testing.T) {
	for _, name := range syntheticNames {
		d, err := Synthetic(name, 60, 5)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := d.Validate(); err != nil || d.N != 60 {
			t.Fatalf("%s: N=%d, Validate: %v", name, d.N, err)
		}
	}
	d, err := Synthetic(" Mixture ", 1000, 0)
	if err != nil || d.D != 20 || d.Classes != 10 {
		t.Fatalf("Mixture: D=%d Classes=%d err=%v, want the 20-dimensional 10-class calibration set", d.D, d.Classes, err)
	}
	if !reflect.DeepEqual(d, GaussianMixture(1000, 20, 10, 0)) {
		t.Error("Synthetic(mixture) differs from GaussianMixture(n, 20, 10, seed)")
	}
	_, err = Synthetic("mnist", 10, 1)
	if err == nil || !strings.Contains(err.Error(), `"mnist"`) || !strings.Contains(err.Error(), "moons, spirals") {
		t.Errorf("unknown name: error %v should name it and list the choices", err)
	}
	if _, err := Synthetic("moons", 0, 1); err == nil {
		t.Error("n=0: no error")
	}
}

// TestSyntheticNoiseDefaultIsSynthetic checks that each set's default σ gives Synthetic's
// data bit for bit, and that Synthetic is the generator with the parameters its doc lists
// (written out here as the reference).
func TestSyntheticNoiseDefaultIsSynthetic(t *testing.T) {
	const n, seed = 97, 4
	reference := map[string]Dataset{
		"gaussian": GaussianMixture(n, 20, 10, seed),
		"mixture":  GaussianMixture(n, 20, 10, seed),
		"moons":    TwoMoons(n, 0.1, seed),
		"spirals":  Spirals(n, 3, 0.05, seed),
		"circles":  Circles(n, 0.05, 0.5, seed),
		"xor":      XOR(n, 0.25, seed),
		"teacher":  TeacherStudent(n, 20, 16, 1, 0.1, seed),
	}
	for _, name := range syntheticNames {
		sigma, ok := SyntheticNoiseDefault(name)
		if !ok {
			t.Fatalf("%s: no default noise", name)
		}
		d, err := SyntheticNoise(name, n, sigma, seed)
		if err != nil {
			t.Fatal(err)
		}
		old, _ := Synthetic(name, n, seed)
		if !reflect.DeepEqual(d, old) || !reflect.DeepEqual(d, reference[name]) {
			t.Errorf("%s: SyntheticNoise(σ=%v) differs from Synthetic or from its documented generator", name, sigma)
		}
	}
	if _, ok := SyntheticNoiseDefault("mnist"); ok {
		t.Error("mnist has a default noise")
	}
}

// TestSyntheticNoiseZeroSpirals checks that σ = 0 puts every spiral point on its arm: the
// point at radius r of arm k is r(cos θ, sin θ) with θ = 2πk/3 + 2π·1.5·r (the hand formula
// of Spirals' doc).
func TestSyntheticNoiseZeroSpirals(t *testing.T) {
	d, err := SyntheticNoise("spirals", 500, 0, 8)
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range d.Labels {
		x, y := d.X[2*i], d.X[2*i+1]
		r := math.Hypot(x, y)
		theta := 2*math.Pi*float64(k)/3 + 2*math.Pi*1.5*r
		if math.Abs(x-r*math.Cos(theta)) > 1e-12 || math.Abs(y-r*math.Sin(theta)) > 1e-12 {
			t.Fatalf("point %d (%g, %g) of arm %d is off the arm: want (%g, %g)", i, x, y, k, r*math.Cos(theta), r*math.Sin(theta))
		}
	}
}

// TestSyntheticNoiseSigma measures σ from the residuals: with the same seed every set draws
// the same positions whatever σ is, so the data with σ minus the data with σ = 0 is σ·ε, ε
// standard normal. Over 2·10⁴ coordinates the sample standard deviation is within about
// 0.5% of σ (standard error σ/√(2m)); 3% is far outside chance.
func TestSyntheticNoiseSigma(t *testing.T) {
	for _, c := range []struct {
		name  string
		sigma float64
	}{{"spirals", 0.2}, {"moons", 0.3}, {"circles", 0.15}, {"xor", 0.5}, {"gaussian", 0.4}, {"teacher", 0.25}} {
		const n = 10000
		noisy, err := SyntheticNoise(c.name, n, c.sigma, 2)
		if err != nil {
			t.Fatal(err)
		}
		clean, _ := SyntheticNoise(c.name, n, 0, 2)
		a, b := noisy.X, clean.X
		if noisy.Classes == 0 {
			a, b = noisy.Y, clean.Y
		} else if !reflect.DeepEqual(noisy.Labels, clean.Labels) {
			t.Fatalf("%s: the labels depend on σ", c.name)
		}
		ss := 0.0
		for i := range a {
			r := a[i] - b[i]
			ss += r * r
		}
		if got := math.Sqrt(ss / float64(len(a))); math.Abs(got-c.sigma) > 0.03*c.sigma {
			t.Errorf("%s: σ measured from residuals %.4f, want %v ± 3%%", c.name, got, c.sigma)
		}
	}
}

func TestSyntheticNoiseBad(t *testing.T) {
	for _, sigma := range []float64{-0.1, math.NaN(), math.Inf(1)} {
		_, err := SyntheticNoise("moons", 10, sigma, 1)
		if err == nil || !strings.Contains(err.Error(), "noise") || !strings.Contains(err.Error(), "≥ 0") {
			t.Errorf("σ=%v: error %v, want one naming the noise and what is allowed", sigma, err)
		}
	}
	if _, err := SyntheticNoise("mnist", 10, 0.1, 1); err == nil || !strings.Contains(err.Error(), "moons, spirals") {
		t.Errorf("unknown name: error %v", err)
	}
}

func TestSyntheticBadArgumentsPanic(t *testing.T) {
	for name, f := range map[string]func(){
		"n<0":        func() { TwoMoons(-1, 0, 1) },
		"noise<0":    func() { XOR(10, -1, 1) },
		"noise NaN":  func() { Spirals(10, 2, math.NaN(), 1) },
		"classes=0":  func() { GaussianMixture(10, 2, 0, 1) },
		"d=0":        func() { GaussianMixture(10, 0, 2, 1) },
		"arms=0":     func() { Spirals(10, 0, 0, 1) },
		"factor=1":   func() { Circles(10, 0, 1, 1) },
		"hidden=0":   func() { TeacherStudent(10, 2, 0, 1, 0, 1) },
		"out=0":      func() { TeacherStudent(10, 2, 2, 0, 0, 1) },
		"noise=+Inf": func() { Circles(10, math.Inf(1), 0.5, 1) },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("%s: no panic", name)
				} else if !strings.HasPrefix(fmt.Sprint(r), "nn: ") {
					t.Errorf("%s: panic %q lacks the nn: prefix", name, r)
				}
			}()
			f()
		}()
	}
}

func ExampleSynthetic() {
	d, err := Synthetic("gaussian", 1000, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Name, d.N, d.D, d.Classes)
	_, err = Synthetic("swiss-roll", 100, 1)
	fmt.Println(err)
	// Output:
	// gaussian 1000 20 10
	// unknown synthetic data set "swiss-roll" (want one of: gaussian, mixture, moons, spirals, circles, xor, teacher)
}

func ExampleSyntheticNoise() {
	sigma, _ := SyntheticNoiseDefault("moons")
	d, _ := SyntheticNoise("moons", 4, sigma, 1)
	same, _ := Synthetic("moons", 4, 1)
	fmt.Println(sigma, reflect.DeepEqual(d, same))
	clean, _ := SyntheticNoise("circles", 3, 0, 1)
	for i := range clean.N { // σ = 0: on the circles of radius 1 and 0.5
		fmt.Printf("class %d radius %.3f\n", clean.Labels[i], math.Hypot(clean.X[2*i], clean.X[2*i+1]))
	}
	// Output:
	// 0.1 true
	// class 0 radius 1.000
	// class 0 radius 1.000
	// class 1 radius 0.500
}
