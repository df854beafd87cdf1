package experiment

import (
	"context"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"sharpflat/lab/rundir"
	"sharpflat/lab/train"
	"sharpflat/nn"
)

// edgePlace on hand-made spectra: 3 outliers 10, 8, 6 over a bulk topped at 1.
func TestEdgePlace(t *testing.T) {
	top := []float64{10, 8, 6, 1, 0.5}
	for _, c := range []struct {
		e    float64
		want string
	}{
		{20, "above all"}, {7, "among the outliers (λ3"}, {6, "among the outliers"}, {3, "in the gap (λ4 < 2/η < λ3)"}, {1, "inside the bulk (2/η ≤ λ4)"},
		{0.7, "inside the bulk"}, {math.NaN(), "—"},
	} {
		if got := edgePlace(top, 3, c.e); !strings.HasPrefix(got, c.want) {
			t.Errorf("edge %v: %q, want %q…", c.e, got, c.want)
		}
	}
	if got := edgePlace(top, 0, 5); !strings.HasPrefix(got, "inside the bulk (2/η ≤ λ1)") {
		t.Errorf("no outliers, edge 5: %q", got)
	}
}

// largestRatio by hand: 10/8 = 1.25, 8/2 = 4, 2/1 = 2; a non-positive value ends the pairs.
func TestLargestRatio(t *testing.T) {
	if r, at := largestRatio([]float64{10, 8, 2, 1, -1, -5}); r != 4 || at != 2 {
		t.Errorf("largest ratio %v at %d, want 4 at 2", r, at)
	}
	if r, at := largestRatio([]float64{1, 0}); !math.IsNaN(r) || at != 0 {
		t.Errorf("no positive pair: %v at %d, want NaN at 0", r, at)
	}
}

// A plan asks for densities only within its arms' steps.
func TestPlanDensityStepsInRange(t *testing.T) {
	base, err := Curvature.BaseConfig(true)
	if err != nil {
		t.Fatal(err)
	}
	plan, s, err := Curvature.Plan(base, Sweep{Quick: true, Warmup: -1})
	if err != nil {
		t.Fatal(err)
	}
	if got := plan.Groups[0].Arms[0].DensityAt; !slices.Equal(got, []int{0, s.Steps / 2, s.Steps}) {
		t.Errorf("curvature asks for densities at %v, want 0, %d, %d", got, s.Steps/2, s.Steps)
	}
	for _, bad := range []int{-1, s.Steps + 1} {
		p := plan
		p.Groups = []Group{plan.Groups[0]}
		p.Groups[0].Arms = []Arm{plan.Groups[0].Arms[0]}
		p.Groups[0].Arms[0].DensityAt = []int{bad}
		if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "density at step") {
			t.Errorf("density at step %d: %v, want a refusal", bad, err)
		}
	}
}

