package experiment

// stability: Bulk-SGD against SGD over a grid of η × k × refresh period T (× batch size), from
// the same SGD warm-up: claim 3 of docs/SCIENCE.md and its working hypothesis: Bulk-SGD does not
// move along v₁…v_k, so it should tolerate η above 2/λ₁ as long as every eigenvalue above 2/η
// lies inside the basis (k ≥ n(η) = #{i : λᵢ > 2/η}) and the basis is fresh (T small).

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"

	"gonum.org/v1/plot"

	"sharpflat/lab/train"
)

// Stability is the stability experiment: Bulk-SGD against SGD over η × k × T × batch.
var Stability = &Experiment{
	Name:        "stability",
	Summary:     "Bulk-SGD vs SGD over η × k × refresh period T × batch: where Bulk accelerates, where it loses stability, and which curvature (λ₁, batch sharpness, the update's) tells",
	Preset:      "demo",
	Config:      []Setting{RefreshEvery(5), EnergyEvery(0), EvalEvery(5), BatchSharpnessEvery(10), BatchSharpnessBatches(16)},
	QuickConfig: []Setting{Examples(240), Hidden(8), K(3), BatchSharpnessEvery(5), BatchSharpnessBatches(4)},
	Swept:       map[string]string{"seed": "--seeds", "alpha": "(the arms set it)", "w-dom": "(the arms set it)", "w-bulk": "(the arms set it)"},
	Defaults: func(quick bool) Sweep {
		if quick {
			return Sweep{Seeds: []uint64{1}, LRs: []float64{0.1, 4}, Ks: []int{1, 3}, Refreshes: []int{1, 5}, Batches: []int{32}, Warmup: 20, Steps: 15}
		}
		return Sweep{Seeds: []uint64{1}, LRs: []float64{0.5, 1, 2, 4, 8}, Ks: []int{1, 5, 20}, Refreshes: []int{1, 10},
			Batches: []int{32, 0}, Warmup: 300, Steps: 300}
	},
	plan:   planStability,
	report: reportStability,
	narrow: narrowStability,
}

func batchLabel(b int) string {
	if b == 0 {
		return "full"
	}
	return fmt.Sprint(b)
}

func stabilityArmName(b int, lr float64, k, t int) string {
	if k == 0 {
		return fmt.Sprintf("b%s_lr%s_sgd", batchLabel(b), etaLabel(lr))
	}
	return fmt.Sprintf("b%s_lr%s_k%d_T%d", batchLabel(b), etaLabel(lr), k, t)
}

func planStability(base train.Config, s Sweep) Plan {
	var p Plan
	kmax := 0
	for _, k := range s.Ks {
		kmax = max(kmax, k)
	}
	for _, seed := range s.Seeds {
		c := base
		c.Seed, c.WDom, c.WBulk = seed, 1, 1
		g := Group{Name: seedLabel("", seed), Config: c, Warmup: s.Warmup, Probe: kmax + 1}
		for _, b := range s.Batches {
			for _, lr := range s.LRs {
				a := g.ArmOf(stabilityArmName(b, lr, 0, 0), s.Steps)
				a.Config.LR, a.Config.Batch = lr, b
				g.Arms = append(g.Arms, a)
				for _, k := range s.Ks {
					for _, t := range s.Refreshes {
						a := g.ArmOf(stabilityArmName(b, lr, k, t), s.Steps)
						a.Config.LR, a.Config.Batch, a.Config.WDom, a.Config.WBulk, a.Config.K, a.Config.RefreshEvery = lr, b, 0, 1, k, t
						a.Probe = k + 1
						g.Arms = append(g.Arms, a)
					}
				}
			}
		}
		p.Groups = append(p.Groups, g)
	}
	return p
}

// outcome classifies an arm: "diverged" (the engine's test: NaN/Inf or a minibatch loss above
// diverge_factor × the initial loss), "spiked" (the full-train loss rose above 1.5× its value at
// the switch on the way), or "stable".
func outcome(r *ArmResult) string {
	switch {
	case r.Diverged():
		return "diverged"
	case float64(r.MaxTrainLoss) > 1.5*float64(r.Start.TrainLoss):
		return "spiked"
	}
	return "stable"
}

// countAbove is n(η): how many of the measured top eigenvalues exceed 2/η; all of them (a
// lower bound) when the last one still does.
func countAbove(spec []float64, thr float64) (n int, lowerBound bool) {
	for _, l := range spec {
		if l > thr {
			n++
		}
	}
	return n, n == len(spec) && n > 0
}

