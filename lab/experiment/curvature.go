package experiment

// curvature: over SGD training, the Dominant subspace's share of the curvature energy of H, of
// the Gauss–Newton term G and of the functional term F (E_A = ‖VᵀAV‖²_F / ‖A‖²_F, Hutchinson
// denominators with their standard errors), and the G/F split of the top-k eigenvalues
// (vᵢᵀGvᵢ + vᵢᵀFvᵢ = λᵢ): claim 5 of docs/SCIENCE.md.

import (
	"fmt"
	"image/color"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"sharpflat/lab/train"
	"sharpflat/nn"
)

// Curvature is the curvature experiment: where the curvature energy lives (H = G + F).
var Curvature = &Experiment{
	Name:        "curvature",
	Summary:     "over SGD training: energy fractions E_H, E_G, E_F of the Dominant subspace, the G/F split of the top-k eigenvalues, and the spectral density of H (outliers against classes)",
	Preset:      "demo",
	Config:      []Setting{RefreshEvery(10), EnergyEvery(1), HutchSamples(32), EvalEvery(10)},
	QuickConfig: []Setting{Examples(240), Hidden(8), K(3), RefreshEvery(5), HutchSamples(4)},
	Swept:       map[string]string{"seed": "--seeds", "loss": "--losses"},
	Defaults: func(quick bool) Sweep {
		if quick {
			return Sweep{Seeds: []uint64{1}, Losses: []nn.Loss{nn.CrossEntropy}, Warmup: 0, Steps: 20}
		}
		return Sweep{Seeds: []uint64{1, 2}, Losses: []nn.Loss{nn.CrossEntropy, nn.MSE}, Warmup: 0, Steps: 1000}
	},
	plan:   planCurvature,
	report: reportCurvature,
	narrow: narrowCurvature,
}

func planCurvature(base train.Config, s Sweep) Plan {
	var p Plan
	for _, l := range s.Losses {
		loss := l.String()
		for _, seed := range s.Seeds {
			c := base
			c.Loss, c.Seed = l, seed
			g := Group{Name: seedLabel(loss, seed), Config: c, Warmup: s.Warmup}
			a := g.ArmOf("sgd", s.Steps)
			a.DensityAt = []int{0, s.Steps / 2, s.Steps} // the start, middle and end of training
			g.Arms = []Arm{a}
			p.Groups = append(p.Groups, g)
		}
	}
	return p
}

// energyPoint is one heavy refresh: energies and the G/F split.
type energyPoint struct {
	step       float64
	e, se      [3]float64 // H, G, F
	spectrum   []float64
	ggn, fun   []float64
	shareTop   float64 // v₁ᵀGv₁ / λ₁
	shareTotal float64 // Σ vᵢᵀGvᵢ / Σ λᵢ
}

func energyPoints(ms []train.Metrics) []energyPoint {
	var pts []energyPoint
	for i := range ms {
		m := &ms[i]
		if !m.EnergyH.Valid() || len(m.GGNRayleigh) == 0 || len(m.Spectrum) == 0 {
			continue
		}
		p := energyPoint{step: float64(m.Step - 1), spectrum: m.Spectrum, ggn: m.GGNRayleigh, fun: m.FuncRayleigh,
			e:  [3]float64{float64(m.EnergyH), float64(m.EnergyG), float64(m.EnergyF)},
			se: [3]float64{float64(m.EnergyHStderr), float64(m.EnergyGStderr), float64(m.EnergyFStderr)}}
		var sg, sl float64
		for j := range p.spectrum {
			if j < len(p.ggn) {
				sg += p.ggn[j]
				sl += p.spectrum[j]
			}
		}
		p.shareTop, p.shareTotal = p.ggn[0]/p.spectrum[0], sg/sl
		pts = append(pts, p)
	}
	return pts
}

