package experiment

// alpha: the interpolation family d = w_dom P_dom g + w_bulk P_bulk g swept along the slider
// α (Dom-SGD → SGD → Bulk-SGD) and beyond it (w_bulk > 1), from the same SGD warm-up, at a
// small and a large η: claim 4 of docs/SCIENCE.md.

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"

	"gonum.org/v1/plot/vg/draw"
	"sharpflat/lab/train"
)

// Alpha is the alpha experiment: the interpolation family swept along the slider and beyond it.
var Alpha = &Experiment{
	Name:        "alpha",
	Summary:     "α (and w_bulk > 1) swept after an SGD warm-up at several η: steps to a loss target, final loss, divergences",
	Preset:      "demo",
	Config:      []Setting{RefreshEvery(5), EnergyEvery(0), EvalEvery(5)},
	QuickConfig: []Setting{Examples(240), Hidden(8), K(3)},
	Swept:       map[string]string{"seed": "--seeds", "alpha": "--alphas", "w-dom": "--alphas / --w-bulks", "w-bulk": "--alphas / --w-bulks"},
	Defaults: func(quick bool) Sweep {
		if quick {
			return Sweep{Seeds: []uint64{1}, LRs: []float64{0.1}, Alphas: []float64{0, 0.5, 1}, WBulks: []float64{2}, Warmup: 20, Steps: 15, Target: 0.9}
		}
		return Sweep{Seeds: []uint64{1, 2}, LRs: []float64{0.1, 2}, Alphas: []float64{0, 0.25, 0.5, 0.75, 1}, WBulks: []float64{2, 4},
			Warmup: 300, Steps: 300, Target: 0.5}
	},
	plan:   planAlpha,
	report: reportAlpha,
	narrow: narrowAlpha,
}

// alphaArm is one update of the sweep.
type alphaArm struct {
	name, label string
	wDom, wBulk float64
}

func alphaArms(s Sweep) []alphaArm {
	var arms []alphaArm
	for _, a := range s.Alphas {
		wd, wb := train.Weights(a)
		label := "α=" + etaLabel(a)
		switch a {
		case 0:
			label += " Dom"
		case 0.5:
			label += " SGD"
		case 1:
			label += " Bulk"
		}
		arms = append(arms, alphaArm{name: "a" + etaLabel(a), label: label, wDom: wd, wBulk: wb})
	}
	for _, w := range s.WBulks {
		arms = append(arms,
			alphaArm{name: "wd1_wb" + etaLabel(w), label: fmt.Sprintf("(1,%s)", etaLabel(w)), wDom: 1, wBulk: w},
			alphaArm{name: "wd0_wb" + etaLabel(w), label: fmt.Sprintf("(0,%s)", etaLabel(w)), wDom: 0, wBulk: w})
	}
	return arms
}

func planAlpha(base train.Config, s Sweep) Plan {
	var p Plan
	for _, seed := range s.Seeds {
		c := base
		c.Seed, c.WDom, c.WBulk = seed, 1, 1
		g := Group{Name: seedLabel("", seed), Config: c, Warmup: s.Warmup}
		for _, lr := range s.LRs {
			for _, a := range alphaArms(s) {
				arm := g.ArmOf("lr"+etaLabel(lr)+"_"+a.name, s.Steps)
				arm.Config.LR, arm.Config.WDom, arm.Config.WBulk = lr, a.wDom, a.wBulk
				g.Arms = append(g.Arms, arm)
			}
		}
		p.Groups = append(p.Groups, g)
	}
	return p
}

// stepsToTarget is the first step after the switch at which the full-train loss is at most
// target (evaluated every eval_every steps, and at the end); -1 if never.
func stepsToTarget(ms []train.Metrics, r *ArmResult, warmup int, target float64) int {
	xs, ys := trainLossSeries(ms)
	for i := range xs {
		if int(xs[i]) > warmup && ys[i] <= target {
			return int(xs[i]) - warmup
		}
	}
	if float64(r.End.TrainLoss) <= target {
		return r.Steps
	}
	return -1
}

