package tui

import (
	"fmt"
	"math"

	"sharpflat/lab/train"
)

// Captions: with i, a line under each panel says what it shows and how to read it, in
// words a student who has not read the paper understands. Each caption has a long form and
// a short one for narrow panels; the glossary (?, twice) defines every symbol they use.

type panelID int

const (
	panelLoss panelID = iota
	panelSharp
	panelAlign
	panelSpectrum
	panelSplit
	panelEvents
)

// caption returns the captions of a panel for the current state, longest first.
func (m Model) caption(p panelID) []string {
	s := &m.snap
	c := &s.Config
	k := len(s.Basis.Values)
	if k == 0 {
		k = c.K
	}
	next := "λ" + sub(k+1)
	edge := edgeName(c)
	switch p {
	case panelLoss:
		return []string{"loss: how wrong the network is (lower is better); • train set, × unseen test data, · each minibatch",
			"loss: lower is better; × test above • train = overfitting",
			"lower is better; × test, • train"}
	case panelSharp:
		if r, ok := c.Rule().(train.DomDamped); ok {
			at := edge // the curvature a damped direction is felt at: c × the edge
			if r.C != 1 {
				at = num(r.C, 2) + "·" + edge
			}
			return []string{fmt.Sprintf("Dom-damped slows each of v₁…v%s with λᵢ above %s just enough to feel %s there: it feels max(min(λ₁, %s), %s)",
				sub(k), at, at, at, next),
				fmt.Sprintf("Dom-damped feels max(min(λ₁, %s), %s): stable while below %s", at, next, edge),
				fmt.Sprintf("damped: felt = max(min(λ₁, %s), %s)", at, next)}
		}
		switch {
		case c.WDom == 0 && c.WBulk > 0:
			return []string{fmt.Sprintf("Bulk-SGD never steps along v₁…v%s, so λ₁ above %s is harmless: it feels %s, stable while %s < %s",
				sub(k), edge, next, next, edge),
				fmt.Sprintf("Bulk-SGD feels %s, not λ₁: stable while %s < %s", next, next, edge),
				fmt.Sprintf("Bulk feels %s, not λ₁: keep it < %s", next, edge)}
		case c.WBulk == 0:
			return []string{fmt.Sprintf("λ₁: curvature of the sharpest direction; Dom-SGD steps along it and is stable while λ₁ < %s", edge),
				fmt.Sprintf("Dom-SGD feels λ₁: stable while λ₁ < %s", edge),
				fmt.Sprintf("Dom-SGD is stable while λ₁ < %s", edge)}
		case c.WDom == c.WBulk:
			return []string{fmt.Sprintf("λ₁: curvature of the sharpest direction; a step overshoots and grows there once λ₁ > %s", edge),
				fmt.Sprintf("SGD feels λ₁: stable while λ₁ < %s", edge),
				fmt.Sprintf("SGD is stable while λ₁ < %s", edge)}
		}
		return []string{fmt.Sprintf("felt = max(w_dom·λ₁, w_bulk·%s): the curvature this update moves along, stable while below %s", next, edge),
			fmt.Sprintf("felt = max(w_dom·λ₁, w_bulk·%s) < %s: stable", next, edge),
			fmt.Sprintf("stable while felt < %s (? glossary)", edge)}
	case panelAlign:
		rnd := math.NaN()
		if s.P > 0 {
			rnd = math.Sqrt(float64(c.K) / float64(s.P))
		}
		return []string{fmt.Sprintf("χ: share of the minibatch gradient in the top-k subspace; a random direction would give √(k/P) = %s", num(rnd, 2)),
			fmt.Sprintf("χ: gradient's share in the top-%d directions (random: %s)", c.K, num(rnd, 2)),
			fmt.Sprintf("share of g in the top %d (random %s)", c.K, num(rnd, 2))}
	case panelSpectrum:
		if m.density {
			return []string{"how densely the P eigenvalues lie at each λ (estimated by SLQ; log height): the bulk near 0, the outliers ◆ apart",
				"the spectrum of H: the bulk near 0, the outliers ◆ apart",
				"the bulk near 0, the outliers ◆"}
		}
		return []string{fmt.Sprintf("the %d sharpest curvatures λᵢ of the loss (Hessian eigenvalues); the residual says how exact they are", k),
			"the top-k curvatures λᵢ (Hessian eigenvalues)",
			"the sharpest curvatures λᵢ"}
	case panelSplit:
		return []string{"λᵢ = Gᵢ + Fᵢ: Gauss–Newton part (from the loss around the outputs) + functional part (the network's own curvature)",
			"λᵢ = Gᵢ (Gauss–Newton) + Fᵢ (functional)"}
	case panelEvents:
		return []string{"what happened, newest last: settings, refreshes, checkpoints (c), rollbacks (u)",
			"what happened, newest last"}
	}
	return nil
}
