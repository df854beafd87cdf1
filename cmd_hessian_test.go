package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"sharpflat/lab/train"
	"sharpflat/nn"
)

// hessianJSON runs `hessian` with args and --json and returns the object and its keys.
func hessianJSON(t *testing.T, args ...string) (map[string]json.RawMessage, hessianReport) {
	t.Helper()
	code, out, errOut := runCLI(t, append(append([]string{"hessian"}, args...), "--json")...)
	if code != 0 {
		t.Fatalf("%v: code %d: %s", args, code, errOut)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &obj); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, out)
	}
	var r hessianReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	return obj, r
}

func keysOf(raw json.RawMessage) string {
	var obj map[string]json.RawMessage
	json.Unmarshal(raw, &obj)
	var k []string
	for key := range obj {
		k = append(k, key)
	}
	sort.Strings(k)
	return strings.Join(k, ",")
}

// denseRayleigh is gᵀHg/‖g‖² of the loss on data at θ, H by central differences of the
// gradient (independent of the HVP code).
func denseRayleigh(t *testing.T, m *nn.MLP, th []float64, data *nn.Dataset) float64 {
	t.Helper()
	grad := func(x []float64) []float64 {
		b, err := m.Bind(x, data)
		if err != nil {
			t.Fatal(err)
		}
		return append([]float64(nil), b.Grad()...)
	}
	g := grad(th)
	const eps = 1e-5
	x := append([]float64(nil), th...)
	var num, den float64
	for i := range th {
		x[i] = th[i] + eps
		gp := grad(x)
		x[i] = th[i] - eps
		gm := grad(x)
		x[i] = th[i]
		for j := range th { // (Hg)_i = Σ_j H_ij g_j, H_ij = ∂g_j/∂θ_i (symmetric)
			num += g[i] * (gp[j] - gm[j]) / (2 * eps) * g[j]
		}
		den += g[i] * g[i]
	}
	return num / den
}

// --batch-sharpness adds exactly its object; with the full batch and SGD its mean is the
// full-batch Rayleigh quotient gᵀHg/‖g‖² of a dense finite-difference Hessian; with
// minibatches it is what the library gives for the same basis and seed.
func TestHessianBatchSharpness(t *testing.T) {
	csvPath, wPath, m, th, data := fixture(t)
	base := []string{"--data", csvPath, "--weights", wPath, "--k", "3", "--hutch-samples", "0"}

	obj, r := hessianJSON(t, append(base, "--batch-sharpness", "--batch", "0", "--update", "sgd")...)
	if got, want := keysOf(obj["batch_sharpness"]), "batch,batches,hvps,mean,stderr,update,update_mean,update_stderr"; got != want {
		t.Fatalf("batch_sharpness keys %s, want %s", got, want)
	}
	bs := r.BatchSharpness
	want := denseRayleigh(t, m, th, &data)
	if math.Abs(float64(bs.Mean)-want) > 1e-6*math.Abs(want) || bs.Stderr != 0 || bs.UpdateMean != bs.Mean ||
		bs.Batch != data.N || bs.Batches != 1 || bs.Update != "sgd" || bs.HVPs != 1 {
		t.Errorf("full batch: %+v, want mean gᵀHg/‖g‖² = %.10g, stderr 0, batch %d, 1 batch, 1 HVP", *bs, want, data.N)
	}
	if len(obj) != 16 {
		t.Errorf("%d keys, want the 15 of before and batch_sharpness", len(obj))
	}

	_, r = hessianJSON(t, append(base, "--batch-sharpness", "--batch", "10", "--batches", "6", "--alpha", "1", "--seed", "3")...)
	b, err := m.Bind(th, &data)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := train.Curvature(b, train.CurvatureOptions{K: 3, Tol: 1e-10, Seed: 3, Split: true})
	if err != nil {
		t.Fatal(err)
	}
	lib, err := train.EstimateBatchSharpness(m, th, &data, train.BatchSharpnessOptions{Batch: 10, Batches: 6, Seed: 3,
		Rule: train.Blend{Dom: 0, Bulk: 1}, Basis: cr.Vectors, Values: cr.Values, Edge: math.NaN()})
	if err != nil {
		t.Fatal(err)
	}
	bs = r.BatchSharpness
	if float64(bs.Mean) != lib.Batch.Mean || float64(bs.UpdateMean) != lib.Update.Mean || float64(bs.UpdateStderr) != lib.Update.StdErr ||
		bs.Update != "bulk" || bs.Batch != 10 || bs.Batches != 6 || bs.HVPs != 12 || !(bs.Stderr > 0) {
		t.Errorf("Bulk-SGD on 6 batches of 10: %+v; the library gives %+v and %+v in %d products", *bs, lib.Batch, lib.Update, lib.Products)
	}

	code, out, errOut := runCLI(t, append(append([]string{"hessian"}, base...), "--batch-sharpness", "--batch", "10", "--update", "dom")...)
	if code != 0 || !strings.Contains(out, "batch sharpness λ_B") || !strings.Contains(out, "update (dom) λ_d") || !strings.Contains(out, "32 minibatches of 10") {
		t.Errorf("table: code %d %s\n%s", code, errOut, out)
	}
}

// With --run the minibatches come from the run's training set, of the run's batch size, along
// the run's update, with its 2/η in the table.
func TestHessianBatchSharpnessOfARun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	if code, _, errOut := runCLI(t, "run", "--n", "300", "--hessian-set", "100", "--k", "4", "--steps", "3", "--batch", "25",
		"--w-dom", "0", "--out", out, "--quiet"); code != 0 {
		t.Fatal(errOut)
	}
	_, r := hessianJSON(t, "--run", out, "--k", "4", "--hutch-samples", "0", "--batch-sharpness", "--batches", "5")
	bs := r.BatchSharpness
	if bs == nil || bs.Batch != 25 || bs.Batches != 5 || bs.Update != "bulk" || bs.HVPs != 10 || !(bs.Mean > 0) {
		t.Errorf("of a run: %+v, want 5 batches of the run's 25 along its Bulk-SGD, 10 HVPs", bs)
	}
	code, table, errOut := runCLI(t, "hessian", "--run", out, "--k", "4", "--hutch-samples", "0", "--batch-sharpness", "--batches", "5")
	if code != 0 || !strings.Contains(table, "2/η") || !strings.Contains(table, "update (bulk) λ_d") {
		t.Errorf("table of a run: code %d %s\n%s", code, errOut, table)
	}
}

func TestHessianBatchSharpnessErrors(t *testing.T) {
	csvPath, wPath, _, _, _ := fixture(t)
	base := []string{"hessian", "--data", csvPath, "--weights", wPath, "--k", "3"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--batch", "10"}, "--batch needs --batch-sharpness"},
		{[]string{"--alpha", "0.3"}, "--alpha needs --batch-sharpness"},
		{[]string{"--batch-sharpness", "--batches", "0"}, "--batches 0, want 1…10000"},
		{[]string{"--batch-sharpness", "--batch", "-1"}, "--batch -1, want ≥ 0"},
		{[]string{"--batch-sharpness", "--alpha", "2"}, "--alpha 2, want a number in [0, 1]"},
		{[]string{"--batch-sharpness", "--update", "fast"}, "--update: update rule"},
		{[]string{"--batch-sharpness", "--update", "dom", "--alpha", "0"}, "--update or --alpha, not both"},
		{[]string{"--batch-sharpness", "--update", "dom-damped"}, "needs the stability threshold"},
	} {
		code, _, errOut := runCLI(t, append(base, tc.args...)...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: code %d stderr %q, want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}
