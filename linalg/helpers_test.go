package linalg

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// withSpectrum returns A = Q diag(lam) Qᵀ for a dense orthogonal Q, the
// product of four random Householder reflectors, built in O(n²) work per
// reflector:
//
//	(I − 2uuᵀ) A (I − 2uuᵀ) = A − 2u(Au)ᵀ − 2(Au)uᵀ + 4(uᵀAu) uuᵀ.
//
// The spectrum of A is lam to rounding. Lanczos from a random Gaussian
// start behaves the same for every orthogonal Q, so a Haar-distributed Q
// is not needed.
func withSpectrum(lam []float64, rnd *rand.Rand) *mat.SymDense {
	n := len(lam)
	a := mat.NewSymDense(n, nil)
	for i, l := range lam {
		a.SetSym(i, i, l)
	}
	u := make([]float64, n)
	au := make([]float64, n)
	for r := 0; r < 4; r++ {
		for i := range u {
			u[i] = rnd.NormFloat64()
		}
		floats.Scale(1/floats.Norm(u, 2), u)
		NewDense(a).MulVecTo(au, u)
		uau := floats.Dot(u, au)
		for i := 0; i < n; i++ {
			for j := i; j < n; j++ {
				a.SetSym(i, j, a.At(i, j)-2*u[i]*au[j]-2*au[i]*u[j]+4*uau*u[i]*u[j])
			}
		}
	}
	return a
}

// goe returns a random symmetric n×n matrix with independent N(0, 1/n)
// entries above the diagonal (spectrum ≈ semicircle on [−2, 2]).
func goe(n int, rnd *rand.Rand) *mat.SymDense {
	a := mat.NewSymDense(n, nil)
	sd := 1 / math.Sqrt(float64(n))
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			a.SetSym(i, j, sd*rnd.NormFloat64())
		}
	}
	return a
}

// perturbed returns A + E with E symmetric Gaussian scaled so that
// ‖E‖₂ ≈ rel·scale (‖E‖₂ ≈ 2σ√n for entries of deviation σ).
func perturbed(a *mat.SymDense, rel, scale float64, rnd *rand.Rand) *mat.SymDense {
	n := a.SymmetricDim()
	sd := rel * scale / (2 * math.Sqrt(float64(n)))
	b := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			b.SetSym(i, j, a.At(i, j)+sd*rnd.NormFloat64())
		}
	}
	return b
}

// hessianSpectrum returns a spectrum shaped like a trained network's
// Hessian, descending: k outliers top·ratio^i, a bulk of n−k−neg values
// bulk·u² (u uniform, so crowded near 0) and neg small negative values
// −negScale·u².
func hessianSpectrum(n, k, neg int, top, ratio, bulk, negScale float64, rnd *rand.Rand) []float64 {
	lam := make([]float64, n)
	for i := 0; i < k; i++ {
		lam[i] = top * math.Pow(ratio, float64(i))
	}
	for i := k; i < n-neg; i++ {
		u := rnd.Float64()
		lam[i] = bulk * u * u
	}
	for i := n - neg; i < n; i++ {
		u := rnd.Float64()
		lam[i] = -negScale * u * u
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(lam)))
	return lam
}

// eigenvaluesDesc returns the eigenvalues of a from a dense
// eigendecomposition (mat.EigenSym), descending.
func eigenvaluesDesc(t *testing.T, a mat.Symmetric) []float64 {
	t.Helper()
	var e mat.EigenSym
	if !e.Factorize(a, false) {
		t.Fatal("reference eigendecomposition failed")
	}
	v := e.Values(nil)
	slices.Reverse(v)
	return v
}

// diagOp is the diagonal operator diag(d).
type diagOp []float64

func (d diagOp) Dim() int { return len(d) }
func (d diagOp) MulVecTo(dst, x []float64) {
	for i, di := range d {
		dst[i] = di * x[i]
	}
}

// denseResidual returns ‖A y − θ y‖ computed entry by entry from a, a path
// independent of the operators under test.
func denseResidual(a mat.Symmetric, theta float64, y []float64) float64 {
	n := len(y)
	var s float64
	for i := 0; i < n; i++ {
		var ay float64
		for j := 0; j < n; j++ {
			ay += a.At(i, j) * y[j]
		}
		d := ay - theta*y[i]
		s += d * d
	}
	return math.Sqrt(s)
}

// orthonormalityError returns max |vᵢ·vⱼ − δᵢⱼ|.
func orthonormalityError(v [][]float64) float64 {
	var e float64
	for i := range v {
		for j := i; j < len(v); j++ {
			d := floats.Dot(v[i], v[j])
			if i == j {
				d--
			}
			e = max(e, math.Abs(d))
		}
	}
	return e
}

// checkPairs compares r with the reference eigenvalues want (descending,
// from the source named by the caller) and checks residuals and
// orthonormality against the dense matrix a (nil to skip residuals).
// Eigenvalues must agree to valTol relative to |want[0]|, recomputed
// residuals be ≤ resTol·σ, vectors be orthonormal to 1e-10.
func checkPairs(t *testing.T, r EigResult, err error, a mat.Symmetric, want []float64, valTol, resTol float64) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	if !r.Converged {
		t.Fatal("not converged")
	}
	if len(r.Values) != len(want) || len(r.Vectors) != len(want) || len(r.Residuals) != len(want) {
		t.Fatalf("got %d values, %d vectors, %d residuals, want %d", len(r.Values), len(r.Vectors), len(r.Residuals), len(want))
	}
	scale := math.Abs(want[0])
	worstVal := 0.0
	for i, w := range want {
		worstVal = max(worstVal, math.Abs(r.Values[i]-w)/scale)
	}
	if worstVal > valTol {
		t.Errorf("eigenvalues: worst relative error %.3g > %.3g\n got %v\nwant %v", worstVal, valTol, r.Values, want)
	}
	if a != nil {
		worstRes := 0.0
		for i, y := range r.Vectors {
			res := denseResidual(a, r.Values[i], y)
			worstRes = max(worstRes, res/r.Scale)
			if r.Residuals[i] > resTol*r.Scale {
				t.Errorf("pair %d: reported residual %.3g > %.3g·σ", i, r.Residuals[i], resTol)
			}
			if math.Abs(res-r.Residuals[i]) > 1e-12*r.Scale+0.01*res {
				t.Errorf("pair %d: reported residual %.3g, recomputed %.3g", i, r.Residuals[i], res)
			}
		}
		if worstRes > resTol {
			t.Errorf("residuals: worst ‖Ay−θy‖/σ = %.3g > %.3g", worstRes, resTol)
		}
		t.Logf("worst relative eigenvalue error %.2g, worst ‖Ay−θy‖/σ %.2g, %d products, %d restarts",
			worstVal, worstRes, r.Products, r.Restarts)
	}
	if e := orthonormalityError(r.Vectors); e > 1e-10 {
		t.Errorf("orthonormality error %.3g > 1e-10", e)
	}
}

// orthonormalized makes the vectors of V orthonormal in place, in order,
// by Gram–Schmidt applied twice (orthogonalize), and returns V. The vectors
// must be independent.
func orthonormalized(V [][]float64) [][]float64 {
	h, g := make([]float64, len(V)), make([]float64, len(V))
	for i, w := range V {
		_, after := orthogonalize(w, V[:i], h, g)
		floats.Scale(1/after, w)
	}
	return V
}
