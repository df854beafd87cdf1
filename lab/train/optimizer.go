package train

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"sharpflat/linalg"
	"sharpflat/nn"
)

// The losses a Config names (nn's), here so that presets and callers read as one vocabulary.
const (
	CE  = nn.CrossEntropy
	MSE = nn.MSE
)

// Optimizer is the rule that turns an update direction into a step of θ.
type Optimizer int

const (
	SGD  Optimizer = iota // heavy-ball momentum: b ← β b + d, θ ← θ − η b
	Adam                  // Adam with bias correction
)

var optimizerNames = [...]string{"sgd", "adam"}

func (o Optimizer) String() string {
	if o >= 0 && int(o) < len(optimizerNames) {
		return optimizerNames[o]
	}
	return fmt.Sprintf("Optimizer(%d)", int(o))
}

// ParseOptimizer returns the optimizer named "sgd" or "adam".
func ParseOptimizer(s string) (Optimizer, error) {
	for i, n := range optimizerNames {
		if strings.EqualFold(s, n) {
			return Optimizer(i), nil
		}
	}
	return 0, fmt.Errorf("unknown optimizer %q (allowed: %s)", s, strings.Join(optimizerNames[:], ", "))
}

// MarshalText writes the optimizer's name.
func (o Optimizer) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnmarshalText reads an optimizer's name.
func (o *Optimizer) UnmarshalText(b []byte) error {
	v, err := ParseOptimizer(string(b))
	if err == nil {
		*o = v
	}
	return err
}

// direction stores d = w_dom P_dom g + w_bulk P_bulk g in dst (linalg.Blend: no P×P matrix)
// and returns χ = ‖Vᵀg‖/‖g‖.
func direction(dst, g []float64, basis [][]float64, wDom, wBulk float64) float64 {
	linalg.Blend(dst, basis, g, wDom, wBulk)
	return linalg.Alignment(basis, g)
}

// optimizerState is what the optimizer carries from step to step.
type optimizerState struct {
	Kind Optimizer
	Buf  []float64 // heavy-ball velocity b
	M, V []float64 // Adam's moments
	T    int       // Adam's step count
}

func newOptimizerState(kind Optimizer, p int) optimizerState {
	return optimizerState{Kind: kind, Buf: make([]float64, p), M: make([]float64, p), V: make([]float64, p)}
}

func (o optimizerState) clone() optimizerState {
	o.Buf, o.M, o.V = slices.Clone(o.Buf), slices.Clone(o.M), slices.Clone(o.V)
	return o
}

// step updates θ along −d:
//
//	heavy ball:  b ← β b + d,  θ ← θ − η b
//	Adam:        m ← β₁m + (1−β₁)d,  v ← β₂v + (1−β₂)d²,  θ ← θ − η m̂/(√v̂ + ε)
func (o *optimizerState) step(theta, d []float64, c *Config) {
	switch o.Kind {
	case Adam:
		o.T++
		b1, b2 := c.Momentum, c.Beta2
		c1, c2 := 1-math.Pow(b1, float64(o.T)), 1-math.Pow(b2, float64(o.T))
		for i, di := range d {
			o.M[i] = b1*o.M[i] + (1-b1)*di
			o.V[i] = b2*o.V[i] + (1-b2)*di*di
			theta[i] -= c.LR * (o.M[i] / c1) / (math.Sqrt(o.V[i]/c2) + c.Eps)
		}
	default:
		beta := c.Momentum
		for i, di := range d {
			o.Buf[i] = beta*o.Buf[i] + di
			theta[i] -= c.LR * o.Buf[i]
		}
	}
}
