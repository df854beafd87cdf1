package linalg

// Symbols used in this file:
//
//	P  length of the vectors (the operator's Dim)
//	k  number of basis vectors, len(V)
//
// A basis V is a [][]float64 of k orthonormal vectors of length P, the
// columns of the P×k matrix V. No function here forms a P×P matrix.

import (
	"fmt"

	"gonum.org/v1/gonum/floats"
)

// stackCoords is the basis size up to which the projections keep their k
// coefficients on the stack.
const stackCoords = 64

// Coordinates computes
//
//	dst = Vᵀ x,  dstᵢ = vᵢ · x.
//
// dst must have length len(V) and every vᵢ the length of x.
func Coordinates(dst []float64, V [][]float64, x []float64) {
	if len(dst) != len(V) {
		panic(fmt.Sprintf("linalg: Coordinates: len(dst) = %d, want len(V) = %d", len(dst), len(V)))
	}
	for i, v := range V {
		if len(v) != len(x) {
			panic(fmt.Sprintf("linalg: Coordinates: len(V[%d]) = %d, want len(x) = %d", i, len(v), len(x)))
		}
		dst[i] = floats.Dot(v, x)
	}
}

// Blend computes the interpolated update direction
//
//	dst = w_dom · P_dom x + w_bulk · P_bulk x
//	    = w_bulk · x + (w_dom − w_bulk) · V (Vᵀ x),
//
// with P_dom = V Vᵀ and P_bulk = I − V Vᵀ for an orthonormal V; (1, 1) is
// x itself, (1, 0) ProjectDom and (0, 1) ProjectBulk. dst may be x.
func Blend(dst []float64, V [][]float64, x []float64, wDom, wBulk float64) {
	if len(dst) != len(x) {
		panic(fmt.Sprintf("linalg: Blend: len(dst) = %d, want len(x) = %d", len(dst), len(x)))
	}
	if len(x) == 0 {
		return
	}
	var buf [stackCoords]float64
	c := buf[:0]
	if len(V) <= stackCoords {
		c = buf[:len(V)]
	} else {
		c = make([]float64, len(V))
	}
	Coordinates(c, V, x)
	if wBulk == 1 {
		if &dst[0] != &x[0] {
			copy(dst, x)
		}
	} else {
		floats.ScaleTo(dst, wBulk, x)
	}
	for i, v := range V {
		floats.AddScaled(dst, (wDom-wBulk)*c[i], v)
	}
}

// ProjectDom computes the projection onto the Dominant subspace span(V),
//
//	dst = V (Vᵀ x),
//
// for an orthonormal V. dst may be x.
func ProjectDom(dst []float64, V [][]float64, x []float64) {
	Blend(dst, V, x, 1, 0)
}

// ProjectBulk computes the projection onto the Bulk, the orthogonal
// complement of span(V),
//
//	dst = x − V (Vᵀ x),
//
// for an orthonormal V. dst may be x. ProjectDom(x) + ProjectBulk(x) = x.
func ProjectBulk(dst []float64, V [][]float64, x []float64) {
	Blend(dst, V, x, 0, 1)
}

// Alignment returns the fraction of x that lies in span(V),
//
//	χ = ‖P_dom x‖ / ‖x‖ = ‖Vᵀ x‖ / ‖x‖ ∈ [0, 1],
//
// for an orthonormal V, and 0 for x = 0. The Bulk share is 1 − χ². For a
// random direction χ ≈ √(k/P).
func Alignment(V [][]float64, x []float64) float64 {
	nx := floats.Norm(x, 2)
	if nx == 0 {
		return 0
	}
	var buf [stackCoords]float64
	c := buf[:0]
	if len(V) <= stackCoords {
		c = buf[:len(V)]
	} else {
		c = make([]float64, len(V))
	}
	Coordinates(c, V, x)
	return floats.Norm(c, 2) / nx
}

// Overlap returns the overlap of the subspaces spanned by two orthonormal
// bases,
//
//	‖V_oldᵀ V_new‖²_F / max(k_old, k_new) ∈ [0, 1],
//
// the mean squared cosine of the principal angles between them when both
// have k vectors: 1 for the same subspace, 0 for orthogonal ones. A basis
// that grew or shrank scores at most min/max of the two sizes. It is 0 if
// either basis is empty.
func Overlap(Vold, Vnew [][]float64) float64 {
	k := max(len(Vold), len(Vnew))
	if len(Vold) == 0 || len(Vnew) == 0 {
		return 0
	}
	var f float64
	for i, a := range Vold {
		for j, b := range Vnew {
			if len(a) != len(b) {
				panic(fmt.Sprintf("linalg: Overlap: len(Vold[%d]) = %d, len(Vnew[%d]) = %d", i, len(a), j, len(b)))
			}
			d := floats.Dot(a, b)
			f += d * d
		}
	}
	return f / float64(k)
}