func reportAlpha(res *Results, s Sweep) (*Report, error) {
	base := res.Plan.Groups[0].Config
	arms := alphaArms(s)
	rep := &Report{
		Title: "alpha — interpolating between Dom-SGD, SGD and Bulk-SGD",
		Protocol: fmt.Sprintf("Protocol: preset %s, batch %d, SGD at η = %g for %d steps (top-%d basis refreshed every %d steps), then from that point "+
			"%d steps of each update d = w_dom·P_dom g + w_bulk·P_bulk g at η ∈ {%s}: the slider α ∈ {%s} "+
			"(w_dom = min(1, 2(1−α)), w_bulk = min(1, 2α)) and the pairs (w_dom, w_bulk) = (1, w), (0, w) for w ∈ {%s}. "+
			"Target: full-train loss ≤ %g × the loss at the switch, checked every %d steps. Seeds %s.",
			base.Preset, base.Batch, base.LR, s.Warmup, base.K, base.RefreshEvery, s.Steps, joinF(s.LRs, 4), joinF(s.Alphas, 3),
			joinF(s.WBulks, 3), s.Target, base.EvalEvery, joinU(s.Seeds)),
		CSVHeader: []string{"seed", "lr", "arm", "alpha", "w_dom", "w_bulk", "train_loss_switch", "train_loss_end", "steps_to_target", "max_train_loss", "diverged_at", "sharpness_end", "test_acc_end"},
	}
	var panels, curves []*plot.Plot
	for _, lr := range s.LRs {
		var rows [][]string
		pf := newPlot(fmt.Sprintf("η = %s: final train loss (%d steps)", etaLabel(lr), s.Steps), "update (w_dom, w_bulk)", "full-train loss (log)")
		setLogY(pf)
		pc := newPlot(fmt.Sprintf("η = %s: train loss, seed %d", etaLabel(lr), s.Seeds[0]), "step after the switch", "full-train loss (log)")
		setLogY(pc)
		pc.Legend.Top, pc.Legend.Left = false, true
		first := len(curves) == 0 // one legend, in the first panel
		var names []string
		best, bestName := math.Inf(1), ""
		var summary []string
		for ai, a := range arms {
			name := "lr" + etaLabel(lr) + "_" + a.name
			var finals, hits []float64
			div := 0
			var xs []float64
			for si, seed := range s.Seeds {
				g := seedLabel("", seed)
				r := res.Find(g, name)
				if r == nil {
					return nil, fmt.Errorf("missing run %s/%s", g, name)
				}
				ms, err := readMetrics(res.RunDirOf(g, name))
				if err != nil {
					return nil, err
				}
				target := s.Target * float64(r.Start.TrainLoss)
				hit := stepsToTarget(ms, r, s.Warmup, target)
				end := float64(r.End.TrainLoss)
				if r.Diverged() {
					div++
					end = math.Inf(1)
				}
				finals = append(finals, end)
				if hit >= 0 {
					hits = append(hits, float64(hit))
				} else {
					hits = append(hits, math.NaN())
				}
				xs = append(xs, float64(ai))
				rep.CSVRows = append(rep.CSVRows, []string{fmt.Sprint(seed), csvNum(lr), a.name, csvNum(train.AlphaOf(a.wDom, a.wBulk)), csvNum(a.wDom), csvNum(a.wBulk),
					csvNum(float64(r.Start.TrainLoss)), csvNum(float64(r.End.TrainLoss)), fmt.Sprint(hit), csvNum(float64(r.MaxTrainLoss)), fmt.Sprint(r.Diverg),
					csvNum(float64(r.FinalSharpness)), csvNum(float64(r.End.TestAcc))})
				if si == 0 {
					x, y := trainLossSeries(ms)
					for i := range x {
						x[i] -= float64(s.Warmup)
					}
					x, y = append([]float64{0}, x...), append([]float64{float64(r.Start.TrainLoss)}, y...)
					if !r.Diverged() {
						x, y = append(x, float64(r.Steps)), append(y, float64(r.End.TrainLoss))
					}
					leg := a.label
					if !first {
						leg = ""
					}
					addLine(pc, x, y, alphaStyle(a), leg)
				}
			}
			addPoints(pf, xs, finals, alphaColor(a), "")
			m := mean(finals)
			if m < best {
				best, bestName = m, a.label
			}
			names = append(names, a.label)
			hitStr := joinF(hits, 4)
			if strings.Trim(hitStr, "—/") == "" {
				hitStr = fmt.Sprintf("> %d", s.Steps)
			}
			rows = append(rows, []string{a.label, fmtG(a.wDom, 3), fmtG(a.wBulk, 3), f4(m), hitStr, fmt.Sprintf("%d/%d", div, len(s.Seeds))})
			summary = append(summary, fmt.Sprintf("%s %s", a.label, f4(m)))
		}
		pf.NominalX(names...)
		pf.X.Min, pf.X.Max = -0.5, float64(len(names))-0.5
		pf.X.Tick.Label.Rotation = math.Pi / 6
		pf.X.Tick.Label.XAlign, pf.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
		panels = append(panels, pf)
		curves = append(curves, pc)
		rep.Tables = append(rep.Tables, fmt.Sprintf("η = %s (loss at the switch %s):\n\n", etaLabel(lr), f4(float64(res.Arms[0].Start.TrainLoss)))+
			mdTable([]string{"update", "w_dom", "w_bulk", "final train loss (mean)", fmt.Sprintf("steps to %g× (per seed)", s.Target), "diverged"}, rows))
		rep.Findings = append(rep.Findings, fmt.Sprintf("η = %s: mean final train loss %s; lowest: %s.", etaLabel(lr), strings.Join(summary, ", "), bestName))
	}
	if err := savePanels(filepath.Join(res.Dir, "alpha.png"), len(s.LRs), 360, 270, append(panels, curves...)...); err != nil {
		return nil, err
	}
	rep.Figures = []Figure{{File: "alpha.png", Caption: "Top: final full-train loss of each update, one point per seed (log scale; the slider from Dom-SGD to Bulk-SGD, then (w_dom, w_bulk) pairs with w_bulk > 1). Bottom: the loss after the switch for the first seed (dashed: w_bulk = 2, dotted: w_bulk > 2; purple: w_dom = 1, orange: w_dom = 0)."}}
	return rep, nil
}