func reportStability(res *Results, s Sweep) (*Report, error) {
	base := res.Plan.Groups[0].Config
	rep := &Report{
		Title: "stability — Bulk-SGD against SGD over η × k × T × batch",
		Protocol: fmt.Sprintf("Protocol: preset %s, SGD at η = %g, batch %d for %d steps; then from that point %d steps of SGD and of Bulk-SGD "+
			"(w_dom = 0, w_bulk = 1) at η ∈ {%s}, k ∈ {%s}, refresh period T ∈ {%s}, batch ∈ {%s} (full = gradient descent), each with a fresh basis at the switch. "+
			"n(η) = the number of Hessian eigenvalues above 2/η at the switch (top %d measured). "+
			"Outcome: *diverged* (NaN/Inf or a minibatch loss above %g× the initial loss), *spiked* (full-train loss, checked every %d steps, rose above 1.5× its value at the switch), else *stable*. Seeds %s.",
			base.Preset, base.LR, base.Batch, s.Warmup, s.Steps, joinF(s.LRs, 4), joinAny(s.Ks), joinAny(s.Refreshes), batchList(s.Batches),
			res.Plan.Groups[0].Probe, base.DivergeFactor, base.EvalEvery, joinU(s.Seeds)),
		CSVHeader: []string{"seed", "batch", "lr", "update", "k", "refresh", "n_above_2_over_lr", "train_loss_switch", "train_loss_end", "ratio_to_sgd",
			"max_train_loss", "outcome", "diverged_at", "sharpness_max", "lambda_k_plus_1_end", "steps"},
	}
	seed := s.Seeds[0]
	g0 := seedLabel("", seed)
	spec := res.Warmups[g0].Point.Spectrum
	if len(spec) == 0 && len(res.Arms) > 0 {
		spec = res.Arms[0].Start.Spectrum
	}
	nOf := func(lr float64) (int, string) {
		n, lb := countAbove(spec, 2/lr)
		if lb {
			return n, fmt.Sprintf("≥%d", n)
		}
		return n, fmt.Sprint(n)
	}
	rep.Findings = append(rep.Findings, fmt.Sprintf("At the switch (seed %d): λ₁ = %.3f (2/λ₁ = %.2f), top eigenvalues %s; train loss %s.",
		seed, first(spec), 2/first(spec), joinF(spec[:min(8, len(spec))], 3)+"…", f4(float64(res.Arms[0].Start.TrainLoss))))

	// Per-knob instability counts (all seeds), and the hypothesis split.
	type tally struct{ n, unstable, div int }
	byKnob := map[string]map[string]*tally{}
	add := func(knob, val string, r *ArmResult) {
		if byKnob[knob] == nil {
			byKnob[knob] = map[string]*tally{}
		}
		t := byKnob[knob][val]
		if t == nil {
			t = &tally{}
			byKnob[knob][val] = t
		}
		t.n++
		if o := outcome(r); o != "stable" {
			t.unstable++
			if o == "diverged" {
				t.div++
			}
		}
	}
	var betterThanSGD, bulkArms int
	bestBulk, bestBulkName, bestSGD, bestSGDName := math.Inf(1), "", math.Inf(1), ""
	var cellPanels []*plot.Plot
	for _, seed := range s.Seeds {
		g := seedLabel("", seed)
		for _, b := range s.Batches {
			var rows [][]string
			for _, lr := range s.LRs {
				sgd := res.Find(g, stabilityArmName(b, lr, 0, 0))
				if sgd == nil {
					return nil, fmt.Errorf("missing run %s/%s", g, stabilityArmName(b, lr, 0, 0))
				}
				n, nStr := nOf(lr)
				sgdEnd := armEnd(sgd)
				if sgdEnd < bestSGD {
					bestSGD, bestSGDName = sgdEnd, fmt.Sprintf("η = %s, batch %s", etaLabel(lr), batchLabel(b))
				}
				row := []string{etaLabel(lr), fmtG(2/lr, 3), nStr, cellText(sgd, math.NaN())}
				rep.CSVRows = append(rep.CSVRows, stabilityCSV(seed, b, lr, "sgd", 0, 0, nStr, sgd, 1))
				for _, k := range s.Ks {
					for _, t := range s.Refreshes {
						r := res.Find(g, stabilityArmName(b, lr, k, t))
						if r == nil {
							return nil, fmt.Errorf("missing run %s/%s", g, stabilityArmName(b, lr, k, t))
						}
						ratio := armEnd(r) / sgdEnd
						row = append(row, cellText(r, ratio))
						rep.CSVRows = append(rep.CSVRows, stabilityCSV(seed, b, lr, "bulk", k, t, nStr, r, ratio))
						add("η", etaLabel(lr), r)
						add("k", fmt.Sprint(k), r)
						add("T", fmt.Sprint(t), r)
						add("batch", batchLabel(b), r)
						cov := "k ≥ n(η)"
						if k < n {
							cov = "k < n(η)"
						}
						add("basis covers the eigenvalues above 2/η", fmt.Sprintf("batch %s, %s", batchLabel(b), cov), r)
						add("coverage × T", fmt.Sprintf("batch %s, %s, T=%d", batchLabel(b), cov, t), r)
						bulkArms++
						if ratio < 0.8 {
							betterThanSGD++
						}
						if e := armEnd(r); e < bestBulk {
							bestBulk, bestBulkName = e, fmt.Sprintf("η = %s, k = %d, T = %d, batch %s", etaLabel(lr), k, t, batchLabel(b))
						}
					}
				}
				rows = append(rows, row)
			}
			if seed == s.Seeds[0] {
				header := []string{"η", "2/η", "n(η)", "SGD"}
				for _, k := range s.Ks {
					for _, t := range s.Refreshes {
						header = append(header, fmt.Sprintf("Bulk k=%d T=%d", k, t))
					}
				}
				rep.Tables = append(rep.Tables, fmt.Sprintf("Batch %s, seed %d: final full-train loss after %d steps (loss at the switch %s); "+
					"for Bulk, ×r = ratio to SGD at the same η; ✗ diverged at step, ↑ spiked (max loss in brackets):\n\n", batchLabel(b), seed, s.Steps,
					f4(float64(res.Arms[0].Start.TrainLoss)))+mdTable(header, rows))
				for _, t := range s.Refreshes {
					cellPanels = append(cellPanels, stabilityGrid(res, s, g, b, t, nOf))
				}
			}
		}
	}
	rep.Findings = append(rep.Findings, fmt.Sprintf("Lowest final loss: Bulk-SGD %s (%s), SGD %s (%s). %d of %d Bulk arms end below 0.8× SGD's loss at the same η and batch.",
		f4(bestBulk), bestBulkName, f4(bestSGD), bestSGDName, betterThanSGD, bulkArms))
	for _, knob := range []string{"η", "k", "T", "batch", "basis covers the eigenvalues above 2/η", "coverage × T"} {
		vals := byKnob[knob]
		keys := make([]string, 0, len(vals))
		for v := range vals {
			keys = append(keys, v)
		}
		sortKnob(keys)
		var parts []string
		for _, v := range keys {
			t := vals[v]
			parts = append(parts, fmt.Sprintf("%s: %d/%d (%d diverged)", v, t.unstable, t.n, t.div))
		}
		rep.Findings = append(rep.Findings, fmt.Sprintf("Unstable Bulk arms by %s — %s.", knob, strings.Join(parts, "; ")))
	}
	var sgdParts []string
	for _, b := range s.Batches {
		for _, lr := range s.LRs {
			r := res.Find(g0, stabilityArmName(b, lr, 0, 0))
			sgdParts = append(sgdParts, fmt.Sprintf("batch %s η=%s %s", batchLabel(b), etaLabel(lr), outcome(r)))
		}
	}
	rep.Findings = append(rep.Findings, "SGD at the same η: "+strings.Join(sgdParts, ", ")+".")

	if err := savePanels(filepath.Join(res.Dir, "stability_grid.png"), len(s.Refreshes), 380, 240, cellPanels...); err != nil {
		return nil, err
	}
	rep.Figures = append(rep.Figures, Figure{File: "stability_grid.png", Caption: "Final full-train loss after the switch, one panel per batch size and refresh period T; columns η (with n(η), the number of eigenvalues above 2/η at the switch), rows SGD and Bulk-SGD with k. " +
		"Colour: Bulk's final loss ÷ SGD's at the same η (blue: lower, red: higher, saturating at 4×); black: diverged; ↑: spiked; dashed border: k < n(η)."})
	for _, b := range s.Batches {
		file := fmt.Sprintf("stability_curves_b%s.png", batchLabel(b))
		if err := stabilityCurves(filepath.Join(res.Dir, file), res, s, g0, b, s.Refreshes[0]); err != nil {
			return nil, err
		}
		rep.Figures = append(rep.Figures, Figure{File: file, Caption: fmt.Sprintf("Batch %s, T = %d: full-train loss (top, log) and λ₁ with 2/η (bottom, dashed) after the switch, per η; SGD black dashed, Bulk-SGD coloured by k.", batchLabel(b), s.Refreshes[0])})
	}
	// The gauges of stability under minibatches (claim 7), after what the report had before.
	if err := addGauges(rep, res, s); err != nil {
		return nil, err
	}
	return rep, nil
}

