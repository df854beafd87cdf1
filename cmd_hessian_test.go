package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

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
	// Without --k the run's own k = 4 is the basis (the update the run took projects on it),
	// not the flag's default 10: the same estimate as with --k 4, bit for bit.
	_, d := hessianJSON(t, "--run", out, "--hutch-samples", "0", "--batch-sharpness", "--batches", "5")
	if len(d.Eigenvalues) != 4 || d.BatchSharpness == nil || d.BatchSharpness.UpdateMean != bs.UpdateMean {
		t.Errorf("--run without --k: %d eigenvalues, λ_d %+v; want the run's k = 4 and λ_d %v", len(d.Eigenvalues), d.BatchSharpness, bs.UpdateMean)
	}
	if !strings.Contains(table, "curvature-vector products (eigenpairs, split and energies") || !strings.Contains(table, "batch sharpness 10 (minibatch)") {
		t.Errorf("the products line does not count the batch sharpness's:\n%s", table)
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

// denseEigenvalues is the spectrum of the finite-difference Hessian of the loss on data at θ
// (gonum's symmetric eigendecomposition), descending.
func denseEigenvalues(t *testing.T, m *nn.MLP, th []float64, data *nn.Dataset) []float64 {
	t.Helper()
	p := len(th)
	grad := func(x []float64) []float64 {
		b, err := m.Bind(x, data)
		if err != nil {
			t.Fatal(err)
		}
		return append([]float64(nil), b.Grad()...)
	}
	h := mat.NewSymDense(p, nil)
	const eps = 1e-5
	x := append([]float64(nil), th...)
	cols := make([][]float64, p)
	for i := range p {
		x[i] = th[i] + eps
		gp := grad(x)
		x[i] = th[i] - eps
		gm := grad(x)
		x[i] = th[i]
		cols[i] = make([]float64, p)
		for j := range p {
			cols[i][j] = (gp[j] - gm[j]) / (2 * eps)
		}
	}
	for i := range p {
		for j := i; j < p; j++ {
			h.SetSym(i, j, (cols[i][j]+cols[j][i])/2)
		}
	}
	var es mat.EigenSym
	if !es.Factorize(h, false) {
		t.Fatal("eigendecomposition failed")
	}
	v := es.Values(nil)
	sort.Sort(sort.Reverse(sort.Float64Slice(v)))
	return v
}

// --density adds "density" and "outliers". With as many Lanczos steps as parameters every
// probe's extreme nodes are the extreme eigenvalues of the dense Hessian; the density
// integrates to 1 over its grid; the outliers are train.Outliers of the dense top k and
// λ_{k+1}.
func TestHessianDensity(t *testing.T) {
	csvPath, wPath, m, th, data := fixture(t)
	base := []string{"--data", csvPath, "--weights", wPath, "--k", "3", "--hutch-samples", "0"}
	obj, r := hessianJSON(t, append(base, "--density", "--probes", "4")...)
	if _, ok := obj["densities"]; ok || r.Density == nil || r.Outliers == nil || len(obj) != 17 {
		t.Fatalf("keys %v: want the 15 of before, density and outliers", keysOf(mustJSON(t, obj)))
	}
	if got, want := keysOf(obj["density"]), "density,hvps,lambda,nodes,of,probes,steps,weights,width"; got != want {
		t.Errorf("density keys %s, want %s", got, want)
	}
	if got, want := keysOf(obj["outliers"]), "count,next,rule,values"; got != want {
		t.Errorf("outliers keys %s, want %s", got, want)
	}
	d := r.Density
	p := m.NumParams()
	// The Krylov space of a probe ends early at the number of distinct eigenvalues (the
	// softmax's invariance makes some repeat): one product per node.
	nodes := 0
	for _, n := range d.Nodes {
		nodes += len(n)
	}
	if d.Of != "H" || d.Probes != 4 || d.Steps != p || d.HVPs != nodes || d.HVPs > 4*p || len(d.Nodes) != 4 || len(d.Weights) != 4 || !(d.Width > 0) {
		t.Errorf("density of %s: %d probes × %d steps, %d products for %d nodes, σ %v; want H, 4 × %d, at most %d, one per node",
			d.Of, d.Probes, d.Steps, d.HVPs, nodes, d.Width, p, 4*p)
	}
	var integral float64
	for i := 1; i < len(d.Lambda); i++ {
		integral += (d.Lambda[i] - d.Lambda[i-1]) * (d.Density[i] + d.Density[i-1]) / 2
	}
	if math.Abs(integral-1) > 1e-6 {
		t.Errorf("∫ density = %v, want 1", integral)
	}
	eig := denseEigenvalues(t, m, th, &data)
	scale := eig[0] - eig[len(eig)-1]
	for i, nodes := range d.Nodes {
		var sum float64
		for _, w := range d.Weights[i] {
			sum += w
		}
		lo, hi := nodes[0], nodes[len(nodes)-1]
		if math.Abs(sum-1) > 1e-9 || math.Abs(hi-eig[0]) > 1e-6*scale || math.Abs(lo-eig[len(eig)-1]) > 1e-6*scale {
			t.Errorf("probe %d: nodes %.8g … %.8g, weights sum to %v; dense λ_max %.8g, λ_min %.8g", i, lo, hi, sum, eig[0], eig[len(eig)-1])
		}
	}
	n, rule := train.Outliers(eig[:3], eig[3])
	o := r.Outliers
	if o.Count != n || o.Rule != rule || len(o.Values) != n || math.Abs(float64(o.Next)-eig[3]) > 1e-6*scale {
		t.Errorf("outliers %+v; the dense spectrum gives %d (%s), λ₄ %.8g", *o, n, rule, eig[3])
	}
	for i, v := range o.Values {
		if math.Abs(v-eig[i]) > 1e-6*scale {
			t.Errorf("outlier %d = %v, dense λ%d = %v", i+1, v, i+1, eig[i])
		}
	}

	// Several operators: "densities" keyed by H, G, F; G is positive semi-definite.
	obj, r = hessianJSON(t, append(base, "--density", "--probes", "2", "--lanczos-steps", "20", "--width", "0.05", "--density-of", "g,H,F")...)
	if _, ok := obj["density"]; ok || len(r.Densities) != 3 {
		t.Fatalf("--density-of g,H,F: density %v, densities %v", r.Density, r.Densities)
	}
	for _, of := range []string{"H", "G", "F"} {
		d := r.Densities[of]
		if d == nil || d.Of != of || d.Steps != 20 || d.Width != 0.05 || d.HVPs != 40 {
			t.Errorf("densities[%s] = %+v", of, d)
		}
	}
	for _, nodes := range r.Densities["G"].Nodes {
		if nodes[0] < -1e-9*scale {
			t.Errorf("a node of G is %v < 0", nodes[0])
		}
	}

	code, out, errOut := runCLI(t, append(append([]string{"hessian"}, base...), "--density", "--probes", "2")...)
	if code != 0 || !strings.Contains(out, "density of H (2 probes × 51 steps") || !strings.Contains(out, "quantiles  1%") ||
		!strings.Contains(out, "outliers  ") {
		t.Errorf("table: code %d %s\n%s", code, errOut, out)
	}
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHessianDensityErrors(t *testing.T) {
	csvPath, wPath, _, _, _ := fixture(t)
	base := []string{"hessian", "--data", csvPath, "--weights", wPath, "--k", "3"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--probes", "5"}, "--probes needs --density"},
		{[]string{"--density-of", "G"}, "--density-of needs --density"},
		{[]string{"--density", "--probes", "0"}, "--probes 0, want 1…10000"},
		{[]string{"--density", "--lanczos-steps", "0"}, "--lanczos-steps 0, want ≥ 1"},
		{[]string{"--density", "--width", "-1"}, "--width -1, want σ ≥ 0"},
		{[]string{"--density", "--width", "NaN"}, "--width NaN, want σ ≥ 0"},
		{[]string{"--density", "--density-of", "X"}, `"X" is not an operator, want H, G or F`},
		{[]string{"--density", "--density-of", "H,h"}, "names H twice"},
	} {
		code, _, errOut := runCLI(t, append(base, tc.args...)...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: code %d stderr %q, want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}