func reportCurvature(res *Results, s Sweep) (*Report, error) {
	base := res.Plan.Groups[0].Config
	rep := &Report{
		Title: "curvature — where the curvature energy lives (H = G + F)",
		Protocol: fmt.Sprintf("Protocol: preset %s, SGD at η = %g, batch %d for %d steps from the initialisation; every %d steps the top-%d eigenpairs of H on %s, "+
			"vᵢᵀGvᵢ and vᵢᵀFvᵢ for each, and the energy fractions E_A = ‖VᵀAV‖²_F / ‖A‖²_F for A = H, G, F with Hutchinson denominators "+
			"(%d Rademacher probes; ± one standard error). Losses %s, seeds %s. \"Late\" = mean over the second half of training.",
			base.Preset, base.LR, base.Batch, s.Steps, base.RefreshEvery, base.K, hessDesc(base), base.HutchSamples, joinLosses(s.Losses), joinU(s.Seeds)),
		CSVHeader: []string{"loss", "seed", "step", "E_H", "E_H_se", "E_G", "E_G_se", "E_F", "E_F_se", "lambda1", "ggn1", "func1", "ggn_share_top", "ggn_share_topk"},
	}
	names := []string{"H", "G", "F"}
	var rows [][]string
	var panels []*plot.Plot
	for _, l := range s.Losses {
		loss := l.String()
		pe := newPlot(strings.ToUpper(loss)+": energy in the Dominant subspace", "step", "E_A = ‖VᵀAV‖²_F / ‖A‖²_F")
		pe.Y.Min, pe.Y.Max = 0, 1.05
		pg := newPlot(strings.ToUpper(loss)+": G share of the top eigenvalues", "step", "share")
		pg.Y.Min, pg.Y.Max = 0, 1.05
		pg.Legend.Top = false
		var late [3][]float64
		var lateTop, lateTotal []float64
		var pb *plot.Plot
		for si, seed := range s.Seeds {
			g := seedLabel(loss, seed)
			ms, err := readMetrics(res.RunDirOf(g, "sgd"))
			if err != nil {
				return nil, err
			}
			pts := energyPoints(ms)
			if len(pts) == 0 {
				return nil, fmt.Errorf("%s: no energy measurements (energy_every 0?)", res.RunDirOf(g, "sgd"))
			}
			xs := make([]float64, len(pts))
			for i, p := range pts {
				xs[i] = p.step
				rep.CSVRows = append(rep.CSVRows, []string{loss, fmt.Sprint(seed), fmt.Sprint(p.step), csvNum(p.e[0]), csvNum(p.se[0]), csvNum(p.e[1]), csvNum(p.se[1]),
					csvNum(p.e[2]), csvNum(p.se[2]), csvNum(p.spectrum[0]), csvNum(p.ggn[0]), csvNum(p.fun[0]), csvNum(p.shareTop), csvNum(p.shareTotal)})
				if p.step >= float64(s.Steps)/2 {
					for a := range 3 {
						late[a] = append(late[a], p.e[a])
					}
					lateTop, lateTotal = append(lateTop, p.shareTop), append(lateTotal, p.shareTotal)
				}
			}
			width := 1.8
			if si > 0 {
				width = 0.8
			}
			for a := range 3 {
				ys, lo, hi := make([]float64, len(pts)), make([]float64, len(pts)), make([]float64, len(pts))
				for i, p := range pts {
					ys[i], lo[i], hi[i] = p.e[a], p.e[a]-p.se[a], p.e[a]+p.se[a]
				}
				leg := ""
				if si == 0 {
					leg = "E_" + names[a]
					addBand(pe, xs, lo, hi, plotColor(a))
				}
				addLine(pe, xs, ys, lineStyle{Color: plotColor(a), Width: width}, leg)
			}
			top, total := make([]float64, len(pts)), make([]float64, len(pts))
			for i, p := range pts {
				top[i], total[i] = p.shareTop, p.shareTotal
			}
			l1, l2 := "", ""
			if si == 0 {
				l1, l2 = "v₁ᵀGv₁ / λ₁", "Σ vᵢᵀGvᵢ / Σ λᵢ (top k)"
			}
			addLine(pg, xs, top, lineStyle{Color: plotColor(0), Width: width}, l1)
			addLine(pg, xs, total, lineStyle{Color: plotColor(2), Width: width}, l2)
			if si == 0 {
				last := pts[len(pts)-1]
				pb = splitBars(fmt.Sprintf("%s: G/F split at step %d (seed %d)", strings.ToUpper(loss), int(last.step), seed), last)
			}
			lastP := pts[len(pts)-1]
			rows = append(rows, []string{loss, fmt.Sprint(seed), fmt.Sprint(int(lastP.step)),
				pm(lastP.e[0], lastP.se[0]), pm(lastP.e[1], lastP.se[1]), pm(lastP.e[2], lastP.se[2]),
				fmt.Sprintf("%.3f (%.3f + %.3f)", lastP.spectrum[0], lastP.ggn[0], lastP.fun[0]), fmt.Sprintf("%.3f", lastP.shareTotal)})
		}
		rep.Findings = append(rep.Findings, fmt.Sprintf("%s, late in training (mean over seeds and refreshes): E_H = %.3f, E_G = %.3f, E_F = %.3f; "+
			"G carries %.0f%% of λ₁ and %.0f%% of λ₁+…+λ_k.", strings.ToUpper(loss), mean(late[0]), mean(late[1]), mean(late[2]), 100*mean(lateTop), 100*mean(lateTotal)))
		panels = append(panels, pe, pb, pg)
	}
	rep.Tables = append(rep.Tables, "At the last measurement:\n\n"+mdTable([]string{"loss", "seed", "step", "E_H", "E_G", "E_F", "λ₁ (= v₁ᵀGv₁ + v₁ᵀFv₁)", "Σ vᵢᵀGvᵢ / Σ λᵢ"}, rows))
	if err := savePanels(filepath.Join(res.Dir, "curvature.png"), 3, 330, 250, panels...); err != nil {
		return nil, err
	}
	rep.Figures = []Figure{{File: "curvature.png", Caption: "Left: energy fractions of H, G and F captured by the top-k basis over training (band: ± one standard error of the Hutchinson estimate; thick: first seed). " +
		"Middle: vᵢᵀGvᵢ and vᵢᵀFvᵢ for the top-k eigenvectors at the end (they sum to λᵢ). Right: G's share of λ₁ and of the top-k sum."}}
	// The whole spectrum (claim 6), after what the report had before.
	if err := addDensity(rep, res, s); err != nil {
		return nil, err
	}
	return rep, nil
}

