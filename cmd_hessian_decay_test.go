package main

import (
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// hessian --weight-decay λ: every eigenvalue and vᵢᵀGvᵢ moves up by λ, vᵢᵀFvᵢ stays, the loss
// stays the data loss, and the gradient is ∇L + λθ (its norm checked against θ by hand).
func TestHessianWeightDecay(t *testing.T) {
	csvPath, wPath, m, th, data := fixture(t)
	base := []string{"--data", csvPath, "--weights", wPath, "--k", "3", "--hutch-samples", "0", "--tol", "1e-12"}
	obj0, r0 := hessianJSON(t, base...)
	if _, ok := obj0["weight_decay"]; ok {
		t.Error("weight_decay in the JSON without --weight-decay")
	}
	const lambda = 0.02
	obj1, r1 := hessianJSON(t, append(base, "--weight-decay", "0.02")...)
	if _, ok := obj1["weight_decay"]; !ok || r1.WeightDecay != lambda {
		t.Errorf("weight_decay %v in the JSON, want %v", r1.WeightDecay, lambda)
	}
	scale := math.Abs(r0.Eigenvalues[0])
	for i := range r0.Eigenvalues {
		if d := r1.Eigenvalues[i] - r0.Eigenvalues[i]; math.Abs(d-lambda) > 1e-9*scale {
			t.Errorf("λ%d shifted by %.12g, want %g", i+1, d, lambda)
		}
		if d := r1.GGNRayleigh[i] - r0.GGNRayleigh[i]; math.Abs(d-lambda) > 1e-8*scale {
			t.Errorf("v%dᵀGv%d shifted by %.12g, want %g", i+1, i+1, d, lambda)
		}
		if d := r1.FunctionalRayleigh[i] - r0.FunctionalRayleigh[i]; math.Abs(d) > 1e-8*scale {
			t.Errorf("v%dᵀFv%d changed by %.3g, want 0", i+1, i+1, d)
		}
	}
	if r1.Loss != r0.Loss {
		t.Errorf("loss %v with decay, %v without: want the data loss", r1.Loss, r0.Loss)
	}
	// ‖∇L + λθ‖ from the undecayed gradient of a Bound of our own.
	b, err := m.Bind(th, &data)
	if err != nil {
		t.Fatal(err)
	}
	var sq float64
	for i, g := range b.Grad() {
		x := g + lambda*th[i]
		sq += x * x
	}
	if want := math.Sqrt(sq); math.Abs(r1.GradNorm-want) > 1e-12*want {
		t.Errorf("grad_norm %v, want ‖∇L + λθ‖ = %v", r1.GradNorm, want)
	}
	code, table, errOut := runCLI(t, append([]string{"hessian"}, append(base, "--weight-decay", "0.02")...)...)
	if code != 0 || !strings.Contains(table, "decay     λ = 0.02") {
		t.Errorf("table: code %d %s\n%s", code, errOut, table)
	}
	// Batch sharpness of the full batch with the decay is the Rayleigh quotient of H + λI
	// along ∇L + λθ: from the undecayed Bound's gradient and HVP by hand,
	// (gᵀHg + λ‖g‖²)/‖g‖² with g = ∇L + λθ.
	_, rb := hessianJSON(t, append(base, "--weight-decay", "0.02", "--batch-sharpness")...)
	g := make([]float64, len(th))
	for i, x := range b.Grad() {
		g[i] = x + lambda*th[i]
	}
	hg := make([]float64, len(g))
	b.HVP(hg, g)
	var gHg, gg float64
	for i := range g {
		gHg, gg = gHg+g[i]*hg[i], gg+g[i]*g[i]
	}
	if want := gHg/gg + lambda; rb.BatchSharpness == nil || math.Abs(float64(rb.BatchSharpness.Mean)-want) > 1e-10*math.Abs(want) {
		t.Errorf("λ_B of the full batch with decay %+v, want %v", rb.BatchSharpness, want)
	}
	for _, bad := range [][]string{{"--weight-decay", "-1"}, {"--weight-decay", "11"}} {
		if code, _, errOut := runCLI(t, append([]string{"hessian"}, append(base, bad...)...)...); code != 2 || !strings.Contains(errOut, "weight-decay") {
			t.Errorf("%v: code %d, %s", bad, code, errOut)
		}
	}
}

// With --run the decay is the run's unless --weight-decay is given.
func TestHessianWeightDecayOfARun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	if code, _, errOut := runCLI(t, "run", "--n", "300", "--hessian-set", "100", "--k", "3", "--steps", "3",
		"--weight-decay", "0.03", "--out", out, "--quiet"); code != 0 {
		t.Fatal(errOut)
	}
	args := []string{"--run", out, "--hutch-samples", "0", "--tol", "1e-12"}
	_, own := hessianJSON(t, args...)
	_, none := hessianJSON(t, append(args, "--weight-decay", "0")...)
	if own.WeightDecay != 0.03 || none.WeightDecay != 0 {
		t.Fatalf("weight decay %v of the run's, %v with --weight-decay 0", own.WeightDecay, none.WeightDecay)
	}
	if d := own.Eigenvalues[0] - none.Eigenvalues[0]; math.Abs(d-0.03) > 1e-9*math.Abs(none.Eigenvalues[0]) {
		t.Errorf("the run's λ₁ %.12g, without decay %.12g: want 0.03 apart", own.Eigenvalues[0], none.Eigenvalues[0])
	}
}