// The symmetric-log scale: s(λ) = sign(λ)·log₁₀(1 + |λ|/λ₀), by hand for λ₀ = 0.1.
func TestSymLog(t *testing.T) {
	s := symLog{0.1}
	for _, c := range []struct{ x, want float64 }{{0, 0}, {0.9, 1}, {-9.9, -2}, {99.9, 3}} {
		if got := s.f(c.x); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("s(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	// On [−9.9, 99.9] (s from −2 to 3), 0 sits at 2/5 and 0.9 at 3/5.
	if got := s.Normalize(-9.9, 99.9, 0); math.Abs(got-0.4) > 1e-12 {
		t.Errorf("Normalize(0) = %v, want 0.4", got)
	}
	if got := s.Normalize(-9.9, 99.9, 0.9); math.Abs(got-0.6) > 1e-12 {
		t.Errorf("Normalize(0.9) = %v, want 0.6", got)
	}
	var vals []float64
	for _, tk := range (symLogTicks{0.1}).Ticks(-9.9, 99.9) {
		vals = append(vals, tk.Value)
	}
	if want := []float64{-1, 0, 1, 10}; !equalF(vals, want) {
		t.Errorf("ticks %v, want %v", vals, want)
	}
}

// nearCSV reports whether the CSV number s is within rel of want, relatively.
func nearCSV(s string, want, rel float64) bool {
	var v float64
	if _, err := fmt.Sscan(s, &v); err != nil {
		return false
	}
	return math.Abs(v-want) <= rel*math.Abs(want)
}

func equalF(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The quick curvature experiment estimates the density at the start, middle and end of
// training: each integrates to 1, its exact top eigenvalues are those of a dense
// eigendecomposition of H at the arm's final weights, the report counts the outliers of the
// dense spectrum, and the figure decodes.
func TestCurvatureDensity(t *testing.T) {
	dir := t.TempDir()
	if _, err := quickRun(t, context.Background(), "curvature", dir, Sweep{Warmup: -1}); err != nil {
		t.Fatal(err)
	}
	res, err := LoadResults(dir)
	if err != nil {
		t.Fatal(err)
	}
	g := res.Plan.Groups[0]
	armDir := res.RunDirOf(g.Name, "sgd")
	pts, err := readDensity(armDir)
	if err != nil {
		t.Fatal(err)
	}
	steps := g.Arms[0].Steps
	if len(pts) != 3 || pts[0].Step != 0 || pts[1].Step != steps/2 || pts[2].Step != steps {
		t.Fatalf("density points at %v, want 0, %d, %d", func() (s []int) {
			for _, p := range pts {
				s = append(s, p.Step)
			}
			return
		}(), steps/2, steps)
	}
	for _, p := range pts {
		var integral float64 // trapezoid rule, as the density is normalised
		for i := 1; i < len(p.Lambda); i++ {
			integral += (p.Lambda[i] - p.Lambda[i-1]) * (p.Density[i] + p.Density[i-1]) / 2
		}
		if math.Abs(integral-1) > 1e-9 {
			t.Errorf("step %d: the density integrates to %v", p.Step, integral)
		}
		if p.Probes*p.Steps != p.Products || len(p.Nodes) != p.Probes {
			t.Errorf("step %d: %d probes × %d steps, %d products, %d node sets", p.Step, p.Probes, p.Steps, p.Products, len(p.Nodes))
		}
	}

	// The reference: H at the final weights, column by column, and gonum's EigenSym.
	cfg, err := rundir.ReadConfig(armDir)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := train.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, theta, err := nn.LoadMLP(filepath.Join(armDir, "weights.safetensors"), cfg.Act, cfg.Loss)
	if err != nil {
		t.Fatal(err)
	}
	_, _, hess := tr.Data()
	b, err := tr.Model().Bind(theta, hess)
	if err != nil {
		t.Fatal(err)
	}
	P := b.Dim()
	h := mat.NewSymDense(P, nil)
	e, col := make([]float64, P), make([]float64, P)
	for j := range P {
		e[j] = 1
		b.HVP(col, e)
		e[j] = 0
		for i := j; i < P; i++ {
			h.SetSym(j, i, col[i]) // the upper triangle from the columns
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(h, false) {
		t.Fatal("EigenSym failed")
	}
	dense := eig.Values(nil)
	sort.Sort(sort.Reverse(sort.Float64Slice(dense)))
	end := pts[2]
	if want := densityProbes(hess.Classes, cfg.K, P); len(end.Top) != want {
		t.Fatalf("%d exact eigenvalues, want %d", len(end.Top), want)
	}
	for i, l := range end.Top {
		if math.Abs(l-dense[i]) > 1e-6*math.Abs(dense[0]) {
			t.Errorf("λ%d = %.10g, dense %.10g", i+1, l, dense[i])
		}
	}
	n, _ := train.Outliers(dense[:len(end.Top)-1], dense[len(end.Top)-1])
	wantRatio, _ := largestRatio(dense[:len(end.Top)]) // its index may differ where two ratios tie to 1e-6
	raw, err := os.ReadFile(filepath.Join(dir, "curvature_density.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) != 4 {
		t.Fatalf("curvature_density.csv: %d lines, want a header and 3 points", len(lines))
	}
	if cells := strings.Split(lines[3], ","); cells[2] != fmtG(float64(steps), 3) || cells[5] != fmtG(float64(n), 3) || !nearCSV(cells[7], wantRatio, 1e-5) {
		t.Errorf("end row %v: want step %d, %d outliers and a largest ratio %.8g (the dense spectrum's)", cells, steps, n, wantRatio)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	if !strings.Contains(string(md), "curvature_density.png") || !strings.Contains(string(md), "outliers of the top") {
		t.Errorf("report.md lacks the density figure or the outlier finding")
	}
	f, err := os.Open(filepath.Join(dir, "curvature_density.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("curvature_density.png: %v", err)
	}
}