func batchList(bs []int) string {
	s := make([]string, len(bs))
	for i, b := range bs {
		s[i] = batchLabel(b)
	}
	return strings.Join(s, ", ")
}

// sortKnob orders knob values numerically where they are numbers.
func sortKnob(keys []string) {
	num := func(s string) float64 {
		var v float64
		if _, err := fmt.Sscan(strings.TrimPrefix(s, "b"), &v); err != nil {
			return math.Inf(1)
		}
		return v
	}
	sort.SliceStable(keys, func(i, j int) bool {
		a, b := num(keys[i]), num(keys[j])
		if a != b {
			return a < b
		}
		return keys[i] < keys[j]
	})
}

// armEnd is the final train loss, +Inf for a diverged arm.
func armEnd(r *ArmResult) float64 {
	if r.Diverged() {
		return math.Inf(1)
	}
	return float64(r.End.TrainLoss)
}

func cellText(r *ArmResult, ratio float64) string {
	switch outcome(r) {
	case "diverged":
		return fmt.Sprintf("✗ %d", r.Diverg)
	case "spiked":
		s := fmt.Sprintf("%s ↑(%s)", fmtG(float64(r.End.TrainLoss), 3), fmtG(float64(r.MaxTrainLoss), 3))
		if !math.IsNaN(ratio) {
			s += fmt.Sprintf(" ×%.2f", ratio)
		}
		return s
	}
	s := fmtG(float64(r.End.TrainLoss), 3)
	if !math.IsNaN(ratio) {
		s += fmt.Sprintf(" ×%.2f", ratio)
	}
	return s
}

