package linalg

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"
	"gonum.org/v1/gonum/mat"
)

// frobeniusSq returns ‖A‖²_F = Σᵢⱼ aᵢⱼ², from the entries.
func frobeniusSq(a mat.Symmetric) float64 {
	n := a.SymmetricDim()
	var s float64
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			s += a.At(i, j) * a.At(i, j)
		}
	}
	return s
}

func TestFrobeniusSq(t *testing.T) {
	rnd := rand.New(rand.NewPCG(50, 1))
	n := 200
	a := goe(n, rnd)
	exact := frobeniusSq(a) // from the entries

	// The variance of one sample, 2(‖A²‖²_F − Σᵢ (A²)ᵢᵢ²), from a dense A².
	var a2 mat.Dense
	a2.Mul(a, a)
	var v float64
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			if i != j {
				v += 2 * a2.At(i, j) * a2.At(i, j)
			}
		}
	}

	var prev Estimate
	for _, m := range []int{50, 200, 800} {
		e := FrobeniusSq(NewDense(a), m, 7)
		t.Logf("m = %d: %.4f ± %.4f, exact %.4f, predicted stderr %.4f", m, e.Mean, e.StdErr, exact, math.Sqrt(v/float64(m)))
		if math.Abs(e.Mean-exact) > 4*e.StdErr {
			t.Errorf("m = %d: mean %.4f is %.1f stderr from the exact %.4f", m, e.Mean, math.Abs(e.Mean-exact)/e.StdErr, exact)
		}
		if r := e.StdErr / math.Sqrt(v/float64(m)); r < 0.7 || r > 1.3 {
			t.Errorf("m = %d: stderr %.4g, predicted %.4g", m, e.StdErr, math.Sqrt(v/float64(m)))
		}
		if prev.Samples > 0 {
			// 4× the samples, half the error.
			if r := prev.StdErr / e.StdErr; r < 1.4 || r > 2.8 {
				t.Errorf("stderr ratio %d→%d samples = %.2f, want ≈ 2", prev.Samples, m, r)
			}
		}
		prev = e
	}

	// Rademacher probes are exact for a diagonal operator: ‖D z‖² = Σ dᵢ².
	d := diagOp{1, -2, 3, 0.5}
	e := FrobeniusSq(d, 5, 1)
	if e.Mean != 14.25 || e.StdErr != 0 {
		t.Errorf("diagonal: %+v, want exactly 14.25 ± 0", e)
	}
}

func TestFrobeniusSqSharedProbes(t *testing.T) {
	// The same seed gives the same z: FrobeniusSqFunc on (A, B, A − B)
	// matches FrobeniusSq on each.
	rnd := rand.New(rand.NewPCG(51, 1))
	n := 100
	a, b := goe(n, rnd), goe(n, rnd)
	var mb, c mat.SymDense
	mb.ScaleSym(-1, b)
	c.AddSym(a, &mb)
	ops := []Operator{NewDense(a), NewDense(b)}
	got := FrobeniusSqFunc(n, 3, 20, 9, func(dst [][]float64, z []float64) {
		ops[0].MulVecTo(dst[0], z)
		ops[1].MulVecTo(dst[1], z)
		for i := range dst[2] {
			dst[2][i] = dst[0][i] - dst[1][i]
		}
	})
	for j, op := range []Operator{NewDense(a), NewDense(b), NewDense(&c)} {
		want := FrobeniusSq(op, 20, 9)
		if !scalar.EqualWithinRel(got[j].Mean, want.Mean, 1e-12) || !scalar.EqualWithinRel(got[j].StdErr, want.StdErr, 1e-9) {
			t.Errorf("operator %d: shared %+v, alone %+v", j, got[j], want)
		}
	}
}

