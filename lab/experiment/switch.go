package experiment

// switch: the protocol of Song, Ahn & Yun (ICLR 2025). SGD for Warmup steps, then from the
// same point and the same minibatches Dom-SGD, Bulk-SGD and SGD: claims 1 and 2 of
// docs/SCIENCE.md.

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"

	"sharpflat/lab/train"
	"sharpflat/nn"
)

// switchArms are the updates after the switch: d = w_dom P_dom g + w_bulk P_bulk g.
var switchArms = []struct {
	name        string
	wDom, wBulk float64
	label       string
}{{"sgd", 1, 1, "SGD"}, {"dom", 1, 0, "Dom-SGD"}, {"bulk", 0, 1, "Bulk-SGD"}}

// Switch is the switch experiment: SGD warm-up, then Dom-SGD, Bulk-SGD and SGD from the same point (Song, Ahn & Yun 2025).
var Switch = &Experiment{
	Name:    "switch",
	Summary: "SGD warm-up, then Dom-SGD, Bulk-SGD and SGD from the same point (Song et al.): loss, χ, λ₁",
	Preset:  "demo",
	// The calibration protocol of docs/SCIENCE.md: top-10 basis refreshed every 5 steps.
	Config:      []Setting{RefreshEvery(5), EnergyEvery(0), EvalEvery(10)},
	QuickConfig: []Setting{Examples(240), Hidden(8), K(3), EvalEvery(5)},
	Swept:       map[string]string{"seed": "--seeds", "loss": "--losses", "alpha": "(the arms set it)", "w-dom": "(the arms set it)", "w-bulk": "(the arms set it)"},
	Defaults: func(quick bool) Sweep {
		if quick {
			return Sweep{Seeds: []uint64{1}, Losses: []nn.Loss{nn.CrossEntropy}, Warmup: 20, Steps: 15, Target: 0.5}
		}
		return Sweep{Seeds: []uint64{1, 2, 3}, Losses: []nn.Loss{nn.CrossEntropy, nn.MSE}, Warmup: 300, Steps: 300, Target: 0.5}
	},
	plan:   planSwitch,
	report: reportSwitch,
	narrow: narrowSwitch,
}

func planSwitch(base train.Config, s Sweep) Plan {
	var p Plan
	for _, l := range s.Losses {
		loss := l.String()
		for _, seed := range s.Seeds {
			c := base
			c.Loss, c.Seed, c.WDom, c.WBulk = l, seed, 1, 1
			g := Group{Name: seedLabel(loss, seed), Config: c, Warmup: s.Warmup}
			for _, a := range switchArms {
				arm := g.ArmOf(a.name, s.Steps)
				arm.Config.WDom, arm.Config.WBulk = a.wDom, a.wBulk
				g.Arms = append(g.Arms, arm)
			}
			p.Groups = append(p.Groups, g)
		}
	}
	return p
}

// switchReport says how the switch protocol is reported: by the switch experiment (on the
// calibration task, against its PyTorch figures) or by song (the MNIST protocol).
type switchReport struct {
	name, title, intro string
	calibrated         bool // compare with the calibration figures of docs/SCIENCE.md
}

func reportSwitch(res *Results, s Sweep) (*Report, error) {
	return switchReport{name: "switch", title: "switch — Dom-SGD, Bulk-SGD and SGD from the same point",
		intro: "Protocol (Song, Ahn & Yun 2025; the calibration of docs/SCIENCE.md)", calibrated: true}.report(res, s)
}

