package train

import (
	"fmt"
	"math"
)

// outlierRatio is the smallest ratio λᵢ/λᵢ₊₁ that counts as a gap between outliers and bulk.
const outlierRatio = 2

// outlierFloor: eigenvalues below λ₁/outlierFloor count as the bulk's "near zero".
const outlierFloor = 1000

// Outliers says which of the top eigenvalues stand apart from the bulk. top holds
// λ₁ ≥ … ≥ λ_k, and next is λ_{k+1} (NaN if unknown). It returns n, meaning the first n of
// top are outliers, and the rule in words.
//
// The rule: over the consecutive pairs of top, and λ_k, next when next is known, whose upper
// value is above the floor λ₁/1000, take the pair with the largest ratio λᵢ/max(λᵢ₊₁, λ₁/1000)
// (the first pair wins a tie). The floor stands for "near zero, in the bulk": without it a
// tiny positive λᵢ over a λᵢ₊₁ ≤ 0 would be an infinite ratio and beat any real gap above it
// (10, 9, 8, 0.01, 0.005 | −0.001 would have 5 outliers, not 3). If that ratio is at least 2 the
// i eigenvalues above it are the outliers, otherwise there are none. λᵢ ≥ 2λᵢ₊₁ says that
// the gap λᵢ − λᵢ₊₁ is wider than the distance from λᵢ₊₁ down to zero, where the bulk piles:
// the outliers stand further from the rest than the rest stands from zero. A ratio, not a
// difference, because the spectrum's scale changes by orders of magnitude in training.
// With next unknown the gap below λ_k cannot be seen, so n ≤ k−1.
//
// Why a largest gap of ratio 2, measured with seed 1 on exact top-20 spectra (Lanczos to
// 1e-8): the demo net under MSE with ReLU has C = 10 outliers, as Papyan (2019, 2020)
// describes (about one per class, C for MSE, C−1 for cross-entropy), with λ₁₀/λ₁₁ = 2.61,
// 2.22 and 2.03 after 50, 100 and 300 steps, and every other consecutive ratio ≤ 1.18; the
// mnist preset under MSE has 10 after 500 steps (λ₁₀/λ₁₁ = 2.11, λ₉/λ₁₀ = 1.87). Under
// cross-entropy these small nets show no such group: the demo's top eigenvalues fall
// smoothly into the bulk (largest consecutive ratio 1.14–1.41 over steps 0–1000, no outliers
// by the rule; by step 3000 λ₁/λ₂ = 1.98, a λ₁ on its way out, still below), and mnist's too (largest 1.51 and 1.64 after 300 and 1000 steps); the one
// CE spectrum with a ratio above 2, demo ReLU after 1000 steps, has a single λ₁ = 3.5 over
// λ₂ = 1.35 (2.62), which the rule calls one outlier. A looser threshold (1.5) would count
// 5 and 6 "outliers" in mnist's smooth CE tail.
//
// It is a pure function of exact eigenvalues, so a lesson's claim and a headless check can
// use it without a density.
func Outliers(top []float64, next float64) (n int, rule string) {
	s := top
	if !math.IsNaN(next) {
		s = append(append([]float64(nil), top...), next)
	}
	best, at := 0.0, 0
	floor := 0.0
	if len(s) > 0 {
		floor = s[0] / outlierFloor
	}
	for i := 1; i < len(s); i++ {
		hi, lo := s[i-1], s[i]
		if !(hi > floor) {
			break
		}
		if r := hi / math.Max(lo, floor); r > best {
			best, at = r, i
		}
	}
	if best < outlierRatio {
		return 0, fmt.Sprintf("no λᵢ/λᵢ₊₁ ≥ %d among the top %d", outlierRatio, len(s))
	}
	return at, fmt.Sprintf("λᵢ/λᵢ₊₁ ≥ %d at the largest gap (λ%d/λ%d = %.3g)", outlierRatio, at, at+1, best)
}