func TestEnergy(t *testing.T) {
	rnd := rand.New(rand.NewPCG(52, 1))
	n, k := 300, 10
	lam := hessianSpectrum(n, k, 10, 40, 0.7, 0.5, 0.2, rnd)
	a := withSpectrum(lam, rnd)
	var exactTotal float64 // Σ λᵢ², the constructed spectrum
	for _, l := range lam {
		exactTotal += l * l
	}

	for _, c := range []struct {
		name string
		V    [][]float64
	}{
		{"random basis", randomBasis(k, n, rnd)},
		{"top eigenvectors", must(Lanczos(NewDense(a), EigOptions{K: k, Seed: 52})).Vectors},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := Energy(NewDense(a), c.V, 100, 3)
			// Numerator and Diag from dense products Vᵀ A V.
			var dom float64
			for i, vi := range c.V {
				for l, vl := range c.V {
					m := mat.Inner(mat.NewVecDense(n, vl), a, mat.NewVecDense(n, vi))
					dom += m * m
					if i == l && !scalar.EqualWithinAbsOrRel(e.Diag[i], m, 1e-12, 1e-12) {
						t.Errorf("Diag[%d] = %v, want %v", i, e.Diag[i], m)
					}
				}
			}
			if !scalar.EqualWithinRel(e.Dom, dom, 1e-12) {
				t.Errorf("Dom = %v, want %v", e.Dom, dom)
			}
			exact := dom / exactTotal
			plain := FrobeniusSq(NewDense(a), 100, 3)
			t.Logf("E_A = %.5f ± %.5f (exact %.5f); ‖A‖²_F = %.2f ± %.3f (plain Hutchinson ± %.3f), exact %.2f",
				e.Fraction, e.StdErr, exact, e.Total.Mean, e.Total.StdErr, plain.StdErr, exactTotal)
			if math.Abs(e.Total.Mean-exactTotal) > 4*e.Total.StdErr+1e-9*exactTotal {
				t.Errorf("‖A‖²_F = %v ± %v, exact %v", e.Total.Mean, e.Total.StdErr, exactTotal)
			}
			if math.Abs(e.Fraction-exact) > 4*e.StdErr+1e-12 {
				t.Errorf("E_A = %v ± %v, exact %v", e.Fraction, e.StdErr, exact)
			}
			if c.name == "top eigenvectors" {
				// Deflation removes the outliers' variance.
				if e.Total.StdErr > 0.1*plain.StdErr {
					t.Errorf("deflated stderr %.3g not much below plain %.3g", e.Total.StdErr, plain.StdErr)
				}
				if e.Fraction < 0.99 {
					t.Errorf("E_A = %v for the top eigenvectors of a Hessian-like spectrum", e.Fraction)
				}
			}
		})
	}
}

func TestEnergyFuncShared(t *testing.T) {
	// H, G and F = H − G from one pass equal three separate calls with the
	// same seed (F against a dense F).
	rnd := rand.New(rand.NewPCG(53, 1))
	n := 120
	h, g := goe(n, rnd), goe(n, rnd)
	var mg, f mat.SymDense
	mg.ScaleSym(-1, g)
	f.AddSym(h, &mg)
	V := randomBasis(4, n, rnd)
	H, G := NewDense(h), NewDense(g)
	got := EnergyFunc(n, 3, V, 30, 11, func(dst [][]float64, z []float64) {
		H.MulVecTo(dst[0], z)
		G.MulVecTo(dst[1], z)
		for i := range dst[2] {
			dst[2][i] = dst[0][i] - dst[1][i]
		}
	})
	for j, op := range []Operator{H, G, NewDense(&f)} {
		want := Energy(op, V, 30, 11)
		if !scalar.EqualWithinRel(got[j].Fraction, want.Fraction, 1e-10) ||
			!scalar.EqualWithinRel(got[j].StdErr, want.StdErr, 1e-8) ||
			!scalar.EqualWithinRel(got[j].Dom, want.Dom, 1e-10) {
			t.Errorf("operator %d: shared %+v, alone %+v", j, got[j], want)
		}
	}
	// vᵢᵀ F vᵢ = vᵢᵀ H vᵢ − vᵢᵀ G vᵢ
	for i := range V {
		if d := got[2].Diag[i] - (got[0].Diag[i] - got[1].Diag[i]); math.Abs(d) > 1e-12 {
			t.Errorf("Diag F ≠ Diag H − Diag G at %d", i)
		}
	}
}

func TestHutchinsonPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"samples": func() { FrobeniusSq(diagOp{1}, 1, 0) },
		"energy":  func() { Energy(diagOp{1}, nil, 0, 0) },
		"V":       func() { Energy(diagOp{1, 2}, [][]float64{{1}}, 5, 0) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func must(r EigResult, err error) EigResult {
	if err != nil {
		panic(err)
	}
	return r
}
