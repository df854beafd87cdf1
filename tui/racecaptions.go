package tui

import "fmt"

// raceCaption returns the captions of panel p in a race, longest first, or nil when no race
// is on or p reads as it does for one run (the split and the events: the focused arm's, or
// the lab's).
func (m Model) raceCaption(p panelID) []string {
	r := m.snap.Race
	if r == nil {
		return nil
	}
	edge := edgeName(&m.snap.Config)
	switch p {
	case panelLoss:
		return []string{fmt.Sprintf("each arm's train loss from the same point (┊race, step %d), on the same minibatches: Dom-SGD stalls, Bulk-SGD learns as SGD does", r.At),
			"each arm's train loss from one point: Dom-SGD stalls, Bulk ≈ SGD",
			"each arm's train loss from ┊race",
			"train loss of each arm"}
	case panelSharp:
		return []string{fmt.Sprintf("each arm's λ₁ (its glyph) and the curvature its update feels (its line) as a share of its edge %s: λ₁ past the edge is harmless to Bulk-SGD", edge),
			fmt.Sprintf("each arm's λ₁, and the curvature it feels as %% of its edge %s", edge),
			"λ₁ of each arm, felt % of the edge",
			"λ₁ and felt % of each arm"}
	case panelAlign:
		return []string{fmt.Sprintf("χ of each arm's minibatch gradient, the mean of %d steps: its share in the top-k directions", chiWindow),
			fmt.Sprintf("χ of each arm's minibatch gradient, the mean of %d steps", chiWindow),
			fmt.Sprintf("χ of each arm (mean of %d steps)", chiWindow),
			"χ of each arm"}
	case panelSpectrum:
		return []string{"the focused arm's (▸) top-k curvatures λᵢ; below, every arm's train loss, test accuracy, λ₁, λₖ₊₁ and χ",
			"▸ the focused arm's λᵢ; below, every arm's latest values",
			"▸ focused arm's λᵢ; every arm below",
			"λᵢ of ▸; every arm below"}
	}
	return nil
}
