package linalg

import (
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// warmCold solves the k top pairs of a, then of a perturbed copy cold
// (Lanczos) and warm (Refine from the first solve), checks both against
// the dense reference and returns the product counts.
func warmCold(t *testing.T, lam []float64, rel float64, seed uint64, opt EigOptions) (warm, cold int) {
	t.Helper()
	rnd := rand.New(rand.NewPCG(seed, 7))
	a := withSpectrum(lam, rnd)
	b := a
	if rel > 0 {
		b = perturbed(a, rel, lam[0], rnd)
	}
	want := lam[:opt.K] // the constructed spectrum
	if rel > 0 {
		want = eigenvaluesDesc(t, b)[:opt.K] // from a dense eigendecomposition
	}
	opt.Seed = seed
	prev, err := Lanczos(NewDense(a), opt)
	if err != nil {
		t.Fatal(err)
	}
	opt.Seed = seed + 1
	c, err := Lanczos(NewDense(b), opt)
	checkPairs(t, c, err, b, want, 1e-9, opt.Tol)
	w, err := Refine(NewDense(b), prev.Vectors, opt)
	checkPairs(t, w, err, b, want, 1e-9, opt.Tol)
	return w.Products, c.Products
}

// TestRefineWarmVsCold measures the products a warm start saves after a
// small change of the operator.
//
// The saving has a floor. A cold Lanczos spends K products to span K
// vectors, some more to filter the rest of the spectrum out of its random
// start, and K to check the true residuals. Refine saves only part of the
// filtering, so even an exact prev costs 2K. On the Hessian-like spectrum
// below (outliers well separated from the bulk, so cold filtering is
// cheap) cold Lanczos needs 30 products and no warm start with checked
// residuals can go below 20/30 = 0.67. The bounds asserted are the
// seeded runs are deterministic; over ten seeds of this test the ratios
// were 0.87–0.90, 0.78–0.84 and 0.70–0.73, and the bounds add about one
// product of margin to the worst. EstimateResiduals removes K products
// from both runs; the ratios are logged.
func TestRefineWarmVsCold(t *testing.T) {
	for _, c := range []struct {
		name              string
		top, ratio, bulk  float64
		rel, bound, float float64
	}{
		// Ten outliers 40·0.7^i over a bulk in [0, 0.5], ten negatives in
		// [−0.2, 0], perturbed by a symmetric Gaussian of norm 1e-3·λ₁.
		{name: "separated", top: 40, ratio: 0.7, bulk: 0.5, rel: 1e-3, bound: 0.93},
		// Outliers 10·0.95^i, bulk in [0, 5]: slower to filter.
		{name: "crowded", top: 10, ratio: 0.95, bulk: 5, rel: 1e-3, bound: 0.88},
		// The floor: the same operator, prev accurate to Tol.
		{name: "unchanged", top: 40, ratio: 0.7, bulk: 0.5, rel: 0, bound: 0.77},
	} {
		t.Run(c.name, func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(20, 1))
			lam := hessianSpectrum(500, 10, 10, c.top, c.ratio, c.bulk, 0.2, rnd)
			opt := EigOptions{K: 10, Tol: 1e-8}
			warm, cold := warmCold(t, lam, c.rel, 21, opt)
			ratio := float64(warm) / float64(cold)
			opt.EstimateResiduals = true
			warmE, coldE := warmCold(t, lam, c.rel, 21, opt)
			t.Logf("n=500 K=10 Tol=1e-8 rel=%g: warm %d / cold %d products = %.2f (estimated residuals: %d / %d = %.2f)",
				c.rel, warm, cold, ratio, warmE, coldE, float64(warmE)/float64(coldE))
			if ratio > c.bound {
				t.Errorf("warm/cold = %.2f, want ≤ %.2f", ratio, c.bound)
			}
		})
	}
}

