package train

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"

	"sharpflat/linalg"
	"sharpflat/nn"
)

// trainedALittle returns the small demo config (P = 778, Hessian set 100) with the given loss
// and activation after n steps of SGD, where the spectrum has left its initial shape: a few
// eigenvalues above a bulk near zero, and negative eigenvalues.
func trainedALittle(t *testing.T, loss nn.Loss, act nn.Activation, n int) *Trainer {
	t.Helper()
	c := small()
	c.Loss, c.Act, c.RefreshEvery, c.EnergyEvery = loss, act, 0, 0
	tr, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	steps(t, tr, n)
	return tr
}

// TestDensityAgainstDenseHessian: SLQ's quadrature (20 probes × 80 steps) against the exact
// spectrum of the dense Hessian (denseSpectrum: P HVPs with unit vectors, mat.EigenSym), for
// CE and MSE, tanh and ReLU:
//   - the 1-Wasserstein distance is ≤ 0.006 × (λ_max − λ_min), and a spike at 0 fails it;
//   - Moment(1) and Moment(2) are within 3 standard errors of tr(H)/P and tr(H²)/P;
//   - the extreme nodes are within 1e-8·max(1, |λ|) of λ_max and λ_min.
func TestDensityAgainstDenseHessian(t *testing.T) {
	numericsOnly(t)
	for _, c := range []struct {
		loss nn.Loss
		act  nn.Activation
	}{{nn.CrossEntropy, nn.Tanh}, {nn.MSE, nn.Tanh}, {nn.CrossEntropy, nn.ReLU}, {nn.MSE, nn.ReLU}} {
		t.Run(fmt.Sprintf("%v-%v", c.loss, c.act), func(t *testing.T) {
			tr := trainedALittle(t, c.loss, c.act, 100)
			exact := denseSpectrum(t, tr) // descending
			slices.Sort(exact)
			P := len(exact)
			lo, hi := exact[0], exact[P-1]
			span := hi - lo
			if lo >= 0 {
				t.Fatalf("λ_min = %v: the test wants negative eigenvalues", lo)
			}
			_, _, hess := tr.Data()
			b, err := tr.Model().Bind(tr.Theta(), hess)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Density(b, nn.Hessian, DensityOptions{Probes: 20, Steps: 80, Seed: 5})
			if err != nil {
				t.Fatal(err)
			}
			q := r.Quad
			w := q.W1(exact)
			spike := linalg.Quadrature{Dim: P, Nodes: [][]float64{{0}}, Weights: [][]float64{{1}}}.W1(exact)
			t.Logf("P=%d λ ∈ [%.4g, %.4g]: W1(SLQ) = %.2e × range, W1(spike at 0) = %.2e × range", P, lo, hi, w/span, spike/span)
			if w > 0.006*span {
				t.Errorf("W1 = %.3g × range, want ≤ 0.006", w/span)
			}
			if spike <= 0.006*span {
				t.Errorf("a spike at 0 passes: W1 = %.3g × range", spike/span)
			}
			var m1, m2 float64 // tr(H)/P and tr(H²)/P from the exact eigenvalues
			for _, l := range exact {
				m1 += l / float64(P)
				m2 += l * l / float64(P)
			}
			for p, want := range []float64{1: m1, 2: m2} {
				if p == 0 {
					continue
				}
				e := q.Moment(p)
				t.Logf("tr(H^%d)/P = %.6g, SLQ %.6g ± %.2g", p, want, e.Mean, e.StdErr)
				if math.Abs(e.Mean-want) > 3*e.StdErr {
					t.Errorf("Moment(%d) = %v ± %v, exact %v: off by %.1f standard errors", p, e.Mean, e.StdErr, want, math.Abs(e.Mean-want)/e.StdErr)
				}
			}
			qlo, qhi := q.Range()
			if math.Abs(qhi-hi) > 1e-8*math.Max(1, math.Abs(hi)) || math.Abs(qlo-lo) > 1e-8*math.Max(1, math.Abs(lo)) {
				t.Errorf("nodes span [%.12g, %.12g], exact [%.12g, %.12g]", qlo, qhi, lo, hi)
			}
		})
	}
}