func (sr switchReport) report(res *Results, s Sweep) (*Report, error) {
	base := res.Plan.Groups[0].Config
	refresh := fmt.Sprintf("refreshed every %d steps", base.RefreshEvery)
	if len(res.Arms) > 0 {
		if t := res.Arms[0].Arm.Config.RefreshEvery; t != base.RefreshEvery {
			refresh = fmt.Sprintf("refreshed every %d steps in the warm-up and every %d in the arms", base.RefreshEvery, t)
		}
	}
	rep := &Report{
		Title: sr.title,
		Protocol: fmt.Sprintf("%s: preset %s (%s, hidden %s, %s), batch %d, η = %g. "+
			"SGD for %d steps, then %d steps of each arm from the same θ, optimizer state and minibatch order; "+
			"top-%d Hessian basis on %s, %s (fresh at the switch). Losses %s, seeds %s. "+
			"Drop = full-train loss at the switch − full-train loss at the end of the arm.",
			sr.intro, base.Preset, base.Data, joinInts(base.Hidden), base.Act, base.Batch, base.LR, s.Warmup, s.Steps, base.K,
			hessDesc(base), refresh, joinLosses(s.Losses), joinU(s.Seeds)),
		CSVHeader: []string{"loss", "seed", "arm", "w_dom", "w_bulk", "train_loss_switch", "train_loss_end", "drop", "test_loss_end", "test_acc_end", "mean_chi", "sharpness_end", "diverged_at"},
	}
	var rows [][]string
	var findings []string
	for _, l := range s.Losses {
		loss := l.String()
		drops := map[string][]float64{}
		var chis []float64
		var P int
		for _, seed := range s.Seeds {
			g := seedLabel(loss, seed)
			row := []string{loss, fmt.Sprint(seed)}
			for _, a := range switchArms {
				r := res.Find(g, a.name)
				if r == nil {
					return nil, fmt.Errorf("missing run %s/%s", g, a.name)
				}
				P = r.P
				d := float64(r.Start.TrainLoss) - float64(r.End.TrainLoss)
				drops[a.name] = append(drops[a.name], d)
				if a.name == "sgd" {
					chis = append(chis, float64(r.MeanChi))
					row = append(row, f4(float64(r.Start.TrainLoss)))
				}
				row = append(row, fmt.Sprintf("%.4f", d))
				rep.CSVRows = append(rep.CSVRows, []string{loss, fmt.Sprint(seed), a.name, csvNum(r.Arm.Config.WDom), csvNum(r.Arm.Config.WBulk),
					csvNum(float64(r.Start.TrainLoss)), csvNum(float64(r.End.TrainLoss)), csvNum(d), csvNum(float64(r.End.TestLoss)),
					csvNum(float64(r.End.TestAcc)), csvNum(float64(r.MeanChi)), csvNum(float64(r.FinalSharpness)), fmt.Sprint(r.Diverg)})
			}
			row = append(row, f4(float64(res.Find(g, "sgd").MeanChi)), f4(float64(res.Find(g, "dom").MeanChi)), f4(float64(res.Find(g, "bulk").MeanChi)))
			rows = append(rows, row)
		}
		sgd, dom, bulk := mean(drops["sgd"]), mean(drops["dom"]), mean(drops["bulk"])
		random := math.Sqrt(float64(base.K) / float64(P))
		verdict := "reproduced"
		if !(dom < 0.2*sgd && bulk > 0.8*sgd) {
			verdict = "NOT reproduced"
		}
		claim2 := fmt.Sprintf("%s: claim 2 %s — mean drop over %d seeds: SGD %.4f, Dom-SGD %.4f (%.1f%% of SGD's), Bulk-SGD %.4f (%.1f%% of SGD's).",
			strings.ToUpper(loss), verdict, len(s.Seeds), sgd, dom, 100*dom/sgd, bulk, 100*bulk/sgd)
		if sr.calibrated {
			claim2 += fmt.Sprintf(" PyTorch calibration (docs/SCIENCE.md): %s.", calibration(loss))
		}
		findings = append(findings, claim2)
		verdict = "reproduced"
		if !(mean(chis) > 3*random) {
			verdict = "NOT reproduced"
		}
		claim1 := fmt.Sprintf("%s: claim 1 %s — mean χ(g) of the minibatch gradient on refresh steps of the SGD arm %.3f (per seed %s) against √(k/P) = %.3f for a random direction (P = %d)",
			strings.ToUpper(loss), verdict, mean(chis), joinF(chis, 3), random, P)
		if sr.calibrated {
			claim1 += "; calibration 0.47–0.57"
		}
		findings = append(findings, claim1+".")
	}
	rep.Findings = findings
	rep.Tables = append(rep.Tables, mdTable([]string{"loss", "seed", "train loss at switch", "drop SGD", "drop Dom", "drop Bulk", "χ(g) SGD", "χ(g) Dom", "χ(g) Bulk"}, rows))

	// Figure: one row per loss; full-train loss, χ(g), λ₁.
	var panels []*plot.Plot
	for _, l := range s.Losses {
		loss := l.String()
		pl := newPlot(strings.ToUpper(loss)+": full-train loss", "step", "loss (log)")
		setLogY(pl)
		pc := newPlot(strings.ToUpper(loss)+": alignment χ(g)", "step", "‖P_dom g‖/‖g‖ (mean of 15 steps)")
		ps := newPlot(strings.ToUpper(loss)+": sharpness λ₁", "step", "λ₁ of the Hessian")
		for si, seed := range s.Seeds {
			g := seedLabel(loss, seed)
			width := 2.0
			if si > 0 {
				width = 0.8
			}
			warm, err := readMetrics(res.RunDirOf(g, "warmup"))
			if err != nil {
				return nil, err
			}
			leg := func(s string) string {
				if si == 0 {
					return s
				}
				return ""
			}
			wx, wy := trainLossSeries(warm)
			if st := res.Find(g, "sgd"); st != nil {
				wx, wy = append(wx, float64(s.Warmup)), append(wy, float64(st.Start.TrainLoss))
			}
			addLine(pl, wx, wy, lineStyle{Color: plotGrey, Width: width}, leg("SGD warm-up"))
			addLine(pc, stepsOf(warm), movingMean(chiOf(warm), 15), lineStyle{Color: plotGrey, Width: width}, "")
			sx, sy := series(warm, func(m *train.Metrics) float64 { return float64(m.Sharpness) })
			addLine(ps, sx, sy, lineStyle{Color: plotGrey, Width: width}, "")
			for ai, a := range switchArms {
				ms, err := readMetrics(res.RunDirOf(g, a.name))
				if err != nil {
					return nil, err
				}
				r := res.Find(g, a.name)
				x, y := trainLossSeries(ms)
				x, y = append(x, float64(s.Warmup+r.Steps)), append(y, float64(r.End.TrainLoss))
				// Bulk dashed: it lies on top of SGD where they agree.
				st := lineStyle{Color: plotColor(ai), Width: width, Dashed: a.name == "bulk"}
				addLine(pl, x, y, st, leg(a.label))
				addLine(pc, stepsOf(ms), movingMean(chiOf(ms), 15), st, "")
				sx, sy := series(ms, func(m *train.Metrics) float64 { return float64(m.Sharpness) })
				addLine(ps, sx, sy, st, "")
			}
		}
		addHLine(pc, math.Sqrt(float64(base.K)/float64(res.Arms[0].P)), lineStyle{Color: plotColors[7], Dashed: true, Width: 1}, "random √(k/P)")
		pc.Y.Min, pc.Y.Max = 0, 1
		panels = append(panels, pl, pc, ps)
	}
	if err := savePanels(filepath.Join(res.Dir, sr.name+".png"), 3, 330, 250, panels...); err != nil {
		return nil, err
	}
	rep.Figures = []Figure{{File: sr.name + ".png", Caption: fmt.Sprintf("Full-train loss (log), χ(g) of the minibatch gradient and λ₁ against steps; grey: the SGD warm-up, then the arms from step %d. Thick: seed %d; thin: the other seeds. Colours as in the loss panels (Bulk-SGD dashed).", s.Warmup, s.Seeds[0])}}
	return rep, nil
}

