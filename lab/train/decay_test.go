package train

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats"
)

// decayConfig is small() on the full batch (no minibatch order to follow by hand) with a
// tight eigensolver tolerance and the weight decay λ.
func decayConfig(lambda float64) Config {
	c := small()
	c.Batch, c.K, c.Tol, c.WeightDecay = 0, 3, 1e-10, lambda
	return c
}

// The setting: a flag, left out of config.json at 0 (the files of runs without it keep their
// bytes), checked to [0, 10], carried by a checkpoint.
func TestWeightDecaySetting(t *testing.T) {
	if _, ok := FieldByName("weight-decay"); !ok {
		t.Fatal("no weight-decay setting")
	}
	c := decayConfig(0)
	raw, _ := json.Marshal(c)
	if strings.Contains(string(raw), "weight_decay") {
		t.Errorf("config.json names weight_decay at 0: %s", raw)
	}
	c.WeightDecay = 0.01
	raw, _ = json.Marshal(c)
	if !strings.Contains(string(raw), `"weight_decay":0.01`) {
		t.Errorf("config.json lacks weight_decay 0.01: %s", raw)
	}
	for _, bad := range []float64{-0.001, 10.5, math.NaN()} {
		c.WeightDecay = bad
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "weight_decay") {
			t.Errorf("weight decay %v: Validate says %v", bad, err)
		}
	}
	c.WeightDecay = 0.01
	tr, _ := run(t, c, 1)
	var b bytes.Buffer
	if _, err := tr.Save(WhyResume).WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	cp, err := ReadCheckpoint(&b)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Config.WeightDecay != 0.01 || cp.Config.Fingerprint() != c.Fingerprint() {
		t.Errorf("checkpoint read back weight decay %v, want 0.01", cp.Config.WeightDecay)
	}
}

// refGrad is the data gradient of the full training set at θ, from a Bound without decay.
func refGrad(t *testing.T, tr *Trainer, theta []float64) []float64 {
	t.Helper()
	trainSet, _, _ := tr.Data()
	b, err := tr.Model().Bind(theta, trainSet)
	if err != nil {
		t.Fatal(err)
	}
	return b.Grad()
}

// One full-batch SGD step with decay against the hand formula θ₁ = θ₀ − η(∇L(θ₀) + λθ₀),
// the gradient from a Bound without decay; and the step's loss is the data loss.
func TestWeightDecaySGDStep(t *testing.T) {
	const lambda = 0.05
	tr, err := New(decayConfig(lambda))
	if err != nil {
		t.Fatal(err)
	}
	th0 := tr.Theta()
	g := refGrad(t, tr, th0)
	m := steps(t, tr, 1)[0]
	eta := tr.Config().LR
	worst := 0.0
	for i, x := range tr.Theta() {
		want := th0[i] - eta*(g[i]+lambda*th0[i])
		worst = math.Max(worst, math.Abs(x-want))
	}
	if worst > 1e-14 {
		t.Errorf("θ after one step: worst difference %.3g from θ₀ − η(∇L + λθ₀)", worst)
	}
	trainSet, _, _ := tr.Data()
	l, _, _ := tr.Model().Evaluate(th0, trainSet)
	if float64(m.Loss) != l || float64(m.TrainLoss) != l {
		t.Errorf("loss %v, train_loss %v: want the data loss %v", m.Loss, m.TrainLoss, l)
	}
}

// Adam with decay is coupled L2, as PyTorch's Adam(weight_decay=λ): d = ∇L + λθ goes through
// the moments. One step against the hand formula (bias-corrected first step); AdamW's
// decoupled θ₀(1 − ηλ) − η m̂/(√v̂ + ε) of the plain gradient is far from it.
func TestWeightDecayAdamIsCoupled(t *testing.T) {
	const lambda = 0.05
	c := decayConfig(lambda)
	c.Optimizer, c.Momentum, c.LR = Adam, 0.9, 0.01
	tr, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	th0 := tr.Theta()
	g := refGrad(t, tr, th0)
	steps(t, tr, 1)
	adam := func(d float64) float64 {
		m, v := (1-c.Momentum)*d, (1-c.Beta2)*d*d
		return (m / (1 - c.Momentum)) / (math.Sqrt(v/(1-c.Beta2)) + c.Eps)
	}
	worst, apart := 0.0, 0.0
	for i, x := range tr.Theta() {
		coupled := th0[i] - c.LR*adam(g[i]+lambda*th0[i])
		decoupled := th0[i]*(1-c.LR*lambda) - c.LR*adam(g[i])
		worst = math.Max(worst, math.Abs(x-coupled))
		apart = math.Max(apart, math.Abs(coupled-decoupled))
	}
	if worst > 1e-14 {
		t.Errorf("θ after one Adam step: worst difference %.3g from the coupled formula", worst)
	}
	if apart < 1e-4 {
		t.Errorf("the coupled and decoupled references differ by only %.3g: the test cannot tell them apart", apart)
	}
}