func TestRefineReordered(t *testing.T) {
	// λ₁…λ₉ = 10, 9.5, …, 6, λ₁₀ = 4, λ₁₁ = 3.9, a bulk in [0, 3]. The
	// change lifts λ₁₁ to 4.5, above λ₁₀, and adds a perturbation of norm
	// 1e-3·λ₁ that mixes the eigenvectors. Refine starts from the old top
	// ten, which miss the new tenth eigenvector almost entirely, and must
	// still return the new top ten (reference: dense eigendecomposition).
	n := 300
	rnd := rand.New(rand.NewPCG(22, 1))
	lam := hessianSpectrum(n, 0, 0, 0, 0, 3, 0, rnd)
	for i := 0; i < 9; i++ {
		lam[i] = 10 - 0.5*float64(i)
	}
	lam[9], lam[10] = 4, 3.9
	lifted := slices.Clone(lam)
	lifted[10] = 4.5
	a := withSpectrum(lam, rand.New(rand.NewPCG(22, 2)))
	b := withSpectrum(lifted, rand.New(rand.NewPCG(22, 2))) // the same eigenvectors
	b = perturbed(b, 1e-3, 10, rand.New(rand.NewPCG(22, 3)))
	want := eigenvaluesDesc(t, b)[:10] // from a dense eigendecomposition

	prev, err := Lanczos(NewDense(a), EigOptions{K: 10, Seed: 22})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Refine(NewDense(b), prev.Vectors, EigOptions{K: 10, Seed: 23})
	checkPairs(t, r, err, b, want, 1e-9, 1e-8)
	if r.Values[9] < 4.4 {
		t.Fatalf("λ₁₀ = %v, want the lifted eigenvalue near 4.5", r.Values[9])
	}
	chi := Alignment(prev.Vectors, r.Vectors[9])
	t.Logf("new λ₁₀ = %.4f (old λ₁₀ = 4), alignment with prev %.3f, overlap %.3f, %d products",
		r.Values[9], chi, Overlap(prev.Vectors, r.Vectors), r.Products)
	if chi > 0.1 {
		t.Errorf("alignment of the new v₁₀ with prev = %.3f: the test does not reorder", chi)
	}
}

func TestRefineFallback(t *testing.T) {
	rnd := rand.New(rand.NewPCG(24, 1))
	a := goe(120, rnd)
	opt := EigOptions{K: 4, Seed: 24}
	cold, err := Lanczos(NewDense(a), opt)
	if err != nil {
		t.Fatal(err)
	}
	wrong := [][]float64{make([]float64, 119)}
	zero := [][]float64{make([]float64, 120), make([]float64, 120)}
	for name, prev := range map[string][][]float64{"nil": nil, "wrong length": wrong, "zero": zero} {
		r, err := Refine(NewDense(a), prev, opt)
		if err != nil || r.Products != cold.Products || !slices.Equal(r.Values, cold.Values) {
			t.Errorf("%s: Refine = %v (%d products, %v), want the cold run %v (%d products)",
				name, r.Values, r.Products, err, cold.Values, cold.Products)
		}
	}
}

func TestRefinePrevSize(t *testing.T) {
	// K grew (prev has 5 vectors) or shrank (prev has 12): the answer is
	// the new top ten regardless (reference: dense eigendecomposition).
	rnd := rand.New(rand.NewPCG(25, 1))
	lam := hessianSpectrum(300, 15, 5, 20, 0.8, 1, 0.2, rnd)
	a := withSpectrum(lam, rnd)
	b := perturbed(a, 1e-3, lam[0], rnd)
	want := eigenvaluesDesc(t, b)[:10]
	for _, k := range []int{5, 12} {
		prev, err := Lanczos(NewDense(a), EigOptions{K: k, Seed: 25})
		if err != nil {
			t.Fatal(err)
		}
		r, err := Refine(NewDense(b), prev.Vectors, EigOptions{K: 10, Seed: 26})
		checkPairs(t, r, err, b, want, 1e-9, 1e-8)
	}
	// prev is not modified.
	prev, _ := Lanczos(NewDense(a), EigOptions{K: 10, Seed: 25})
	saved := make([][]float64, len(prev.Vectors))
	for i, v := range prev.Vectors {
		saved[i] = slices.Clone(v)
	}
	Refine(NewDense(b), prev.Vectors, EigOptions{K: 10, Seed: 26})
	for i := range saved {
		if !slices.Equal(saved[i], prev.Vectors[i]) {
			t.Fatalf("Refine modified prev[%d]", i)
		}
	}
}

func TestRefineBlock(t *testing.T) {
	// A linear model under MSE has Hessian I_C ⊗ Σ: every eigenvalue of Σ
	// C times. With BlockSize C, Refine after a small change keeps all
	// copies (reference: the Kronecker spectrum, perturbed densely).
	rnd := rand.New(rand.NewPCG(27, 1))
	const c, d = 3, 40
	sig := hessianSpectrum(d, 3, 0, 4, 0.6, 0.5, 0, rnd)
	lam := make([]float64, 0, c*d)
	for _, s := range sig {
		for range c {
			lam = append(lam, s)
		}
	}
	a := withSpectrum(lam, rnd)
	opt := EigOptions{K: 6, BlockSize: c, Seed: 27}
	prev, err := Lanczos(NewDense(a), opt)
	checkPairs(t, prev, err, a, lam[:6], 1e-9, 1e-10)
	b := mat.NewSymDense(c*d, nil)
	b.CopySym(a)
	b.SetSym(0, 0, b.At(0, 0)+1e-3) // a small, structure-breaking change
	want := eigenvaluesDesc(t, b)[:6]
	r, err := Refine(NewDense(b), prev.Vectors, opt)
	checkPairs(t, r, err, b, want, 1e-9, 1e-10)
}