func pm(v, se float64) string { return fmt.Sprintf("%.3f ± %.3f", v, se) }

// splitBars draws vᵢᵀGvᵢ and vᵢᵀFvᵢ side by side for i = 1…k.
func splitBars(title string, p energyPoint) *plot.Plot {
	pl := newPlot(title, "eigenvector i", "vᵢᵀAvᵢ")
	k := len(p.ggn)
	w := vg.Points(7)
	g, _ := plotter.NewBarChart(plotter.Values(p.ggn), w)
	f, _ := plotter.NewBarChart(plotter.Values(p.fun[:k]), w)
	g.Color, f.Color = plotColor(1), plotColor(2)
	g.LineStyle.Width, f.LineStyle.Width = 0, 0
	g.Offset, f.Offset = -w/2, w/2
	pl.Add(g, f)
	pl.Legend.Add("G: vᵢᵀGvᵢ", g)
	pl.Legend.Add("F: vᵢᵀFvᵢ", f)
	labels := make([]string, k)
	for i := range labels {
		labels[i] = fmt.Sprint(i + 1)
	}
	pl.NominalX(labels...)
	pl.Y.Max *= 1.1 // room under the title and the legend
	return pl
}

// addBand shades the area between lo and hi.
func addBand(p *plot.Plot, xs, lo, hi []float64, c color.Color) {
	var pts plotter.XYs
	for i := range xs {
		pts = append(pts, plotter.XY{X: xs[i], Y: hi[i]})
	}
	for i := len(xs) - 1; i >= 0; i-- {
		pts = append(pts, plotter.XY{X: xs[i], Y: lo[i]})
	}
	poly, err := plotter.NewPolygon(pts)
	if err != nil {
		return
	}
	r, g, b, _ := c.RGBA()
	poly.Color = color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 60}
	poly.LineStyle.Width = 0
	p.Add(poly)
}

func narrowCurvature(res *Results, s Sweep) (Sweep, error) {
	var err error
	s.Losses, s.Seeds, err = finishedPairs(s.Losses, s.Seeds, func(loss nn.Loss, seed uint64) bool {
		return res.allFinished(seedLabel(loss.String(), seed), "sgd")
	})
	return s, err
}