func stabilityCSV(seed uint64, b int, lr float64, upd string, k, t int, n string, r *ArmResult, ratio float64) []string {
	lk := math.NaN()
	if len(r.End.Spectrum) > k && k > 0 {
		lk = r.End.Spectrum[k]
	}
	return []string{fmt.Sprint(seed), batchLabel(b), csvNum(lr), upd, fmt.Sprint(k), fmt.Sprint(t), n, csvNum(float64(r.Start.TrainLoss)),
		csvNum(float64(r.End.TrainLoss)), csvNum(ratio), csvNum(float64(r.MaxTrainLoss)), outcome(r), fmt.Sprint(r.Diverg),
		csvNum(float64(r.MaxSharpness)), csvNum(lk), fmt.Sprint(r.Steps)}
}

// stabilityGrid is the heat-map-like panel of one batch size and refresh period.
func stabilityGrid(res *Results, s Sweep, g string, b, t int, nOf func(float64) (int, string)) *plot.Plot {
	var cols []string
	for _, lr := range s.LRs {
		_, ns := nOf(lr)
		cols = append(cols, fmt.Sprintf("%s (n=%s)", etaLabel(lr), ns))
	}
	rows := []string{"SGD"}
	for _, k := range s.Ks {
		rows = append(rows, fmt.Sprintf("Bulk k=%d", k))
	}
	cells := make([][]gridCell, len(rows))
	for ci, lr := range s.LRs {
		sgd := res.Find(g, stabilityArmName(b, lr, 0, 0))
		n, _ := nOf(lr)
		cells[0] = append(cells[0], gridTextCell(sgd, math.NaN(), false))
		for ki, k := range s.Ks {
			r := res.Find(g, stabilityArmName(b, lr, k, t))
			cells[ki+1] = append(cells[ki+1], gridTextCell(r, armEnd(r)/armEnd(sgd), k < n))
		}
		_ = ci
	}
	// Row 0 at the bottom is SGD; reverse so that SGD is drawn on top.
	for i, j := 0, len(cells)-1; i < j; i, j = i+1, j-1 {
		cells[i], cells[j] = cells[j], cells[i]
		rows[i], rows[j] = rows[j], rows[i]
	}
	return newGridPlot(fmt.Sprintf("batch %s, T = %d", batchLabel(b), t), "η (n(η) = eigenvalues above 2/η)", "", cols, rows, cells,
		func(v float64) plotColorT { return divergingColor(math.Log2(v) / 2) })
}

