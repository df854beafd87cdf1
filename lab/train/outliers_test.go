package train

import (
	"math"
	"strings"
	"testing"
)

// TestOutliers: hand-made spectra with the answer worked out beside each.
func TestOutliers(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		name string
		top  []float64
		next float64
		want int
	}{
		// Papyan's picture for MSE with C = 3: three values far above a bulk at ≈ 0.5; the
		// ratios are 1.2, 1.25, 8 (at λ₃/λ₄), 1.25: the largest is 8 ≥ 2 → 3.
		{"three outliers", []float64{6, 5, 4, 0.5}, 0.4, 3},
		// the same top with λ₄ unknown: the gap below λ₄ is seen, 8 at λ₃/λ₄ → 3.
		{"next unknown", []float64{6, 5, 4, 0.5}, nan, 3},
		// k = 3 and next unknown: no pair straddles the gap; ratios 1.2, 1.25 → 0.
		{"gap not seen", []float64{6, 5, 4}, nan, 0},
		// k = 3 with next = 0.5 given: λ₃/λ₄ = 8 → 3.
		{"gap at next", []float64{6, 5, 4}, 0.5, 3},
		// a smooth decay (ratios 1.25 each): none.
		{"smooth", []float64{1, 0.8, 0.64, 0.512}, 0.4096, 0},
		// one big λ₁: ratios 5, 1.25, 1.25 → 1.
		{"single", []float64{10, 2, 1.6, 1.28}, 1.024, 1},
		// two gaps: λ₁/λ₂ = 3 and λ₃/λ₄ = 4: the largest, 4, wins → 3.
		{"largest gap", []float64{30, 10, 9, 2.25}, 2, 3},
		// a tie (ratio 2 at λ₁/λ₂ and at λ₂/λ₃): the first wins → 1.
		{"tie", []float64{4, 2, 1}, nan, 1},
		// exactly 2 counts: 2/1 → 1.
		{"threshold", []float64{2, 1, 0.9}, nan, 1},
		// just below: 1.99 → 0.
		{"below threshold", []float64{1.99, 1, 0.9}, nan, 0},
		// the bulk top is negative: λ₂/max(λ₃, λ₁/1000) = 2.5/0.003 ≈ 833 → 2.
		{"non-positive below", []float64{3, 2.5, -0.1}, -0.2, 2},
		// the review's case: near-zero values over a negative one. Floor λ₁/1000 = 0.01;
		// ratios 10/9, 9/8, 8/max(0.01, 0.01) = 800; 0.01 is not above the floor, so the
		// scan stops there → 3 (the old rule, with λ ≤ 0 as an infinite ratio, said 5).
		{"near zero over negative", []float64{10, 9, 8, 0.01, 0.005}, -0.001, 3},
		// all negative: no positive upper value, no outliers.
		{"all negative", []float64{-1, -2}, -3, 0},
		{"empty", nil, nan, 0},
		{"one value, next known", []float64{5}, 1, 1},
	} {
		n, rule := Outliers(c.top, c.next)
		if n != c.want {
			t.Errorf("%s: Outliers(%v, %v) = %d (%s), want %d", c.name, c.top, c.next, n, rule, c.want)
		}
		if rule == "" || (n > 0) != strings.Contains(rule, "largest gap") {
			t.Errorf("%s: rule %q does not say what was found", c.name, rule)
		}
	}
}
