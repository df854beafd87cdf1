package linalg

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/lapack"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// The reference is gonum's dense symmetric eigensolver (LAPACK's dsyev: Householder
// tridiagonalisation, then QR on the whole eigenvector matrix) on the same matrix written
// out in full: tridiagLastRow's eigenvalues must agree to a few ulps of ‖T‖, and its last
// entries with the last row of the reference's eigenvectors up to sign.
func TestTridiagLastRowAgainstDsyev(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	cases := map[string]func(n int) (d, e []float64){
		"random": func(n int) (d, e []float64) {
			d, e = make([]float64, n), make([]float64, n)
			for i := range d {
				d[i], e[i] = r.NormFloat64(), r.NormFloat64()
			}
			return d, e
		},
		// A Lanczos T of a spectrum with a few outliers over a bulk, the case of the refresh:
		// some Ritz values converged (tiny last entries), the rest not.
		"lanczos": func(n int) (d, e []float64) {
			spec := make([]float64, 300)
			for i := range spec {
				spec[i] = 0.01 * r.Float64()
			}
			for i := range 10 {
				spec[i] = 1 + float64(i)*0.1
			}
			return lanczosT(spec, n, r)
		},
		// Equal diagonal and tiny couplings: deflation everywhere, eigenvalues in clusters.
		"clustered": func(n int) (d, e []float64) {
			d, e = make([]float64, n), make([]float64, n)
			for i := range d {
				d[i], e[i] = 1, 1e-9*r.NormFloat64()
			}
			return d, e
		},
	}
	for name, gen := range cases {
		for _, n := range []int{1, 2, 3, 7, 20, 42, 60} {
			d, e := gen(n)
			a := make([]float64, n*n)
			for i := range n {
				a[i*n+i] = d[i]
				if i+1 < n {
					a[i*n+i+1], a[(i+1)*n+i] = e[i], e[i]
				}
			}
			norm := 0.0
			for _, v := range a {
				norm = max(norm, math.Abs(v))
			}
			norm *= 3
			w := make([]float64, n)
			work := make([]float64, 1)
			lapack64.Syev(lapack.EVCompute, blas64.Symmetric{Uplo: blas.Upper, N: n, Stride: n, Data: a}, w, work, -1)
			work = make([]float64, int(work[0]))
			if !lapack64.Syev(lapack.EVCompute, blas64.Symmetric{Uplo: blas.Upper, N: n, Stride: n, Data: a}, w, work, len(work)) {
				t.Fatalf("%s n=%d: the reference failed", name, n)
			}
			z := make([]float64, n)
			if !tridiagLastRow(d, e, z) {
				t.Fatalf("%s n=%d: no convergence", name, n)
			}
			for i := range n {
				if diff := math.Abs(d[i] - w[i]); diff > 1e-14*norm {
					t.Errorf("%s n=%d: eigenvalue %d is %.17g, dsyev %.17g (difference %.2g ‖T‖)", name, n, i, d[i], w[i], diff/norm)
				}
				// The last entry of a vector whose eigenvalue is isolated is well defined up
				// to sign; in a cluster of eigenvalues closer than 1e-8 only the cluster's
				// combined weight is.
				if isolated(w, i, 1e-8*norm) {
					ref := a[(n-1)*n+i]
					if diff := math.Abs(math.Abs(z[i]) - math.Abs(ref)); diff > 1e-10 {
						t.Errorf("%s n=%d: last entry %d is %.6g, dsyev %.6g", name, n, i, z[i], ref)
					}
				}
			}
			var sum float64
			for _, v := range z {
				sum += v * v
			}
			if math.Abs(sum-1) > 1e-13 {
				t.Errorf("%s n=%d: the last row has norm² %.17g, want 1 (orthogonal rotations)", name, n, sum)
			}
		}
	}
}

func isolated(w []float64, i int, gap float64) bool {
	return (i == 0 || w[i]-w[i-1] > gap) && (i == len(w)-1 || w[i+1]-w[i] > gap)
}

// lanczosT returns the n×n tridiagonal matrix of n steps of Lanczos, with full
// reorthogonalisation, on diag(spec) from a random start.
func lanczosT(spec []float64, n int, r *rand.Rand) (d, e []float64) {
	N := len(spec)
	q := make([][]float64, 0, n)
	v := make([]float64, N)
	for i := range v {
		v[i] = r.NormFloat64()
	}
	floats.Scale(1/floats.Norm(v, 2), v)
	d, e = make([]float64, n), make([]float64, n)
	for k := range n {
		q = append(q, v)
		w := make([]float64, N)
		for i := range w {
			w[i] = spec[i] * v[i]
		}
		for range 2 {
			for _, u := range q {
				c := floats.Dot(u, w)
				floats.AddScaled(w, -c, u)
			}
		}
		d[k] = rayleigh(spec, v)
		b := floats.Norm(w, 2)
		e[k] = b
		floats.Scale(1/b, w)
		v = w
	}
	return d, e
}

func rayleigh(spec, v []float64) float64 {
	var s float64
	for i, x := range v {
		s += spec[i] * x * x
	}
	return s
}

// hypot against math.Hypot: within 1 ulp in the direct range, equal outside it (where it is
// math.Hypot), and NaN/Inf as math.Hypot.
func TestHypot(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 100000 {
		x := r.NormFloat64() * math.Exp2(float64(r.IntN(1400)-700))
		y := r.NormFloat64() * math.Exp2(float64(r.IntN(1400)-700))
		got, want := hypot(x, y), math.Hypot(x, y)
		if math.Abs(got-want) > 0x1p-51*want { // 1 ulp of want is at most 2⁻⁵²·2·want
			t.Fatalf("hypot(%g, %g) = %g, math.Hypot %g", x, y, got, want)
		}
	}
	for _, c := range [][2]float64{{math.Inf(1), 1}, {math.NaN(), 1}, {math.Inf(-1), math.NaN()}, {0, 0}, {3, 4}} {
		got, want := hypot(c[0], c[1]), math.Hypot(c[0], c[1])
		if !(got == want || math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("hypot(%g, %g) = %g, math.Hypot %g", c[0], c[1], got, want)
		}
	}
}
