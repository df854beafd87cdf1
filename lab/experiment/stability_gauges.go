package experiment

// The gauges of stability under minibatches (claim 7 of docs/SCIENCE.md): for every arm of
// the stability experiment, the largest ratio to the edge reached by the full-batch λ₁, by
// the felt curvature, by the batch sharpness λ_B and by the update's batch curvature λ_d
// (Andreyev & Beneventano, arXiv 2412.20553), and how well "the gauge reaches the edge" tells
// the arms that spiked from those that did not. Measured whichever way it comes out: the
// report states the counts, not the hoped-for answer.

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"

	"gonum.org/v1/plot"

	"sharpflat/lab/rundir"
	"sharpflat/lab/train"
)

// gauge is one curvature held against the edge.
type gauge int

const (
	gaugeLambda gauge = iota // λ₁ of the full-batch Hessian (the basis in use)
	gaugeFelt                // the rule's felt curvature, max(w_dom·λ₁, w_bulk·λ_{k+1})
	gaugeBatch               // batch sharpness λ_B = E_B[g_Bᵀ H_B g_B / ‖g_B‖²]
	gaugeUpdate              // the update's batch curvature λ_d = E_B[d_Bᵀ H_B d_B / ‖d_B‖²]
	nGauges
)

// gaugeNames are the gauges as the report names them.
var gaugeNames = [nGauges]string{"λ₁", "felt", "batch_sharpness", "update_sharpness"}

// armGauges is what one arm's metrics say of its gauges.
type armGauges struct {
	Name    string
	Batch   int
	LR      float64
	K, T    int
	Outcome string // outcome(): stable, spiked or diverged
	// Max is the largest gauge/edge over the arm's steps after the switch (NaN: never
	// measured); First the step after the switch of the first sample at or above the edge
	// (-1: never).
	Max   [nGauges]float64
	First [nGauges]int
	// SpikeAt is the step after the switch of the first evaluation whose full-train loss is
	// above 1.5× the loss at the switch, or of the divergence, whichever comes first (-1:
	// neither).
	SpikeAt int
	Samples int // rows with a batch-sharpness estimate
}

// unstable is the "spiked?" of the gauge table: spiked or diverged.
func (a *armGauges) unstable() bool { return a.Outcome != "stable" }

// gaugesOf reads an arm's gauges from its metrics. warmup is the group's warm-up, so that
// steps are counted from the switch; start is the full-train loss at the switch.
func gaugesOf(ms []train.Metrics, warmup int, start float64, diverged int) armGauges {
	var a armGauges
	for g := range a.Max {
		a.Max[g], a.First[g] = math.NaN(), -1
	}
	a.SpikeAt = -1
	if diverged > 0 {
		a.SpikeAt = diverged - warmup
	}
	for i := range ms {
		m := &ms[i]
		step := m.Step - warmup
		edge := float64(m.StabilityThreshold)
		if m.TrainLoss.Valid() && float64(m.TrainLoss) > 1.5*start {
			// The full-train loss is measured at θ before the step (trainLossSeries).
			if s := step - 1; a.SpikeAt < 0 || s < a.SpikeAt {
				a.SpikeAt = s
			}
		}
		if !(edge > 0) || math.IsInf(edge, 0) {
			continue
		}
		felt := train.Blend{Dom: m.WDom, Bulk: m.WBulk}.Felt(train.Curvatures{Top: float64(m.Sharpness), Next: float64(m.BulkTop), Edge: edge}).V
		if math.IsNaN(felt) && !m.BulkTop.Valid() && m.WBulk <= m.WDom && m.Sharpness.Valid() {
			// Without λ_{k+1} the felt curvature is still known when w_bulk ≤ w_dom (SGD):
			// λ_{k+1} ≤ λ₁ makes w_bulk·λ_{k+1} ≤ w_dom·λ₁ (for λ₁ > 0), so it is w_dom·λ₁.
			if v := m.WDom * float64(m.Sharpness); float64(m.Sharpness) > 0 {
				felt = v
			}
		}
		if m.BatchSharpness.Valid() {
			a.Samples++
		}
		for g, v := range [nGauges]float64{float64(m.Sharpness), felt, float64(m.BatchSharpness), float64(m.UpdateSharpness)} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			r := v / edge
			a.Max[g] = nanMax(a.Max[g], r)
			if r >= 1 && a.First[g] < 0 {
				a.First[g] = step
			}
		}
	}
	return a
}

