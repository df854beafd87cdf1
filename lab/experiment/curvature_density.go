package experiment

// The density part of experiment curvature (claim 6 of docs/SCIENCE.md): the spectral
// density of H at the start, middle and end of training, how many outliers stand apart from
// the bulk (train.Outliers on the exact top eigenvalues) against the number of classes, and
// where the edge 2/η falls among them. Written as figures, a table, findings and
// curvature_density.csv (summary.csv keeps its columns).

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
)

var densityCSVHeader = []string{"loss", "seed", "step", "classes", "k", "outliers", "outlier_rule", "largest_ratio", "largest_ratio_at", "lambda1", "lambda_k_plus_1", "top_of_bulk",
	"two_over_lr", "edge_place", "width", "probes", "lanczos_steps", "products"}

// stageName names the i-th of n density points: start, middle, end when there are three.
func stageName(i, n int) string {
	if n == 3 {
		return [3]string{"start", "middle", "end"}[i]
	}
	return fmt.Sprintf("point %d", i+1)
}

// addDensity adds the density figure, table, findings and curvature_density.csv to the
// curvature report. Arms without density.json (run before it existed) add nothing.
func addDensity(rep *Report, res *Results, s Sweep) error {
	var panels []*plot.Plot
	var rows [][]string
	csvRows := [][]string{densityCSVHeader}
	for _, l := range s.Losses {
		loss := l.String()
		var counts []string
		for si, seed := range s.Seeds {
			g := seedLabel(loss, seed)
			pts, err := readDensity(res.RunDirOf(g, "sgd"))
			if err != nil {
				return err
			}
			var ns, places []string
			for pi := range pts {
				p := &pts[pi]
				n, rule := p.outliers()
				bulkTop, next := nanAt(p.Top, n), nanAt(p.Top, p.K)
				place := edgePlace(p.Top, n, float64(p.Edge))
				gap, at := largestRatio(p.Top)
				rows = append(rows, []string{loss, fmt.Sprint(seed), fmt.Sprintf("%d (%s)", p.Step, stageName(pi, len(pts))), fmt.Sprint(p.Classes), fmt.Sprint(p.K),
					fmt.Sprintf("%d (%s)", n, rule), fmt.Sprintf("%s (λ%d/λ%d)", fmtG(gap, 3), at, at+1), fmtG(first(p.Top), 4), fmtG(next, 4), fmtG(bulkTop, 4), fmtG(float64(p.Edge), 4), place,
					fmt.Sprintf("%d × %d = %d", p.Probes, p.Steps, p.Products)})
				csvRows = append(csvRows, []string{loss, fmt.Sprint(seed), fmt.Sprint(p.Step), fmt.Sprint(p.Classes), fmt.Sprint(p.K), fmt.Sprint(n), rule, csvNum(gap), fmt.Sprint(at),
					csvNum(first(p.Top)), csvNum(next), csvNum(bulkTop), csvNum(float64(p.Edge)), place, csvNum(p.Width),
					fmt.Sprint(p.Probes), fmt.Sprint(p.Steps), fmt.Sprint(p.Products)})
				ns = append(ns, fmt.Sprintf("%d (largest ratio %s)", n, fmtG(gap, 3)))
				places = append(places, place)
				if si == 0 {
					title := fmt.Sprintf("%s, step %d (%s): %d outliers, C = %d", strings.ToUpper(loss), p.Step, stageName(pi, len(pts)), n, p.Classes)
					panels = append(panels, densityPlot(title, p, pi == 0))
				}
			}
			if len(pts) > 0 {
				counts = append(counts, fmt.Sprintf("seed %d: %s outliers of the top %d (C = %d classes, k = %d), 2/η at the end %s",
					seed, strings.Join(ns, " → "), len(pts[0].Top)-1, pts[0].Classes, pts[0].K, places[len(places)-1]))
			}
		}
		if len(counts) > 0 {
			rep.Findings = append(rep.Findings, fmt.Sprintf("%s, spectral density at the start, middle and end (train.Outliers: the largest ratio λᵢ/λᵢ₊₁ ≥ 2): %s.",
				strings.ToUpper(loss), strings.Join(counts, "; ")))
		}
	}
	if len(panels) == 0 {
		return nil
	}
	if err := writeCSV(res.Dir, "curvature_density.csv", csvRows); err != nil {
		return err
	}
	rep.Tables = append(rep.Tables, "The spectral density of H (stochastic Lanczos quadrature, probes × Lanczos steps = products) and the exact top of the spectrum "+
		"(cold Lanczos) at the start, middle and end of training; outliers by train.Outliers on the exact eigenvalues; top of the bulk = λ_{n+1} for n outliers:\n\n"+
		mdTable([]string{"loss", "seed", "step", "C", "k", "outliers (rule)", "largest λᵢ/λᵢ₊₁", "λ₁", "λ_{k+1}", "top of the bulk", "2/η", "2/η falls", "SLQ products"}, rows))
	const file = "curvature_density.png"
	if err := savePanels(filepath.Join(res.Dir, file), 3, 330, 250, panels...); err != nil {
		return err
	}
	rep.Figures = append(rep.Figures, Figure{File: file, Caption: "The spectral density of H (stochastic Lanczos quadrature, Gaussian kernel of width σ, log scale) " +
		"at the start, middle and end of training, first seed, one row per loss; λ on a symmetric-log axis, linear within ±σ of zero. " +
		"Vermillion: the exact top-k eigenvalues; green dashed: λ_{k+1}; black dotted: 2/η."})
	return nil
}

// largestRatio is the largest λᵢ/λᵢ₊₁ over consecutive positive pairs of top (descending),
// and its i (1-based); NaN and 0 with fewer than two positive values.
func largestRatio(top []float64) (float64, int) {
	best, at := math.NaN(), 0
	for i := 1; i < len(top) && top[i] > 0; i++ {
		if r := top[i-1] / top[i]; !(r <= best) {
			best, at = r, i
		}
	}
	return best, at
}

// nanAt is x[i], NaN past the end.
func nanAt(x []float64, i int) float64 {
	if i < 0 || i >= len(x) {
		return math.NaN()
	}
	return x[i]
}
