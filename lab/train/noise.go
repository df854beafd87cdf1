package train

// The noise of a synthetic data set, as a setting: the standard deviation σ of the Gaussian
// noise each set adds to its points (nn.SyntheticNoise says what it is for each set; for the
// Gaussian mixture the spread of every class around its mean). Unset, the set keeps its own
// σ, and its data are what they always were; an explicit 0 is no noise at all, a different
// thing, so the setting is not a bare float64.

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"sharpflat/nn"
)

// MaxNoise bounds σ: every set's shapes are of size about one, so noise ten times that
// already hides any shape, and the picture's extent (which holds every point) would shrink
// the data to a dot.
const MaxNoise = 10

// Noise is σ of a synthetic set's noise, or unset (the zero value): the set's own default.
type Noise struct {
	sigma float64
	set   bool
}

// NoiseOf returns the setting σ (0: no noise).
func NoiseOf(sigma float64) Noise { return Noise{sigma: sigma, set: true} }

// Sigma returns σ and true when set; 0 and false when the set's default is in force.
func (n Noise) Sigma() (sigma float64, set bool) { return n.sigma, n.set }

// IsZero reports whether the noise is unset.
func (n Noise) IsZero() bool { return !n.set }

// String is the setting as --noise takes it.
func (n Noise) String() string {
	b, _ := n.MarshalText()
	return string(b)
}

// MarshalText writes "default" when unset, else σ in the shortest form that reads back.
func (n Noise) MarshalText() ([]byte, error) {
	if !n.set {
		return []byte("default"), nil
	}
	return []byte(strconv.FormatFloat(n.sigma, 'g', -1, 64)), nil
}

// UnmarshalText reads "default" (or nothing) for unset, else a number in [0, MaxNoise].
func (n *Noise) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	if s == "" || strings.EqualFold(s, "default") {
		*n = Noise{}
		return nil
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("%q is not a number: want σ ≥ 0 (the standard deviation of the data's noise) or \"default\" (the data set's own)", s)
	}
	if !(x >= 0 && x <= MaxNoise) {
		return fmt.Errorf("σ = %s: want 0…%d (the data sets are of size about 1: σ above %d hides any shape)", s, MaxNoise, MaxNoise)
	}
	*n = NoiseOf(x)
	return nil
}

// MarshalJSON writes σ as a number (null when unset; Config's omitzero leaves it out then).
func (n Noise) MarshalJSON() ([]byte, error) {
	if !n.set {
		return []byte("null"), nil
	}
	return n.MarshalText()
}

// UnmarshalJSON reads a number, null (unset) or a string as UnmarshalText takes it.
func (n *Noise) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		*n = Noise{}
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		var t string
		if err := json.Unmarshal(b, &t); err != nil {
			return err
		}
		return n.UnmarshalText([]byte(t))
	}
	return n.UnmarshalText([]byte(s))
}

// DefaultNoise returns the named data set's own σ, and false for data without a noise
// setting (mnist, mnist14, mnist5k, a CSV file) or an unknown name.
func DefaultNoise(data string) (sigma float64, ok bool) {
	if isFileData(data) || isMNIST(data) {
		return 0, false
	}
	return nn.SyntheticNoiseDefault(data)
}

// noiseSigma is the σ the config's synthetic data are generated with.
func noiseSigma(c *Config) float64 {
	if s, ok := c.Noise.Sigma(); ok {
		return s
	}
	s, _ := DefaultNoise(c.Data)
	return s
}

// checkNoise says why the config's noise cannot be used, or "": only the synthetic sets
// have it.
func checkNoise(c *Config) string {
	if c.Noise.IsZero() || !(isFileData(c.Data) || isMNIST(c.Data)) {
		return ""
	}
	return fmt.Sprintf("noise: %s, but data %s has no noise setting (only the synthetic sets have: %s)", c.Noise, c.Data, strings.Join(syntheticSets, ", "))
}