func calibration(loss string) string {
	if loss == "mse" {
		return "SGD 0.050/0.039, Dom −0.0001/−0.0006, Bulk 0.050/0.039"
	}
	return "SGD 0.080/0.088, Dom 0.0005/−0.001, Bulk 0.080/0.087"
}

func stepsOf(ms []train.Metrics) []float64 {
	x := make([]float64, len(ms))
	for i := range ms {
		x[i] = float64(ms[i].Step)
	}
	return x
}

func chiOf(ms []train.Metrics) []float64 {
	y := make([]float64, len(ms))
	for i := range ms {
		y[i] = float64(ms[i].ChiGrad)
	}
	return y
}

func hessDesc(c train.Config) string {
	if c.HessianSet == 0 {
		return "the training set"
	}
	return fmt.Sprintf("a %d-example subsample", c.HessianSet)
}

func joinU(xs []uint64) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

func joinF(xs []float64, prec int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmtG(x, prec)
	}
	return strings.Join(s, "/")
}

func narrowSwitch(res *Results, s Sweep) (Sweep, error) {
	var err error
	s.Losses, s.Seeds, err = finishedPairs(s.Losses, s.Seeds, func(loss nn.Loss, seed uint64) bool {
		return res.allFinished(seedLabel(loss.String(), seed), "sgd", "dom", "bulk")
	})
	return s, err
}
