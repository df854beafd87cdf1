package train

// Input features of 2-D data, as TensorFlow Playground offers them: instead of the point
// (x₁, x₂) itself the network may read any of
//
//	x₁, x₂, x₁², x₂², x₁x₂, sin x₁, sin x₂
//
// so that a linear model can draw a circle (x₁², x₂²) or the XOR boundary (x₁x₂). The
// features are computed from the raw point after the train/test split, and the network's
// input width is the number chosen. The default is (x₁, x₂), the raw point: a run that does
// not choose features reads exactly the data it always read.

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"sharpflat/nn"
)

// Feature is one input feature computed from a 2-D point.
type Feature uint8

// The features, in the order a feature vector holds them.
const (
	X1 Feature = iota
	X2
	X1Sq
	X2Sq
	X1X2
	SinX1
	SinX2
	numFeatures
)

var featureTokens = [numFeatures]string{"x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"}
var featureLabels = [numFeatures]string{"x₁", "x₂", "x₁²", "x₂²", "x₁x₂", "sin x₁", "sin x₂"}

// AllFeatures returns the seven features in order.
func AllFeatures() []Feature {
	all := make([]Feature, numFeatures)
	for i := range all {
		all[i] = Feature(i)
	}
	return all
}

// String is the feature's token, as --features takes it: "x1", "x1sq", "sinx2", ….
func (f Feature) String() string {
	if f < numFeatures {
		return featureTokens[f]
	}
	return fmt.Sprintf("Feature(%d)", uint8(f))
}

// Label is the feature as a screen writes it: "x₁", "x₁²", "sin x₂", ….
func (f Feature) Label() string {
	if f < numFeatures {
		return featureLabels[f]
	}
	return f.String()
}

// Eval is the feature's value at the point (x₁, x₂).
func (f Feature) Eval(x1, x2 float64) float64 {
	switch f {
	case X1:
		return x1
	case X2:
		return x2
	case X1Sq:
		return x1 * x1
	case X2Sq:
		return x2 * x2
	case X1X2:
		return x1 * x2
	case SinX1:
		return math.Sin(x1)
	case SinX2:
		return math.Sin(x2)
	}
	panic(fmt.Sprintf("train: Eval of %v", f))
}

// FeatureSet is a set of features. Its zero value is the default {x₁, x₂}: the set is held
// as its difference from the default (bit f set: f differs from the default's membership),
// so every way of writing {x₁, x₂} is the zero value, and config.json (omitzero) and the
// fingerprint of a run without features do not change.
type FeatureSet uint8

// defaultFeatures is the membership bits of {x₁, x₂}.
const defaultFeatures = 1<<X1 | 1<<X2

func (s FeatureSet) bits() uint8 { return uint8(s) ^ defaultFeatures }

func setOf(bits uint8) FeatureSet { return FeatureSet(bits ^ defaultFeatures) }

// FeaturesOf returns the set of the features given.
func FeaturesOf(fs ...Feature) FeatureSet {
	var b uint8
	for _, f := range fs {
		if f < numFeatures {
			b |= 1 << f
		}
	}
	return setOf(b)
}

// Has reports whether f is in the set.
func (s FeatureSet) Has(f Feature) bool { return f < numFeatures && s.bits()&(1<<f) != 0 }

// With returns the set with f added (on) or removed. It may return the empty set, which
// Validate refuses.
func (s FeatureSet) With(f Feature, on bool) FeatureSet {
	if f >= numFeatures {
		return s
	}
	b := s.bits() &^ (1 << f)
	if on {
		b |= 1 << f
	}
	return setOf(b)
}

// List returns the features of the set in AllFeatures order: the columns of the network's
// input.
func (s FeatureSet) List() []Feature {
	var l []Feature
	for _, f := range AllFeatures() {
		if s.Has(f) {
			l = append(l, f)
		}
	}
	return l
}

// Width is the number of features, the network's input width.
func (s FeatureSet) Width() int { return len(s.List()) }

// IsZero reports whether the set is the default {x₁, x₂}.
func (s FeatureSet) IsZero() bool { return s == 0 }

// String is the set as --features takes it.
func (s FeatureSet) String() string {
	b, _ := s.MarshalText()
	return string(b)
}

// Labels is the set as a screen writes it: "x₁, x₂, x₁x₂".
func (s FeatureSet) Labels() string {
	var l []string
	for _, f := range s.List() {
		l = append(l, f.Label())
	}
	return strings.Join(l, ", ")
}

// MarshalText writes the tokens in order, comma-separated: "x1,x2,x1x2" ("x1,x2" for the
// default, "" for the empty set).
func (s FeatureSet) MarshalText() ([]byte, error) {
	var t []string
	for _, f := range s.List() {
		t = append(t, f.String())
	}
	return []byte(strings.Join(t, ",")), nil
}

// UnmarshalText reads comma-separated tokens in any order (spaces and case ignored). At least
// one is needed; a duplicate or an unknown token is an error that names the valid ones.
func (s *FeatureSet) UnmarshalText(text []byte) error {
	valid := strings.Join(featureTokens[:], ", ")
	if strings.TrimSpace(string(text)) == "" {
		return fmt.Errorf("no features chosen: want one or more of %s, comma-separated", valid)
	}
	var b uint8
	for _, tok := range strings.Split(string(text), ",") {
		tok = strings.ToLower(strings.TrimSpace(tok))
		i := slices.Index(featureTokens[:], tok)
		if i < 0 {
			return fmt.Errorf("unknown feature %q in %q (valid: %s)", tok, text, valid)
		}
		if b&(1<<i) != 0 {
			return fmt.Errorf("feature %s given twice in %q", tok, text)
		}
		b |= 1 << i
	}
	*s = setOf(b)
	return nil
}

// Map computes the features of points: x is (n, 2) the raw points, dst (n, Width) their
// feature vectors, the columns in List order.
func (s FeatureSet) Map(dst, x []float64) {
	fs := s.List()
	w := len(fs)
	if len(x)%2 != 0 || len(dst) != len(x)/2*w {
		panic(fmt.Sprintf("train: FeatureSet.Map: len(x)=%d, len(dst)=%d, want (n, 2) and (n, %d)", len(x), len(dst), w))
	}
	for i := range len(x) / 2 {
		x1, x2 := x[2*i], x[2*i+1]
		row := dst[i*w : (i+1)*w]
		for j, f := range fs {
			row[j] = f.Eval(x1, x2)
		}
	}
}

// Apply returns the data set with its 2-D inputs replaced by the set's features (labels and
// targets shared); the default set returns d itself, untouched.
func (s FeatureSet) Apply(d nn.Dataset) nn.Dataset {
	if s.IsZero() {
		return d
	}
	if d.D != 2 {
		panic(fmt.Sprintf("train: FeatureSet.Apply: data %q has %d inputs, want 2", d.Name, d.D))
	}
	x := make([]float64, d.N*s.Width())
	s.Map(x, d.X)
	d.X, d.D = x, s.Width()
	return d
}

// checkFeatures says why the features cannot be used on data with d inputs, or "".
func checkFeatures(c *Config, d int) string {
	if c.Features.IsZero() || d == 2 {
		return ""
	}
	return fmt.Sprintf("features: %s need 2-D data (x₁, x₂); data %s has %d inputs (only the default x1,x2 is allowed)", c.Features, c.Data, d)
}
