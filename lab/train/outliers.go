package train

import (
	"fmt"
	"math"
)

// outlierRatio is the smallest ratio λᵢ/λᵢ₊₁ that counts as a gap between outliers and bulk.
const outlierRatio = 2

// Outliers says which of the top eigenvalues stand apart from the bulk. top holds
// λ₁ ≥ … ≥ λ_k, and next is λ_{k+1} (NaN if unknown). It returns n, meaning the first n of
// top are outliers, and the rule in words.
//
// The rule: among the consecutive pairs of top (and of λ_k, next when next is known) with a
// positive upper value, take the one with the largest ratio λᵢ/λᵢ₊₁ (a non-positive λᵢ₊₁
// counts as an infinite ratio); if that ratio is at least 2, the eigenvalues above it are
// the outliers, otherwise there are none. It is a pure function of exact eigenvalues, so a
// lesson's claim and a headless check can use it without a density.
//
// Papyan (2019, 2020) finds about one outlier per class (C for MSE, C−1 for cross-entropy)
// standing apart from a bulk near zero; a ratio, not a difference, because the scale of
// the spectrum changes by orders of magnitude during training.
func Outliers(top []float64, next float64) (n int, rule string) {
	s := top
	if !math.IsNaN(next) {
		s = append(append([]float64(nil), top...), next)
	}
	best, at := 0.0, 0
	for i := 1; i < len(s); i++ {
		hi, lo := s[i-1], s[i]
		if !(hi > 0) {
			break
		}
		r := math.Inf(1)
		if lo > 0 {
			r = hi / lo
		}
		if r > best {
			best, at = r, i
		}
	}
	if best < outlierRatio {
		return 0, fmt.Sprintf("no λᵢ/λᵢ₊₁ ≥ %d among the top %d", outlierRatio, len(s))
	}
	return at, fmt.Sprintf("λᵢ/λᵢ₊₁ ≥ %d at the largest gap (λ%d/λ%d = %.3g)", outlierRatio, at, at+1, best)
}
