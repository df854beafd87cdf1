package experiment

// eos: full-batch gradient descent at several η from the same initialisation: progressive
// sharpening of λ₁ up to 2/η and the edge of stability (Cohen et al., ICLR 2021); and the same
// with Bulk-GD, which never steps along the top-k eigenvectors.

import (
	"fmt"
	"math"
	"path/filepath"

	"gonum.org/v1/plot"

	"sharpflat/lab/train"
)

// EOS is the eos experiment: progressive sharpening and the edge of stability under GD and Bulk-GD.
var EOS = &Experiment{
	Name:        "eos",
	Summary:     "full-batch GD and Bulk-GD at several η: λ₁ against 2/η (progressive sharpening, edge of stability)",
	Preset:      "eos",
	Config:      []Setting{EnergyEvery(0), EvalEvery(10)},
	QuickConfig: []Setting{Examples(90), Hidden(8, 8)},
	Swept:       map[string]string{"seed": "--seeds", "lr": "--lrs", "alpha": "(the arms set it)", "w-dom": "(the arms set it)", "w-bulk": "(the arms set it)"},
	Defaults: func(quick bool) Sweep {
		if quick {
			return Sweep{Seeds: []uint64{1}, LRs: []float64{0.4}, Warmup: 0, Steps: 25}
		}
		return Sweep{Seeds: []uint64{1}, LRs: []float64{0.2, 0.4, 0.6, 0.8}, Warmup: 0, Steps: 2000}
	},
	plan:   planEOS,
	report: reportEOS,
	narrow: narrowEOS,
}

var eosArms = []struct {
	name, label string
	wDom        float64
}{{"gd", "GD", 1}, {"bulk", "Bulk-GD", 0}}

func planEOS(base train.Config, s Sweep) Plan {
	var p Plan
	for _, seed := range s.Seeds {
		c := base
		c.Seed, c.WDom, c.WBulk = seed, 1, 1
		g := Group{Name: seedLabel("", seed), Config: c, Warmup: s.Warmup}
		for _, lr := range s.LRs {
			for _, a := range eosArms {
				arm := g.ArmOf(a.name+"_lr"+etaLabel(lr), s.Steps)
				arm.Config.LR, arm.Config.WDom = lr, a.wDom
				arm.Probe = base.K + 2 // λ_{k+1} at the end: Bulk-GD's edge, if the hypothesis holds
				g.Arms = append(g.Arms, arm)
			}
		}
		p.Groups = append(p.Groups, g)
	}
	return p
}

