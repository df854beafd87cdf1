package train

import (
	"fmt"
	"strconv"

	"gonum.org/v1/gonum/floats"

	"sharpflat/linalg"
)

// MaxDamping bounds DomDamped's c: above it no eigenvalue a run reaches is damped.
const MaxDamping = 100

// DomDamped slows only the directions of the basis whose curvature is above the edge, each
// just enough to bring the curvature it feels down to c times the edge, and leaves the rest of
// the gradient alone:
//
//	d = Σᵢ w_dom,i · vᵢ (vᵢᵀ g) + P_bulk g,   w_dom,i = min(1, c·edge/λᵢ)   (λᵢ > 0; else 1)
//
// where edge is the stability threshold the configuration reports (Config.StabilityThreshold):
// 2/η for gradient descent, (2+2β)/η with heavy-ball momentum β, since that is where a step
// along vᵢ starts to grow. Validate refuses it with Adam, which has no threshold. With c = 1
// every direction of the basis is felt at most at the edge; below the edge (all λᵢ ≤ c·edge)
// it is SGD, bit for bit.
//
// Felt: along vᵢ the update feels w_dom,i·λᵢ = min(λᵢ, c·edge), along the Bulk λ_{k+1}:
//
//	felt = max(maxᵢ min(λᵢ, c·edge), λ_{k+1}) = max(min(λ₁, c·edge), λ_{k+1})
//
// (min(·, c·edge) does not decrease, so λ₁ gives the largest term).
type DomDamped struct {
	C float64 // the share of the edge a damped direction is felt at (> 0)
}

// weight is w_dom,i for the eigenvalue l.
func (r DomDamped) weight(l, edge float64) float64 {
	if limit := r.C * edge; l > limit { // false for a NaN edge or λ
		return limit / l
	}
	return 1
}

// Direction computes d = g + Σᵢ (w_dom,i − 1) vᵢ (vᵢᵀ g).
func (r DomDamped) Direction(dst, g []float64, s Subspace) float64 {
	if len(s.Values) != len(s.Vectors) {
		panic(fmt.Sprintf("train: DomDamped: %d eigenvalues for %d vectors", len(s.Values), len(s.Vectors)))
	}
	var buf [16]float64
	coords := buf[:0] // vᵢᵀ g, taken before dst (which may be g) changes
	if len(s.Vectors) <= len(buf) {
		coords = buf[:len(s.Vectors)]
	} else {
		coords = make([]float64, len(s.Vectors))
	}
	linalg.Coordinates(coords, s.Vectors, g)
	if len(dst) != len(g) {
		panic(fmt.Sprintf("train: DomDamped: len(dst) = %d, want len(g) = %d", len(dst), len(g)))
	}
	copy(dst, g)
	for i, v := range s.Vectors {
		if w := r.weight(s.Values[i], s.Edge); w != 1 {
			floats.AddScaled(dst, (w-1)*coords[i], v)
		}
	}
	return linalg.Alignment(s.Vectors, g)
}

// Weights: min(1, c·edge/λ₁) along v₁, and 1 along the Bulk.
func (r DomDamped) Weights(top, edge float64) (wDom, wBulk float64) { return r.weight(top, edge), 1 }

// Felt is max(min(λ₁, c·edge), λ_{k+1}): the blend of its Weights.
func (r DomDamped) Felt(c Curvatures) FeltCurvature {
	d, b := r.Weights(c.Top, c.Edge)
	return Blend{d, b}.Felt(c)
}

// Name: "Dom-damped", or "Dom-damped c = 0.5".
func (r DomDamped) Name() string {
	if r.C == 1 {
		return "Dom-damped"
	}
	return "Dom-damped c = " + strconv.FormatFloat(r.C, 'g', 3, 64)
}

// Label: "Damped", or "Dmp0.5" (c rounded to fit 6 runes).
func (r DomDamped) Label() string {
	if r.C == 1 {
		return "Damped"
	}
	for prec := 3; prec > 0; prec-- {
		if l := "Dmp" + strconv.FormatFloat(r.C, 'g', prec, 64); len(l) <= 6 {
			return l
		}
	}
	return "Dmp"
}

// Detail: "w_dom,i = min(1, 1·edge/λᵢ), w_bulk 1".
func (r DomDamped) Detail() string {
	return fmt.Sprintf("w_dom,i = min(1, %s·edge/λᵢ), w_bulk 1", strconv.FormatFloat(r.C, 'g', 3, 64))
}

// String: "dom-damped", or "dom-damped=C".
func (r DomDamped) String() string {
	if r.C == 1 {
		return "dom-damped"
	}
	return "dom-damped=" + strconv.FormatFloat(r.C, 'g', -1, 64)
}