// TestDensityReport: the report's grid, width, counts and normalisation.
func TestDensityReport(t *testing.T) {
	tr := trainedALittle(t, nn.CrossEntropy, nn.Tanh, 5)
	_, _, hess := tr.Data()
	b, err := tr.Model().Bind(tr.Theta(), hess)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Density(b, nn.Hessian, DensityOptions{Probes: 3, Steps: 12, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.Of != nn.Hessian || r.Probes != 3 || r.Steps != 12 || r.Products != 36 || len(r.Quad.Nodes) != 3 {
		t.Errorf("report %v, %d probes × %d steps, %d products, %d probes of nodes; want H, 3 × 12, 36, 3",
			r.Of, r.Probes, r.Steps, r.Products, len(r.Quad.Nodes))
	}
	if len(r.Lambda) != 200 || len(r.Density) != 200 || !sort.Float64sAreSorted(r.Lambda) {
		t.Fatalf("grid of %d points (density %d), want 200 ascending", len(r.Lambda), len(r.Density))
	}
	// The default width is the grid spacing, and the grid spans the nodes ± 5σ.
	lo, hi := r.Quad.Range()
	if h := r.Lambda[1] - r.Lambda[0]; math.Abs(h-r.Width) > 1e-12*r.Width {
		t.Errorf("spacing %v, width %v: want equal", h, r.Width)
	}
	if math.Abs(r.Lambda[0]-(lo-5*r.Width)) > 1e-12 || math.Abs(r.Lambda[199]-(hi+5*r.Width)) > 1e-12 {
		t.Errorf("grid [%v, %v], nodes [%v, %v], σ %v", r.Lambda[0], r.Lambda[199], lo, hi, r.Width)
	}
	area := 0.0 // trapezoid rule, written out again
	for i := 1; i < len(r.Lambda); i++ {
		area += (r.Lambda[i] - r.Lambda[i-1]) * (r.Density[i] + r.Density[i-1]) / 2
	}
	if math.Abs(area-1) > 1e-12 {
		t.Errorf("∫ density = %v, want 1", area)
	}
	// A width finer than the grid's spacing gets a finer grid (spacing ≤ σ), so the mass
	// stays where the nodes are: the smoothed density's mean is the quadrature's first
	// moment (a Gaussian kernel keeps the mean). On 200 points this width put the mean 50%
	// off (found by review: 0.054 against 0.0345 on a demo run).
	fine := r.Width / 10
	rf, err := Density(b, nn.Hessian, DensityOptions{Probes: 3, Steps: 12, Seed: 1, Width: fine})
	if err != nil {
		t.Fatal(err)
	}
	if h := rf.Lambda[1] - rf.Lambda[0]; h > fine*(1+1e-9) || len(rf.Lambda) <= 200 {
		t.Errorf("width %v: spacing %v on %d points, want spacing ≤ width", fine, h, len(rf.Lambda))
	}
	mean := 0.0
	for i := 1; i < len(rf.Lambda); i++ {
		mean += (rf.Lambda[i] - rf.Lambda[i-1]) * (rf.Lambda[i]*rf.Density[i] + rf.Lambda[i-1]*rf.Density[i-1]) / 2
	}
	if m1 := rf.Quad.Moment(1).Mean; math.Abs(mean-m1) > 1e-3*(hi-lo) {
		t.Errorf("fine width: ∫λφ = %v, quadrature's mean %v", mean, m1)
	}
	if _, err := Density(b, nn.Hessian, DensityOptions{Probes: 3, Steps: 12, Seed: 1, Width: (hi - lo) / 1e6}); err == nil || !strings.Contains(err.Error(), "too fine") {
		t.Errorf("a width needing 10⁶ points: err %v, want it refused", err)
	}
	// A given width and grid are used as given.
	r2, err := Density(b, nn.Hessian, DensityOptions{Probes: 3, Steps: 12, Seed: 1, Width: 0.05, Grid: 50})
	if err != nil {
		t.Fatal(err)
	}
	if r2.Width != 0.05 || len(r2.Lambda) != 50 || !slices.Equal(r2.Quad.Nodes[0], r.Quad.Nodes[0]) {
		t.Errorf("width %v, grid %d: want 0.05, 50 and the same nodes for the same seed", r2.Width, len(r2.Lambda))
	}
	if _, err := Density(b, nn.Hessian, DensityOptions{Width: -1}); err == nil {
		t.Error("a negative width was accepted")
	}
}

// TestDensityGGN: G is positive semi-definite, so its nodes (Ritz values of a PSD operator)
// are ≥ 0 up to rounding, while H at the same point has negative ones; and F = H − G has a
// first moment tr(F)/P = tr(H)/P − tr(G)/P on the same probes (the quadrature's first moment
// is exactly q₁ᵀAq₁, linear in A).
func TestDensityGGN(t *testing.T) {
	tr := trainedALittle(t, nn.CrossEntropy, nn.Tanh, 20)
	_, _, hess := tr.Data()
	b, err := tr.Model().Bind(tr.Theta(), hess)
	if err != nil {
		t.Fatal(err)
	}
	opt := DensityOptions{Probes: 4, Steps: 30, Seed: 2}
	var m [3]float64
	for i, of := range []nn.Curvature{nn.Hessian, nn.GaussNewton, nn.Functional} {
		r, err := Density(b, of, opt)
		if err != nil {
			t.Fatal(err)
		}
		if r.Of != of {
			t.Errorf("Of = %v, want %v", r.Of, of)
		}
		m[i] = r.Quad.Moment(1).Mean
		lo, hi := r.Quad.Range()
		if of == nn.GaussNewton && lo < -1e-12*hi {
			t.Errorf("G has a node %v < 0 (largest %v)", lo, hi)
		}
		if of == nn.Hessian && lo >= 0 {
			t.Errorf("H's smallest node %v, want < 0 after 20 steps", lo)
		}
	}
	if math.Abs(m[0]-m[1]-m[2]) > 1e-12*math.Abs(m[0]) {
		t.Errorf("tr H/P − tr G/P − tr F/P = %v, want 0", m[0]-m[1]-m[2])
	}
}

// TestDensityCancel: Cancel stops Density within one product, with ErrCanceled.
func TestDensityCancel(t *testing.T) {
	tr := trainedALittle(t, nn.CrossEntropy, nn.Tanh, 1)
	_, _, hess := tr.Data()
	b, err := tr.Model().Bind(tr.Theta(), hess)
	if err != nil {
		t.Fatal(err)
	}
	asked := 0
	r, err := Density(b, nn.Hessian, DensityOptions{Cancel: func() bool { asked++; return asked > 17 }})
	if !errors.Is(err, linalg.ErrCanceled) {
		t.Fatalf("err = %v, want ErrCanceled", err)
	}
	if r.Products != 17 {
		t.Errorf("%d products, want 17", r.Products)
	}
}
