// Seeded synthetic data sets.
//
// Every generator draws from its own math/rand/v2 PCG stream seeded with (seed, a constant
// per generator), so the same arguments give bit-identical data on one platform, and the same
// seed given to two different generators does not give correlated streams.
//
// Classification sets have balanced labels: the class counts differ by at most one, and the
// order of the examples is shuffled (no sorted blocks of one class). Sizes and shapes that make
// no sense (n < 0, d < 1, noise < 0, ...) are programming errors and panic; Synthetic, which
// takes its arguments from users, checks them and returns an error instead.
//
//	GaussianMixture  D=d, Classes=classes   x = μ_c + ε,  μ_c ~ N(0, I_d),  ε ~ N(0, I_d)
//	TwoMoons         D=2, Classes=2         two interleaved half circles (as scikit-learn)
//	Spirals          D=2, Classes=arms      arms of an Archimedean spiral, 1.5 turns
//	Circles          D=2, Classes=2         radius 1 (class 0) around radius factor (class 1)
//	XOR              D=2, Classes=2         blobs at (±1, ±1), class = [x₁x₂ < 0]
//	TeacherStudent   D=d, Out=out           y = W₂ tanh(W₁x + b₁) + b₂ + noise·ε

package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// PCG stream constants, one per generator.
const (
	streamGaussian = 0x6a09e667f3bcc908
	streamMoons    = 0xbb67ae8584caa73b
	streamSpirals  = 0x3c6ef372fe94f82b
	streamCircles  = 0xa54ff53a5f1d36f1
	streamXOR      = 0x510e527fade682d1
	streamTeacher  = 0x9b05688c2b3e6c1f
)

func syntheticRand(seed, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, stream))
}

func checkSynthetic(fn string, n int, noise float64) {
	if n < 0 {
		panic(fmt.Sprintf("nn: %s: n=%d must be >= 0", fn, n))
	}
	if !(noise >= 0) || math.IsInf(noise, 0) {
		panic(fmt.Sprintf("nn: %s: noise=%v must be finite and >= 0", fn, noise))
	}
}

// balancedLabels returns n labels in [0, classes), each class occurring ⌊n/classes⌋ or
// ⌈n/classes⌉ times, in a random order.
func balancedLabels(rng *rand.Rand, n, classes int) []int {
	labels := make([]int, n)
	for i, p := range rng.Perm(n) {
		labels[i] = p % classes
	}
	return labels
}

// GaussianMixture returns n examples in d dimensions from classes Gaussian blobs: the class
// means are drawn once from N(0, I_d) and every example is its class mean plus N(0, I_d)
// noise. With n=1000, d=20, classes=10 this is the calibration set of docs/SCIENCE.md.
func GaussianMixture(n, d, classes int, seed uint64) Dataset {
	return GaussianMixtureSpread(n, d, classes, 1, seed)
}

// GaussianMixtureSpread is GaussianMixture with within-class noise N(0, σ² I_d): the class
// means stay N(0, I_d), so σ sets how much the blobs overlap. σ = 1 is GaussianMixture, draw
// for draw (1·ε is ε exactly).
func GaussianMixtureSpread(n, d, classes int, sigma float64, seed uint64) Dataset {
	checkSynthetic("GaussianMixture", n, sigma)
	if d < 1 || classes < 1 {
		panic(fmt.Sprintf("nn: GaussianMixture: d=%d and classes=%d must be >= 1", d, classes))
	}
	rng := syntheticRand(seed, streamGaussian)
	means := make([]float64, classes*d) // (classes, d)
	for i := range means {
		means[i] = rng.NormFloat64()
	}
	labels := balancedLabels(rng, n, classes)
	x := make([]float64, n*d) // (n, d)
	for i, c := range labels {
		mu := means[c*d : (c+1)*d]
		row := x[i*d : (i+1)*d]
		for j := range row {
			row[j] = mu[j] + sigma*rng.NormFloat64()
		}
	}
	return Dataset{Name: "gaussian", N: n, D: d, X: x, Classes: classes, Labels: labels}
}

// TwoMoons returns n points of two interleaving half circles, as scikit-learn's make_moons:
// class 0 on (cos t, sin t), class 1 on (1 − cos t, ½ − sin t), t uniform in [0, π], plus
// N(0, noise²) on each coordinate.
func TwoMoons(n int, noise float64, seed uint64) Dataset {
	checkSynthetic("TwoMoons", n, noise)
	rng := syntheticRand(seed, streamMoons)
	labels := balancedLabels(rng, n, 2)
	x := make([]float64, 2*n)
	for i, c := range labels {
		t := math.Pi * rng.Float64()
		s, co := math.Sincos(t)
		if c == 0 {
			x[2*i], x[2*i+1] = co, s
		} else {
			x[2*i], x[2*i+1] = 1-co, 0.5-s
		}
		x[2*i] += noise * rng.NormFloat64()
		x[2*i+1] += noise * rng.NormFloat64()
	}
	return Dataset{Name: "moons", N: n, D: 2, X: x, Classes: 2, Labels: labels}
}

