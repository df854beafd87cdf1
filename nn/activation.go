package nn

import (
	"fmt"
	"math"
	"strings"

	"sharpflat/internal/vecmath"
)

// Activation is the elementwise nonlinearity σ of the hidden layers.
type Activation int

// The activations. Each provides σ, σ′ and σ″, which the R-operator needs.
const (
	Tanh     Activation = iota // σ(z) = tanh z
	ReLU                       // σ(z) = max(0, z); σ″ = 0 (almost everywhere)
	GELU                       // σ(z) = z Φ(z), the exact (erf) form, as PyTorch's default
	Softplus                   // σ(z) = log(1 + eᶻ)
	Identity                   // σ(z) = z
)

var activationNames = [...]string{"tanh", "relu", "gelu", "softplus", "identity"}

func (a Activation) String() string {
	if a >= 0 && int(a) < len(activationNames) {
		return activationNames[a]
	}
	return fmt.Sprintf("Activation(%d)", int(a))
}

// ParseActivation returns the activation with the given name (case-insensitive).
func ParseActivation(s string) (Activation, error) {
	for i, n := range activationNames {
		if strings.EqualFold(s, n) {
			return Activation(i), nil
		}
	}
	return 0, fmt.Errorf("unknown activation %q (allowed: %s)", s, strings.Join(activationNames[:], ", "))
}

// evalAll sets s, d1 and d2 to σ, σ′ and σ″ of every entry of z. tanh is evaluated four or
// eight entries at a time where the CPU has AVX2+FMA or AVX-512 (vecmath.Tanh: math.Tanh's
// algorithm, within 2 ulp of it); the others one at a time by eval.
func (a Activation) evalAll(s, d1, d2, z []float64) {
	if a != Tanh {
		for j, v := range z {
			s[j], d1[j], d2[j] = a.eval(v)
		}
		return
	}
	vecmath.Tanh(s, z)
	d1, d2 = d1[:len(s)], d2[:len(s)]
	for j, t := range s {
		//	σ′ = 1 − t²,  σ″ = −2t(1 − t²)
		d := 1 - t*t
		d1[j], d2[j] = d, -2*t*d
	}
}

// eval returns σ(z), σ′(z) and σ″(z).
func (a Activation) eval(z float64) (s, d1, d2 float64) {
	switch a {
	case Tanh:
		t := math.Tanh(z)
		//	σ′ = 1 − t²,  σ″ = −2t(1 − t²)
		d1 = 1 - t*t
		return t, d1, -2 * t * d1
	case ReLU:
		if z > 0 {
			return z, 1, 0
		}
		return 0, 0, 0
	case GELU:
		//	Φ(z) = ½(1 + erf(z/√2)),  φ(z) = e^{−z²/2}/√(2π)
		//	σ′ = Φ + zφ,  σ″ = φ(2 − z²)
		cdf := 0.5 * (1 + math.Erf(z/math.Sqrt2))
		pdf := math.Exp(-0.5*z*z) / math.Sqrt(2*math.Pi)
		return z * cdf, cdf + z*pdf, pdf * (2 - z*z)
	case Softplus:
		//	σ′ = sigmoid(z) = s,  σ″ = s(1 − s); log1p(eᶻ) computed without overflow
		var sp float64
		if z > 0 {
			sp = z + math.Log1p(math.Exp(-z))
		} else {
			sp = math.Log1p(math.Exp(z))
		}
		s := 1 / (1 + math.Exp(-z))
		return sp, s, s * (1 - s)
	case Identity:
		return z, 1, 0
	}
	panic(fmt.Sprintf("nn: unknown activation %d", int(a)))
}