// Decay pulls the weights toward zero: after 150 steps from the same start ‖θ‖ is smaller
// with λ = 0.05 than without, and at λ = 0 the run is the run of a config that never had the
// setting (the goldens check the files).
func TestWeightDecayShrinksWeights(t *testing.T) {
	plain, _ := run(t, decayConfig(0), 150)
	dec, _ := run(t, decayConfig(0.05), 150)
	n0, n1 := floats.Norm(plain.Theta(), 2), floats.Norm(dec.Theta(), 2)
	if !(n1 < 0.95*n0) {
		t.Errorf("‖θ‖ after 150 steps: %.4g with λ = 0.05, %.4g without; want it at least 5%% smaller", n1, n0)
	}
	t.Logf("‖θ‖ after 150 steps: %.4g without decay, %.4g with λ = 0.05", n0, n1)
}

// The trainer's curvature includes the λI: at the same θ (the start, before any update) the
// refresh's eigenvalues and Probe's are those without decay plus λ, and the G part of each
// pair, vᵢᵀGvᵢ, gains λ while vᵢᵀFvᵢ stays. Full-batch batch sharpness is
// g_λᵀ(H + λI)g_λ/‖g_λ‖² with g_λ = ∇L + λθ, computed from a Bound without decay.
func TestWeightDecayTrainerCurvature(t *testing.T) {
	const lambda = 0.05
	c0, c1 := decayConfig(0), decayConfig(lambda)
	c0.EnergyEvery, c1.EnergyEvery = 1, 1 // the split on the first refresh
	c0.BatchSharpnessEvery, c1.BatchSharpnessEvery = 1, 1
	t0, m0 := run(t, c0, 1)
	t1, m1 := run(t, c1, 1)
	b0, b1 := t0.Basis(), t1.Basis()
	scale := math.Abs(b0.Values[0])
	for i := range b0.Values {
		if d := b1.Values[i] - b0.Values[i]; math.Abs(d-lambda) > 1e-8*scale {
			t.Errorf("refresh λ%d: %.12g with decay, %.12g without: shift %.12g, want λ = %g", i+1, b1.Values[i], b0.Values[i], d, lambda)
		}
		if d := b1.GGN[i] - b0.GGN[i]; math.Abs(d-lambda) > 1e-7*scale {
			t.Errorf("v%dᵀGv%d shifted by %.10g, want λ", i+1, i+1, d)
		}
		if d := b1.Functional[i] - b0.Functional[i]; math.Abs(d) > 1e-7*scale {
			t.Errorf("v%dᵀFv%d changed by %.3g with decay, want 0", i+1, i+1, d)
		}
	}

	// Probe: fresh trainers, so that both are at θ₀.
	p0, _ := New(c0)
	p1, _ := New(c1)
	v0, _, err0 := p0.Probe(3)
	v1, _, err1 := p1.Probe(3)
	if err0 != nil || err1 != nil {
		t.Fatal(err0, err1)
	}
	for i := range v0 {
		if math.Abs(v1[i]-v0[i]-lambda) > 1e-8*scale {
			t.Errorf("Probe λ%d: %.12g with decay, %.12g without", i+1, v1[i], v0[i])
		}
	}

	// Batch sharpness on the full batch at θ₀, by hand.
	th0 := p1.Theta()
	trainSet, _, _ := p1.Data()
	b, err := p1.Model().Bind(th0, trainSet)
	if err != nil {
		t.Fatal(err)
	}
	g := append([]float64(nil), b.Grad()...)
	floats.AddScaled(g, lambda, th0)
	hg := make([]float64, len(g))
	b.HVP(hg, g)
	floats.AddScaled(hg, lambda, g)
	want := floats.Dot(g, hg) / floats.Dot(g, g)
	if got := float64(m1[0].BatchSharpness); math.Abs(got-want) > 1e-12*math.Abs(want) {
		t.Errorf("full-batch batch sharpness with decay %.15g, want g_λᵀ(H+λI)g_λ/‖g_λ‖² = %.15g (without decay: %.15g)", got, want, float64(m0[0].BatchSharpness))
	}
}