func reportEOS(res *Results, s Sweep) (*Report, error) {
	base := res.Plan.Groups[0].Config
	batch := "full batch"
	if base.Batch > 0 {
		batch = fmt.Sprintf("batch %d", base.Batch)
	}
	rep := &Report{
		Title: "eos — progressive sharpening and the edge of stability",
		Protocol: fmt.Sprintf("Protocol: preset %s (%s, %s loss, hidden %s), %s, from the same initialisation %d steps of GD and of Bulk-GD (w_dom = 0) at each η ∈ {%s}; "+
			"λ₁ from the top-%d basis refreshed every %d steps. \"Late\" = the last quarter of the steps. Seeds %s.",
			base.Preset, base.Data, base.Loss, joinInts(base.Hidden), batch, s.Steps, joinF(s.LRs, 3), base.K, base.RefreshEvery, joinU(s.Seeds)),
		CSVHeader: []string{"seed", "lr", "update", "two_over_lr", "first_step_at_0.95_threshold", "late_mean_sharpness", "late_mean_over_threshold", "max_sharpness", "train_loss_end", "diverged_at", "end_spectrum"},
	}
	var rows [][]string
	titles := map[string]string{"gd": "GD", "bulk": "Bulk-GD (top-k projected out)"}
	var panels []*plot.Plot
	for _, a := range eosArms {
		ps := newPlot(titles[a.name]+": sharpness λ₁", "step", "λ₁ (dashed: 2/η)")
		pl := newPlot(titles[a.name]+": train loss", "step", "loss (log)")
		setLogY(pl)
		ps.Y.Min = 0
		ps.Legend.Top = false
		ps.Legend.Left = false
		for li, lr := range s.LRs {
			for si, seed := range s.Seeds {
				g := seedLabel("", seed)
				name := a.name + "_lr" + etaLabel(lr)
				r := res.Find(g, name)
				if r == nil {
					return nil, fmt.Errorf("missing run %s/%s", g, name)
				}
				ms, err := readMetrics(res.RunDirOf(g, name))
				if err != nil {
					return nil, err
				}
				thr := 2 / lr
				sx, sy := series(ms, func(m *train.Metrics) float64 { return float64(m.Sharpness) })
				lx, ly := series(ms, func(m *train.Metrics) float64 { return float64(m.Loss) })
				reach := -1
				var late []float64
				for i := range sx {
					if reach < 0 && sy[i] >= 0.95*thr {
						reach = int(sx[i])
					}
					if sx[i] > 0.75*float64(s.Steps) {
						late = append(late, sy[i])
					}
				}
				lateMean := mean(late)
				reachStr := "never"
				if reach >= 0 {
					reachStr = fmt.Sprint(reach)
				}
				div := ""
				if r.Diverged() {
					div = fmt.Sprintf(" (diverged at %d)", r.Diverg)
				}
				rows = append(rows, []string{fmt.Sprint(seed), etaLabel(lr), a.label, fmtG(thr, 3), reachStr,
					fmt.Sprintf("%.3f (%.2f×)", lateMean, lateMean/thr), f4(float64(r.MaxSharpness)), joinF(r.End.Spectrum, 3), f4(float64(r.End.TrainLoss)) + div})
				rep.CSVRows = append(rep.CSVRows, []string{fmt.Sprint(seed), csvNum(lr), a.name, csvNum(thr), fmt.Sprint(reach), csvNum(lateMean),
					csvNum(lateMean / thr), csvNum(float64(r.MaxSharpness)), csvNum(float64(r.End.TrainLoss)), fmt.Sprint(r.Diverg), joinF(r.End.Spectrum, 6)})
				if si > 0 {
					continue
				}
				st := lineStyle{Color: plotColor(li), Width: 1.5}
				addLine(ps, sx, sy, st, "η = "+etaLabel(lr))
				addHLine(ps, thr, lineStyle{Color: plotColor(li), Dashed: true, Width: 1}, "")
				addLine(pl, lx, ly, st, "η = "+etaLabel(lr))
				if a.name == "gd" {
					if reach >= 0 {
						rep.Findings = append(rep.Findings, fmt.Sprintf("GD at η = %s: λ₁ rose from %.2f to 0.95 × 2/η = %.2f by step %d; late mean λ₁ = %.3f = %.2f × 2/η (max %.3f).",
							etaLabel(lr), sy[0], 0.95*thr, reach, lateMean, lateMean/thr, float64(r.MaxSharpness)))
					} else {
						rep.Findings = append(rep.Findings, fmt.Sprintf("GD at η = %s: λ₁ went from %.2f to %.3f in %d steps and did not reach 2/η = %.2f.",
							etaLabel(lr), sy[0], sy[len(sy)-1], s.Steps, thr))
					}
				} else {
					outcome := "without diverging"
					if r.Diverged() {
						outcome = fmt.Sprintf("and diverged at step %d", r.Diverg)
					}
					next := "—"
					if k := base.K; len(r.End.Spectrum) > k {
						next = fmt.Sprintf("%.3f = %.2f × 2/η", r.End.Spectrum[k], r.End.Spectrum[k]/thr)
					}
					rep.Findings = append(rep.Findings, fmt.Sprintf("Bulk-GD at η = %s: max λ₁ = %.3f = %.2f × 2/η %s; at the end λ_%d (the first eigenvalue outside the top-%d basis) = %s; final loss %s (GD: %s).",
						etaLabel(lr), float64(r.MaxSharpness), float64(r.MaxSharpness)/thr, outcome, base.K+1, base.K, next, f4(float64(r.End.TrainLoss)),
						f4(float64(res.Find(g, "gd_lr"+etaLabel(lr)).End.TrainLoss))))
				}
			}
		}
		maxThr := 0.0
		for _, lr := range s.LRs {
			maxThr = math.Max(maxThr, 2/lr)
		}
		ps.Y.Max = math.Max(ps.Y.Max, 1.08*maxThr) // the 2/η lines are not data: keep them in view
		panels = append(panels, ps, pl)
	}
	rep.Tables = append(rep.Tables, mdTable([]string{"seed", "η", "update", "2/η", "first step λ₁ ≥ 0.95·2/η", "late mean λ₁ (÷ 2/η)", "max λ₁", fmt.Sprintf("λ₁…λ_%d at the end", base.K+2), "final loss"}, rows))
	if err := savePanels(filepath.Join(res.Dir, "eos.png"), 2, 380, 260, panels...); err != nil {
		return nil, err
	}
	rep.Figures = []Figure{{File: "eos.png", Caption: fmt.Sprintf("Sharpness λ₁ (left; dashed: 2/η in the same colour) and minibatch = full-batch loss (right, log) for GD (top) and Bulk-GD (bottom), seed %d.", s.Seeds[0])}}
	return rep, nil
}

func narrowEOS(res *Results, s Sweep) (Sweep, error) {
	var err error
	s.LRs, err = finishedValues(s.LRs, func(lr float64) bool {
		for _, seed := range s.Seeds {
			for _, a := range eosArms {
				if !res.allFinished(seedLabel("", seed), a.name+"_lr"+etaLabel(lr)) {
					return false
				}
			}
		}
		return true
	})
	return s, err
}