// spiralTurns is how many times each arm of Spirals winds around the origin.
const spiralTurns = 1.5

// Spirals returns n points on arms interleaved Archimedean spirals, one class per arm:
// arm k at radius r ~ U(0, 1) has angle 2πk/arms + 2π·1.5·r, plus N(0, noise²) on each
// coordinate. Neighbouring arms are 1/(1.5·arms) apart along a ray.
func Spirals(n, arms int, noise float64, seed uint64) Dataset {
	checkSynthetic("Spirals", n, noise)
	if arms < 1 {
		panic(fmt.Sprintf("nn: Spirals: arms=%d must be >= 1", arms))
	}
	rng := syntheticRand(seed, streamSpirals)
	labels := balancedLabels(rng, n, arms)
	x := make([]float64, 2*n)
	for i, c := range labels {
		r := rng.Float64()
		theta := 2*math.Pi*float64(c)/float64(arms) + 2*math.Pi*spiralTurns*r
		s, co := math.Sincos(theta)
		x[2*i] = r*co + noise*rng.NormFloat64()
		x[2*i+1] = r*s + noise*rng.NormFloat64()
	}
	return Dataset{Name: "spirals", N: n, D: 2, X: x, Classes: arms, Labels: labels}
}

// Circles returns n points on two concentric circles, as scikit-learn's make_circles:
// class 0 on the unit circle, class 1 on the circle of radius factor ∈ [0, 1), angles
// uniform, plus N(0, noise²) on each coordinate.
func Circles(n int, noise, factor float64, seed uint64) Dataset {
	checkSynthetic("Circles", n, noise)
	if !(factor >= 0 && factor < 1) {
		panic(fmt.Sprintf("nn: Circles: factor=%v must be in [0, 1)", factor))
	}
	rng := syntheticRand(seed, streamCircles)
	labels := balancedLabels(rng, n, 2)
	x := make([]float64, 2*n)
	for i, c := range labels {
		r := 1.0
		if c == 1 {
			r = factor
		}
		s, co := math.Sincos(2 * math.Pi * rng.Float64())
		x[2*i] = r*co + noise*rng.NormFloat64()
		x[2*i+1] = r*s + noise*rng.NormFloat64()
	}
	return Dataset{Name: "circles", N: n, D: 2, X: x, Classes: 2, Labels: labels}
}

// XOR returns n points in four Gaussian blobs of standard deviation noise centred at
// (±1, ±1): class 0 for the blobs at (−1, −1) and (1, 1), class 1 for (−1, 1) and (1, −1).
// The four blobs get n/4 points each (±1).
func XOR(n int, noise float64, seed uint64) Dataset {
	checkSynthetic("XOR", n, noise)
	rng := syntheticRand(seed, streamXOR)
	// Quadrant q = 0..3 walks (−1,−1), (−1,1), (1,1), (1,−1); its class is q mod 2.
	quad := balancedLabels(rng, n, 4)
	cx := [4]float64{-1, -1, 1, 1}
	cy := [4]float64{-1, 1, 1, -1}
	x := make([]float64, 2*n)
	labels := make([]int, n)
	for i, q := range quad {
		labels[i] = q % 2
		x[2*i] = cx[q] + noise*rng.NormFloat64()
		x[2*i+1] = cy[q] + noise*rng.NormFloat64()
	}
	return Dataset{Name: "xor", N: n, D: 2, X: x, Classes: 2, Labels: labels}
}