// alphaStyle draws the slider solid, w_bulk = 2 dashed and larger w_bulk dotted.
func alphaStyle(a alphaArm) lineStyle {
	return lineStyle{Color: alphaColor(a), Width: 1.6, Dashed: a.wBulk > 1 && a.wBulk <= 2, Dotted: a.wBulk > 2}
}

// alphaColor colours the slider from Dom (vermillion) through SGD (blue) to Bulk (green),
// and the w_bulk > 1 pairs purple (w_dom = 1) and orange (w_dom = 0).
func alphaColor(a alphaArm) plotColorT {
	if a.wBulk > 1 {
		if a.wDom > 0 {
			return plotColors[3]
		}
		return plotColors[4]
	}
	al := train.AlphaOf(a.wDom, a.wBulk)
	switch {
	case al == 0:
		return plotColors[1]
	case al < 0.5:
		return plotColors[6]
	case al == 0.5:
		return plotColors[0]
	case al < 1:
		return plotColors[5]
	}
	return plotColors[2]
}

func narrowAlpha(res *Results, s Sweep) (Sweep, error) {
	var err error
	s.LRs, err = finishedValues(s.LRs, func(lr float64) bool {
		for _, seed := range s.Seeds {
			for _, a := range alphaArms(s) {
				if !res.allFinished(seedLabel("", seed), "lr"+etaLabel(lr)+"_"+a.name) {
					return false
				}
			}
		}
		return true
	})
	return s, err
}