// separation is how well "gauge/edge ≥ 1 at some step" predicts an unstable arm.
type separation struct {
	Measured       int // arms where the gauge was measured at all
	TP, FP, FN, TN int // reached & unstable, reached & stable, never reached & unstable, never & stable
	// Before counts the unstable arms whose gauge reached the edge at or before the spike.
	Before int
	// BestCut is the threshold c on the largest ratio ("unstable when max ≥ c") that
	// classifies the most arms right (BestRight of them); of equally good ones, the nearest
	// to 1 in ratio.
	BestCut   float64
	BestRight int
}

// Right is the number of arms the edge classifies right.
func (s separation) Right() int { return s.TP + s.TN }

func separate(arms []armGauges, g gauge) separation {
	var s separation
	var vals []float64
	for i := range arms {
		a := &arms[i]
		v := a.Max[g]
		if math.IsNaN(v) {
			continue
		}
		s.Measured++
		vals = append(vals, v)
		reached := v >= 1
		switch {
		case reached && a.unstable():
			s.TP++
			if a.SpikeAt < 0 || a.First[g] <= a.SpikeAt {
				s.Before++
			}
		case reached:
			s.FP++
		case a.unstable():
			s.FN++
		default:
			s.TN++
		}
	}
	sort.Float64s(vals)
	cuts := append(vals, math.Inf(1)) // max ≥ +Inf: no arm called unstable
	s.BestCut, s.BestRight = math.NaN(), -1
	for _, c := range cuts {
		right := 0
		for i := range arms {
			v := arms[i].Max[g]
			if !math.IsNaN(v) && (v >= c) == arms[i].unstable() {
				right++
			}
		}
		if right > s.BestRight || (right == s.BestRight && math.Abs(math.Log(c)) < math.Abs(math.Log(s.BestCut))) {
			s.BestCut, s.BestRight = c, right
		}
	}
	return s
}

// gaugeVerdict is the report's sentence on the minibatch arms: for each gauge, how many arms
// "reaches the edge" classifies right, and whether update_sharpness does better than λ₁
// and than the felt curvature.
func gaugeVerdict(arms []armGauges) string {
	var sep [nGauges]separation
	for g := range sep {
		sep[g] = separate(arms, gauge(g))
	}
	n := len(arms)
	unstable := 0
	for i := range arms {
		if arms[i].unstable() {
			unstable++
		}
	}
	var parts []string
	for g, s := range sep {
		if s.Measured == 0 {
			parts = append(parts, gaugeNames[g]+" not measured")
			continue
		}
		p := fmt.Sprintf("%s %d/%d right (%d of the %d unstable reached it, %d before the spike; %d of the %d stable)",
			gaugeNames[g], s.Right(), s.Measured, s.TP, s.TP+s.FN, s.Before, s.FP, s.FP+s.TN)
		parts = append(parts, p)
	}
	u, l := sep[gaugeUpdate], sep[gaugeLambda]
	compare := func(o gauge, name string) string {
		// On the arms where both gauges were measured (the felt curvature of a Bulk arm
		// needs λ_{k+1}, --bulk-top).
		var both []armGauges
		for i := range arms {
			if !math.IsNaN(arms[i].Max[gaugeUpdate]) && !math.IsNaN(arms[i].Max[o]) {
				both = append(both, arms[i])
			}
		}
		if len(both) == 0 {
			return "cannot be compared with " + name + " (not measured)"
		}
		su, so := separate(both, gaugeUpdate), separate(both, o)
		on := ""
		if len(both) < n {
			on = fmt.Sprintf(" on the %d arms where both are measured", len(both))
		}
		switch {
		case su.Right() > so.Right():
			return fmt.Sprintf("separates them better than %s%s (%d against %d right)", name, on, su.Right(), so.Right())
		case su.Right() == so.Right():
			return fmt.Sprintf("separates them as well as %s%s, not better (%d right each)", name, on, su.Right())
		}
		return fmt.Sprintf("separates them worse than %s%s (%d against %d right)", name, on, su.Right(), so.Right())
	}
	head := fmt.Sprintf("**Verdict** (the %d minibatch arms, %d of them spiked or diverged; \"reaches the edge\" = the gauge at or above 2/η at some sample after the switch): ", n, unstable)
	if unstable == 0 || unstable == n {
		return head + "no separation can be tested, since the arms are all alike. At the edge: " + strings.Join(parts, "; ") + "."
	}
	return head + fmt.Sprintf("update_sharpness %s, and %s. At the edge: %s. Best cut on the largest ratio instead of 1: update_sharpness ≥ %s gets %d right, λ₁ ≥ %s gets %d right.",
		compare(gaugeLambda, "λ₁"), compare(gaugeFelt, "the felt curvature"), strings.Join(parts, "; "),
		fmtG(u.BestCut, 3), max(0, u.BestRight), fmtG(l.BestCut, 3), max(0, l.BestRight))
}

