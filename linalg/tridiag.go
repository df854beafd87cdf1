package linalg

import "math"

// tridiagLastRow computes the eigenvalues of the symmetric tridiagonal matrix with diagonal
// d and off-diagonal e (e[i] couples i and i+1; len(e) ≥ len(d)−1) and the last entries of
// its unit eigenvectors, without the rest of the vectors: O(n²) instead of the O(n³) of a
// full eigendecomposition. On return d holds the eigenvalues in ascending order and z[i]
// the last entry of the eigenvector of d[i]; e is destroyed and must have room for len(d)
// entries. It reports false if the iteration did not converge (30 sweeps per eigenvalue).
//
// This is the implicit QL iteration with Wilkinson shifts of EISPACK's tql2 (as published in
// JAMA, public domain), with the accumulated rotations applied to the last row of the
// eigenvector matrix only, as ARPACK's dstqrb does for its Ritz estimates: the estimates of
// a Lanczos iteration need |β·zᵢ| and nothing else of the vectors.
func tridiagLastRow(d, e, z []float64) bool {
	n := len(d)
	if n == 0 {
		return true
	}
	clear(z[:n])
	z[n-1] = 1
	e[n-1] = 0
	const eps = 0x1p-52
	var f, tst1 float64
	for l := 0; l < n; l++ {
		// Find a negligible off-diagonal entry.
		tst1 = max(tst1, math.Abs(d[l])+math.Abs(e[l]))
		m := l
		for m < n-1 && math.Abs(e[m]) > eps*tst1 {
			m++
		}
		for iter := 0; m > l; iter++ {
			if iter == 30 {
				return false
			}
			// The implicit shift.
			g := d[l]
			p := (d[l+1] - g) / (2 * e[l])
			r := hypot(p, 1)
			if p < 0 {
				r = -r
			}
			d[l] = e[l] / (p + r)
			d[l+1] = e[l] * (p + r)
			dl1 := d[l+1]
			h := g - d[l]
			for i := l + 2; i < n; i++ {
				d[i] -= h
			}
			f += h
			// The QL sweep from m up to l.
			p = d[m]
			c, c2, c3 := 1.0, 1.0, 1.0
			el1 := e[l+1]
			var s, s2 float64
			for i := m - 1; i >= l; i-- {
				c3, c2, s2 = c2, c, s
				g = c * e[i]
				h = c * p
				r = hypot(p, e[i])
				e[i+1] = s * r
				s = e[i] / r
				c = p / r
				p = c*d[i] - s*g
				d[i+1] = h + s*(c*g+s*d[i])
				// The rotation, on the last row only.
				h = z[i+1]
				z[i+1] = s*z[i] + c*h
				z[i] = c*z[i] - s*h
			}
			p = -s * s2 * c3 * el1 * e[l] / dl1
			e[l] = s * p
			d[l] = c * p
			if math.Abs(e[l]) <= eps*tst1 {
				break
			}
		}
		d[l] += f
		e[l] = 0
	}
	// Sort ascending, the last entries along.
	for i := 0; i < n-1; i++ {
		k := i
		for j := i + 1; j < n; j++ {
			if d[j] < d[k] {
				k = j
			}
		}
		if k != i {
			d[i], d[k] = d[k], d[i]
			z[i], z[k] = z[k], z[i]
		}
	}
	return true
}

// hypot is √(x²+y²), computed directly where x²+y² can neither overflow nor lose the larger
// term to underflow (the entries of a projected Hessian are far from both limits), and by
// math.Hypot, which scales, elsewhere (and for NaN and ±Inf). Directly it is 1 ulp from
// math.Hypot at most, and 5× faster: QL takes one per rotation.
func hypot(x, y float64) float64 {
	if a := max(math.Abs(x), math.Abs(y)); a > 0x1p-500 && a < 0x1p500 {
		return math.Sqrt(x*x + y*y)
	}
	return math.Hypot(x, y)
}