func gridTextCell(r *ArmResult, ratio float64, mark bool) gridCell {
	c := gridCell{Value: ratio, Mark: mark}
	switch outcome(r) {
	case "diverged":
		c.Fill = plotColors[7]
		c.Label = fmt.Sprintf("✗ step %d", r.Diverg)
		return c
	case "spiked":
		c.Label = "↑ " + fmtG(float64(r.End.TrainLoss), 2)
	default:
		c.Label = fmtG(float64(r.End.TrainLoss), 2)
	}
	if math.IsNaN(ratio) {
		c.Fill = plotGreyLight
	} else if !math.IsInf(ratio, 0) {
		c.Label += fmt.Sprintf(" ×%.2f", ratio)
	}
	return c
}

// stabilityCurves draws, per η, the loss and λ₁ of SGD and of Bulk-SGD for each k.
func stabilityCurves(path string, res *Results, s Sweep, g string, b, t int) error {
	var top, bottom []*plot.Plot
	for li, lr := range s.LRs {
		pl := newPlot(fmt.Sprintf("η = %s: train loss", etaLabel(lr)), "step after the switch", "full-train loss (log)")
		setLogY(pl)
		pl.Legend.Top, pl.Legend.Left = false, true
		ps := newPlot(fmt.Sprintf("η = %s: λ₁ (2/η = %s)", etaLabel(lr), fmtG(2/lr, 3)), "step after the switch", "λ₁ (log)")
		setLogY(ps)
		ps.Legend.Left = true

		draw := func(name string, st lineStyle, legend string) error {
			if li > 0 {
				legend = "" // one legend per row, in the first panel
			}
			r := res.Find(g, name)
			ms, err := readMetrics(res.RunDirOf(g, name))
			if err != nil {
				return err
			}
			x, y := trainLossSeries(ms)
			for i := range x {
				x[i] -= float64(s.Warmup)
			}
			x, y = append([]float64{0}, x...), append([]float64{float64(r.Start.TrainLoss)}, y...)
			if !r.Diverged() {
				x, y = append(x, float64(r.Steps)), append(y, float64(r.End.TrainLoss))
			}
			addLine(pl, x, y, st, legend)
			sx, sy := series(ms, func(m *train.Metrics) float64 { return float64(m.Sharpness) })
			for i := range sx {
				sx[i] -= float64(s.Warmup)
			}
			addLine(ps, sx, sy, st, legend)
			return nil
		}
		if err := draw(stabilityArmName(b, lr, 0, 0), lineStyle{Color: plotColors[7], Dashed: true, Width: 1.4}, "SGD"); err != nil {
			return err
		}
		for ki, k := range s.Ks {
			if err := draw(stabilityArmName(b, lr, k, t), lineStyle{Color: plotColor([]int{0, 1, 2, 3, 4}[ki%5]), Width: 1.4}, fmt.Sprintf("Bulk k=%d", k)); err != nil {
				return err
			}
		}
		if 2/lr <= 4*ps.Y.Max {
			leg := ""
			if li == 0 {
				leg = "2/η"
			}
			addHLine(ps, 2/lr, lineStyle{Color: plotGrey, Dashed: true, Width: 1.2}, leg)
			ps.Y.Max = math.Max(ps.Y.Max, 1.1*2/lr)
			ps.Y.Min = math.Min(ps.Y.Min, 0.9*2/lr)
		}
		top, bottom = append(top, pl), append(bottom, ps)
	}
	return savePanels(path, len(s.LRs), 250, 230, append(top, bottom...)...)
}

func narrowStability(res *Results, s Sweep) (Sweep, error) {
	var err error
	s.LRs, err = finishedValues(s.LRs, func(lr float64) bool {
		for _, seed := range s.Seeds {
			g := seedLabel("", seed)
			for _, b := range s.Batches {
				if !res.allFinished(g, stabilityArmName(b, lr, 0, 0)) {
					return false
				}
				for _, k := range s.Ks {
					for _, t := range s.Refreshes {
						if !res.allFinished(g, stabilityArmName(b, lr, k, t)) {
							return false
						}
					}
				}
			}
		}
		return true
	})
	return s, err
}
