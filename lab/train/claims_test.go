package train

import (
	"errors"
	"math"
	"testing"

	"sharpflat/linalg"
)

// The qualitative claims of Song, Ahn & Yun (ICLR 2025) on the calibration task of
// docs/SCIENCE.md (10-class Gaussian mixture, 20-16-16-10 tanh, batch 32, η = 0.1, top-10
// basis refreshed every 5 steps): after SGD warm-up, from the same point and the same
// minibatches, Dom-SGD barely lowers the full training loss while Bulk-SGD lowers it about as
// much as SGD; and the minibatch gradient lies far more in the Dominant subspace than a
// random direction would. Reference (PyTorch float64, dense Hessian, docs/SCIENCE.md): drops
// over 300 steps CE — SGD 0.080/0.088, Dom 0.0005/−0.001, Bulk 0.080/0.087; mean χ(g)
// 0.47–0.57 vs √(k/P) ≈ 0.11.
func TestSwitchReproducesDomBulkClaims(t *testing.T) {
	numericsOnly(t)
	c, _ := Preset("demo")
	c.RefreshEvery, c.HessianSet, c.EnergyEvery, c.EvalEvery = 5, 0, 0, 50
	c.KeepEvery = 1 << 30 // only the checkpoint at the switch: every arm starts there
	warm, arm := 300, 300
	if testing.Short() {
		warm, arm = 200, 60
	}
	tr, ms := run(t, c, warm)
	// χ(g) over the second half of the warm-up, on refresh steps (fresh basis).
	var chi float64
	var nChi int
	for _, m := range ms[warm/2 : warm] {
		if m.Refreshed {
			chi += float64(m.ChiGrad)
			nChi++
		}
	}
	chi /= float64(nChi)
	P := tr.Model().NumParams()
	random := math.Sqrt(float64(c.K) / float64(P))

	tr.Checkpoint()
	trainLoss := func() float64 {
		l, _, _, _, err := tr.Evaluate()
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	l0 := trainLoss()
	drop := map[string]float64{}
	for _, a := range []struct {
		name        string
		wDom, wBulk float64
	}{{"sgd", 1, 1}, {"dom", 1, 0}, {"bulk", 0, 1}} {
		ac := tr.Config()
		ac.WDom, ac.WBulk = a.wDom, a.wBulk
		if err := tr.Apply(ac); err != nil {
			t.Fatal(err)
		}
		steps(t, tr, arm)
		drop[a.name] = l0 - trainLoss()
		if err := tr.Rollback(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("train loss at switch %.4f; drops over %d steps: SGD %.4f, Dom %.4f, Bulk %.4f", l0, arm, drop["sgd"], drop["dom"], drop["bulk"])
	t.Logf("mean χ(g) on refresh steps %.3f; random direction √(k/P) = %.3f (ratio %.1f)", chi, random, chi/random)
	if drop["sgd"] <= 0 {
		t.Fatalf("SGD did not lower the loss: drop %.4g", drop["sgd"])
	}
	if drop["dom"] >= drop["sgd"]/5 {
		t.Errorf("Dom-SGD drop %.4g is not below a fifth of SGD's %.4g", drop["dom"], drop["sgd"])
	}
	if drop["bulk"] < 0.8*drop["sgd"] {
		t.Errorf("Bulk-SGD drop %.4g is below 80%% of SGD's %.4g", drop["bulk"], drop["sgd"])
	}
	if chi < 3*random {
		t.Errorf("χ(g) %.3f is below 3× the random baseline %.3f", chi, random)
	}
}

// Cohen et al. (ICLR 2021): under full-batch gradient descent the sharpness rises until it
// reaches 2/η and then hovers there. The eos preset (MSE, 250 examples, η = 0.4, 2/η = 5).
func TestEOSPresetSharpensToTwoOverEta(t *testing.T) {
	numericsOnly(t)
	c, _ := Preset("eos")
	c.EnergyEvery = 0
	_, ms := run(t, c, 1500)
	first := float64(ms[0].Sharpness)
	var late []float64
	for _, m := range ms[1000:] {
		late = append(late, float64(m.Sharpness))
	}
	lo, hi := late[0], late[0]
	for _, v := range late {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	thr := 2 / c.LR
	t.Logf("λ₁ at start %.3f; over steps 1000–1500 λ₁ in [%.3f, %.3f]; 2/η = %.3f", first, lo, hi, thr)
	if first > 0.6*thr {
		t.Errorf("λ₁ starts at %.3g, already near 2/η = %.3g: nothing to sharpen", first, thr)
	}
	if lo < 0.9*thr || hi > 1.1*thr {
		t.Errorf("late λ₁ in [%.3g, %.3g], want within 10%% of 2/η = %.3g", lo, hi, thr)
	}
}

// The residuals a scheduled refresh reports come from the Krylov–Schur relation; they must
// agree with explicit ‖Hv − λv‖ (one HVP per pair, the reference) on a real network Hessian.
func TestEstimatedResidualsMatchExplicit(t *testing.T) {
	c := small()
	tr, _ := run(t, c, 30)
	b, err := tr.model.Bind(tr.theta, &tr.hess)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Curvature(b, CurvatureOptions{K: c.K, Tol: 1e-8, Seed: 3, EstimateResiduals: true})
	if err != nil {
		t.Fatal(err)
	}
	hv := make([]float64, b.Dim())
	for i, v := range r.Vectors {
		b.HVP(hv, v)
		for j := range hv {
			hv[j] -= r.Values[i] * v[j]
		}
		explicit := math.Sqrt(dot(hv, hv))
		if d := math.Abs(explicit - r.Residuals[i]); d > 1e-12*math.Abs(r.Values[0]) {
			t.Errorf("pair %d: estimated residual %.3g, explicit %.3g", i, r.Residuals[i], explicit)
		}
	}
}

func dot(a, b []float64) (s float64) {
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// TestCurvatureCancelsEveryPhase: a cancel raised after n calls stops Curvature in the
// eigensolver, in the G/F split and in the energies alike, with linalg.ErrCanceled; the
// count of calls that completes it shows each phase was reached.
func TestCurvatureCancelsEveryPhase(t *testing.T) {
	c := small()
	tr, _ := run(t, c, 10)
	b, err := tr.model.Bind(tr.theta, &tr.hess)
	if err != nil {
		t.Fatal(err)
	}
	opt := CurvatureOptions{K: c.K, Tol: 1e-8, Seed: 3, HutchSamples: 8}
	calls := 0
	opt.Cancel = func() bool { calls++; return false }
	if _, err := Curvature(b, opt); err != nil {
		t.Fatal(err)
	}
	total := calls
	r, err := Curvature(b, CurvatureOptions{K: c.K, Tol: 1e-8, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	eig := r.Products // the eigensolver's products, each preceded by a call
	if total <= eig {
		t.Fatalf("%d cancel checks for %d eigensolver products: the energies are not checked", total, eig)
	}
	for _, n := range []int{1, eig / 2, eig + 1, total - 1} {
		seen := 0
		opt.Cancel = func() bool { seen++; return seen >= n }
		if _, err := Curvature(b, opt); !errors.Is(err, linalg.ErrCanceled) {
			t.Errorf("cancel at check %d of %d: err %v, want ErrCanceled", n, total, err)
		}
	}
}