// gaugeRow is the gauge table's row of an arm.
func gaugeRow(a *armGauges) []string {
	spiked := "no"
	if a.unstable() {
		spiked = "yes (" + a.Outcome + fmt.Sprintf(" at %d)", a.SpikeAt)
	}
	reach := "never"
	if f := a.First[gaugeUpdate]; f >= 0 {
		reach = fmt.Sprint(f)
	}
	return []string{a.Name, spiked, fmtG(a.Max[gaugeLambda], 3), fmtG(a.Max[gaugeFelt], 3), fmtG(a.Max[gaugeUpdate], 3), fmtG(a.Max[gaugeBatch], 3), reach}
}

// gaugeHeader is the gauge table's header.
var gaugeHeader = []string{"arm", "spiked? (at step)", "max λ₁/edge", "max felt/edge", "max update_sharpness/edge", "max batch_sharpness/edge", "update_sharpness ≥ edge first at"}

// gaugeCSVHeader is stability_gauges.csv's header: one row per arm, minibatch and full batch.
var gaugeCSVHeader = []string{"seed", "batch", "lr", "update", "k", "refresh", "outcome", "spike_at", "max_lambda1_over_edge", "max_felt_over_edge",
	"max_batch_sharpness_over_edge", "max_update_sharpness_over_edge", "first_update_sharpness_at_edge", "batch_sharpness_samples"}

func gaugeCSV(seed uint64, upd string, a *armGauges) []string {
	return []string{fmt.Sprint(seed), batchLabel(a.Batch), csvNum(a.LR), upd, fmt.Sprint(a.K), fmt.Sprint(a.T), a.Outcome, fmt.Sprint(a.SpikeAt),
		csvNum(a.Max[gaugeLambda]), csvNum(a.Max[gaugeFelt]), csvNum(a.Max[gaugeBatch]), csvNum(a.Max[gaugeUpdate]), fmt.Sprint(a.First[gaugeUpdate]), fmt.Sprint(a.Samples)}
}

// gaugeScatter plots, per arm, the largest update_sharpness/edge against the largest x/edge
// of another gauge, unstable arms in vermillion, stable in blue, with the edge (ratio 1) on
// both axes.
func gaugeScatter(arms []armGauges, x gauge) *plot.Plot {
	p := newPlot(fmt.Sprintf("update_sharpness against %s (÷ edge)", gaugeNames[x]), "max "+gaugeNames[x]+" / edge (log)", "max update_sharpness / edge (log)")
	setLogY(p)
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = logTicks{}
	p.Legend.Top, p.Legend.Left = true, true
	for _, unst := range []bool{false, true} {
		var xs, ys []float64
		for i := range arms {
			a := &arms[i]
			if a.unstable() != unst || !(a.Max[x] > 0) || !(a.Max[gaugeUpdate] > 0) {
				continue
			}
			xs, ys = append(xs, a.Max[x]), append(ys, a.Max[gaugeUpdate])
		}
		c, leg := plotColor(0), "stable"
		if unst {
			c, leg = plotColor(1), "spiked or diverged"
		}
		addPoints(p, xs, ys, c, leg)
	}
	lo, hi := 0.5, 2.0
	for i := range arms {
		for _, g := range []gauge{x, gaugeUpdate} {
			if v := arms[i].Max[g]; v > 0 {
				lo, hi = math.Min(lo, v/1.3), math.Max(hi, v*1.3)
			}
		}
	}
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = lo, hi, lo, hi
	edge := lineStyle{Color: plotGrey, Dashed: true, Width: 1.2}
	addHLine(p, 1, edge, "edge")
	addLine(p, []float64{1, 1}, []float64{lo, hi}, edge, "")
	return p
}

