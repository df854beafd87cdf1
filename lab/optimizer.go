package lab

import (
	"math"

	"sharpflat/linalg"
)

// direction stores d = w_dom P_dom g + w_bulk P_bulk g in dst (linalg.Blend: no P×P matrix)
// and returns χ = ‖Vᵀg‖/‖g‖.
func direction(dst, g []float64, basis [][]float64, wDom, wBulk float64) float64 {
	linalg.Blend(dst, basis, g, wDom, wBulk)
	return linalg.Alignment(basis, g)
}

// optimizer applies a direction d to θ: heavy-ball momentum or Adam, with η.
type optimizer struct {
	kind string // "sgd" or "adam"
	buf  []float64
	m, v []float64
	t    int
}

func newOptimizer(kind string, p int) *optimizer {
	o := &optimizer{kind: kind}
	o.reset(p)
	return o
}

func (o *optimizer) reset(p int) {
	o.buf, o.m, o.v, o.t = make([]float64, p), make([]float64, p), make([]float64, p), 0
}

func (o *optimizer) clone() *optimizer {
	c := *o
	c.buf = append([]float64(nil), o.buf...)
	c.m = append([]float64(nil), o.m...)
	c.v = append([]float64(nil), o.v...)
	return &c
}

// step updates θ along −d:
//
//	heavy ball:  b ← β b + d,  θ ← θ − η b
//	Adam:        m ← β₁m + (1−β₁)d,  v ← β₂v + (1−β₂)d²,  θ ← θ − η m̂/(√v̂ + ε)
func (o *optimizer) step(theta, d []float64, c *Config) {
	switch o.kind {
	case "adam":
		o.t++
		b1, b2 := c.Momentum, c.Beta2
		c1, c2 := 1-math.Pow(b1, float64(o.t)), 1-math.Pow(b2, float64(o.t))
		for i, di := range d {
			o.m[i] = b1*o.m[i] + (1-b1)*di
			o.v[i] = b2*o.v[i] + (1-b2)*di*di
			theta[i] -= c.LR * (o.m[i] / c1) / (math.Sqrt(o.v[i]/c2) + c.Eps)
		}
	default:
		beta := c.Momentum
		for i, di := range d {
			o.buf[i] = beta*o.buf[i] + di
			theta[i] -= c.LR * o.buf[i]
		}
	}
}