// TeacherStudent returns a regression set whose targets come from a random "teacher" MLP
// d-hidden-out with a tanh hidden layer:
//
//	x ~ N(0, I_d)
//	y = W₂ tanh(W₁ x + b₁) + b₂ + noise·ε,   ε ~ N(0, I_out)
//
// with W₁ (hidden, d) ~ N(0, 1/d), b₁ ~ N(0, 0.1²), W₂ (out, hidden) ~ N(0, 1/hidden),
// b₂ ~ N(0, 0.1²), so the pre-activations and the targets are of order one.
func TeacherStudent(n, d, hidden, out int, noise float64, seed uint64) Dataset {
	checkSynthetic("TeacherStudent", n, noise)
	if d < 1 || hidden < 1 || out < 1 {
		panic(fmt.Sprintf("nn: TeacherStudent: d=%d, hidden=%d and out=%d must be >= 1", d, hidden, out))
	}
	rng := syntheticRand(seed, streamTeacher)
	normal := func(k int, std float64) []float64 {
		v := make([]float64, k)
		for i := range v {
			v[i] = std * rng.NormFloat64()
		}
		return v
	}
	w1 := normal(hidden*d, 1/math.Sqrt(float64(d)))        // (hidden, d)
	b1 := normal(hidden, 0.1)                              // (hidden)
	w2 := normal(out*hidden, 1/math.Sqrt(float64(hidden))) // (out, hidden)
	b2 := normal(out, 0.1)                                 // (out)

	x := normal(n*d, 1) // (n, d)
	y := make([]float64, n*out)
	h := make([]float64, hidden)
	for i := 0; i < n; i++ {
		xi := x[i*d : (i+1)*d]
		for j := range h {
			a := b1[j]
			for k, w := range w1[j*d : (j+1)*d] {
				a += w * xi[k]
			}
			h[j] = math.Tanh(a)
		}
		yi := y[i*out : (i+1)*out]
		for j := range yi {
			a := b2[j]
			for k, w := range w2[j*hidden : (j+1)*hidden] {
				a += w * h[k]
			}
			yi[j] = a + noise*rng.NormFloat64()
		}
	}
	return Dataset{Name: "teacher", N: n, D: d, X: x, Out: out, Y: y}
}

// syntheticNames lists the names Synthetic accepts, in the order its error shows them.
var syntheticNames = []string{"gaussian", "mixture", "moons", "spirals", "circles", "xor", "teacher"}

// Synthetic builds the named synthetic data set of n examples with default parameters:
//
//	gaussian, mixture  GaussianMixture(n, 20, 10, seed)       (the calibration set of docs/SCIENCE.md)
//	moons              TwoMoons(n, 0.1, seed)
//	spirals            Spirals(n, 3, 0.05, seed)
//	circles            Circles(n, 0.05, 0.5, seed)
//	xor                XOR(n, 0.25, seed)
//	teacher            TeacherStudent(n, 20, 16, 1, 0.1, seed)
//
// Names are matched case-insensitively. An unknown name or n < 1 gives an error.
func Synthetic(name string, n int, seed uint64) (Dataset, error) {
	noise, ok := SyntheticNoiseDefault(name)
	if !ok {
		noise = 0 // SyntheticNoise refuses the name
	}
	return SyntheticNoise(name, n, noise, seed)
}

// syntheticDefaults is each set's own noise σ, as Synthetic uses it: the standard deviation
// added to each coordinate (to each target for teacher); for the Gaussian mixture the
// within-class spread around each class mean.
var syntheticDefaults = map[string]float64{
	"gaussian": 1, "mixture": 1, "moons": 0.1, "spirals": 0.05, "circles": 0.05, "xor": 0.25, "teacher": 0.1,
}

// SyntheticNoiseDefault returns the noise σ Synthetic gives the named set, and false for a
// name Synthetic does not know.
func SyntheticNoiseDefault(name string) (float64, bool) {
	s, ok := syntheticDefaults[strings.ToLower(strings.TrimSpace(name))]
	return s, ok
}

// SyntheticNoise is Synthetic with the noise σ given (see SyntheticNoiseDefault for what it
// is for each set): the default σ gives Synthetic's data bit for bit, and σ = 0 puts every
// point exactly on its curve (moons, spirals, circles), at its blob's centre (xor, the
// mixture) or on the teacher's function. A σ that is negative, NaN or infinite is an error.
func SyntheticNoise(name string, n int, noise float64, seed uint64) (Dataset, error) {
	if n < 1 {
		return Dataset{}, fmt.Errorf("synthetic data set %q: n=%d examples, want at least 1", name, n)
	}
	if !(noise >= 0) || math.IsInf(noise, 0) {
		return Dataset{}, fmt.Errorf("synthetic data set %q: noise %v, want a finite number ≥ 0", name, noise)
	}
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "gaussian", "mixture":
		return GaussianMixtureSpread(n, 20, 10, noise, seed), nil
	case "moons":
		return TwoMoons(n, noise, seed), nil
	case "spirals":
		return Spirals(n, 3, noise, seed), nil
	case "circles":
		return Circles(n, noise, 0.5, seed), nil
	case "xor":
		return XOR(n, noise, seed), nil
	case "teacher":
		return TeacherStudent(n, 20, 16, 1, noise, seed), nil
	}
	return Dataset{}, fmt.Errorf("unknown synthetic data set %q (want one of: %s)", name, strings.Join(syntheticNames, ", "))
}