// addGauges adds to the stability report the gauge table of the minibatch arms, the verdict,
// the scatter figure and stability_gauges.csv (every arm, full batch included).
func addGauges(rep *Report, res *Results, s Sweep) error {
	var mini []armGauges
	var rows [][]string
	csvRows := [][]string{gaugeCSVHeader}
	for _, seed := range s.Seeds {
		g := seedLabel("", seed)
		for _, b := range s.Batches {
			for _, lr := range s.LRs {
				type armKey struct{ k, t int }
				keys := []armKey{{0, 0}}
				for _, k := range s.Ks {
					for _, t := range s.Refreshes {
						keys = append(keys, armKey{k, t})
					}
				}
				for _, key := range keys {
					name := stabilityArmName(b, lr, key.k, key.t)
					r := res.Find(g, name)
					if r == nil {
						return fmt.Errorf("missing run %s/%s", g, name)
					}
					ms, err := readMetrics(res.RunDirOf(g, name))
					if err != nil {
						return err
					}
					a := gaugesOf(ms, s.Warmup, float64(r.Start.TrainLoss), r.Diverg)
					a.Name, a.Batch, a.LR, a.K, a.T, a.Outcome = name, b, lr, key.k, key.t, outcome(r)
					if len(s.Seeds) > 1 {
						a.Name = g + "/" + name
					}
					upd := "bulk"
					if key.k == 0 {
						upd = "sgd"
					}
					csvRows = append(csvRows, gaugeCSV(seed, upd, &a))
					if b != 0 {
						mini = append(mini, a)
						rows = append(rows, gaugeRow(&a))
					}
				}
			}
		}
	}
	if err := writeCSV(res.Dir, "stability_gauges.csv", csvRows); err != nil {
		return err
	}
	if len(mini) == 0 {
		rep.Findings = append(rep.Findings, "No minibatch arm: the gauges of stability under minibatches are not compared (stability_gauges.csv has the full-batch arms).")
		return nil
	}
	rep.Findings = append(rep.Findings, gaugeVerdict(mini))
	rep.Tables = append(rep.Tables, "Minibatch arms: the largest ratio to the edge 2/η of each gauge after the switch "+
		"(λ₁ of the basis in use; felt = max(w_dom·λ₁, w_bulk·λ_{k+1}), — without λ_{k+1}, i.e. without --bulk-top, under Bulk-SGD; "+
		"batch_sharpness and update_sharpness estimated on fresh minibatches every batch_sharpness_every steps). "+
		"Spiked = the full-train loss rose above 1.5× its value at the switch (or the arm diverged), at the step in brackets; one row per arm of stability_gauges.csv:\n\n"+
		mdTable(gaugeHeader, rows))
	if err := savePanels(filepath.Join(res.Dir, "stability_gauges.png"), 2, 330, 300, gaugeScatter(mini, gaugeLambda), gaugeScatter(mini, gaugeBatch)); err != nil {
		return err
	}
	rep.Figures = append(rep.Figures, Figure{File: "stability_gauges.png", Caption: "Minibatch arms: the largest update_sharpness ÷ 2/η after the switch against the largest λ₁ ÷ 2/η (left) " +
		"and the largest batch_sharpness ÷ 2/η (right); vermillion: the arm spiked or diverged, blue: stable; dashed: the edge. " +
		"A gauge that separates puts the vermillion points right of (or above) the dashed line and the blue ones left of (below) it."})
	return nil
}

// writeCSV writes rows (the header first) to dir/name whole, as summary.csv is written.
func writeCSV(dir, name string, rows [][]string) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.WriteAll(rows); err != nil {
		return err
	}
	return rundir.WriteFileAtomic(filepath.Join(dir, name), buf.Bytes())
}
