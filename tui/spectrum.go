package tui

import (
	"fmt"
	"math"

	"github.com/NimbleMarkets/ntcharts/canvas/runes"

	"sharpflat/linalg"
)

// The curvature panels: the top-k spectrum of the basis in use, and the split of each
// dominant eigenvalue into its Gauss–Newton and functional parts,
//
//	λᵢ = vᵢᵀHvᵢ = vᵢᵀGvᵢ + vᵢᵀFvᵢ   (H = G + F, docs/SCIENCE.md)
//
// with the curvature-energy fractions E_A = ‖VᵀAV‖²_F / ‖A‖²_F and the overlap between
// successive bases.

// spectrumPanel draws λ₁…λ_k as bars; with gShare (the narrow layout, which has no G/F
// panel) each row also gives the G share of the latest split, |Gᵢ|/(|Gᵢ|+|Fᵢ|) (see
// gShareOf), under a title that says which step the split was measured at.
func (m Model) spectrumPanel(a area, gShare bool) {
	s := &m.snap
	k := len(s.Basis.Values)
	ttl := title("spectrum", "", 9)
	if k > 0 {
		ttl = title("spectrum λ₁…λ"+sub(k), "λ₁…λ"+sub(k), 3)
	}
	items := []item{ttl}
	if s.Basis.Step >= 0 {
		items = append(items, note(fmt.Sprintf("@%d", s.Basis.Step), "", inkLabel, 0))
	}
	if len(s.Basis.Residuals) > 0 {
		r := 0.0
		for _, v := range s.Basis.Residuals {
			r = math.Max(r, v)
		}
		if s.Basis.Converged {
			items = append(items, note("residual ≤ "+num(r, 1), "", inkLabel, 1))
		} else {
			items = append(items, note("not converged: residual "+num(r, 1), "not converged", inkWarn, 5))
		}
	}
	if gShare && len(s.Basis.GGN) > 0 {
		items = append(items, note("G share @"+fmt.Sprint(s.Basis.SplitStep), "G share", inkLabel, 2))
	}
	legend(a, items...)
	if k == 0 {
		a.text(0, 2, "no eigenspace yet ("+m.whoComputes("it")+")", inkLabel)
		return
	}
	rows := a.h - 1
	show := min(k, rows)
	if k > rows {
		show = max(0, rows-1)
	}
	lw := 1 + len([]rune(sub(k))) // "λ₁₀"
	top := 0.0
	for _, v := range s.Basis.Values {
		top = math.Max(top, math.Abs(v))
	}
	for i := 0; i < show; i++ {
		y := 1 + i
		x := a.text(0, y, "λ"+sub(i+1), inkLabel)
		v := fmt.Sprintf("%8s", num(s.Basis.Values[i], 4))
		x = a.text(lw+1, y, v, inkNone)
		tail := ""
		if gShare && i < len(s.Basis.GGN) && s.Basis.Values[i] != 0 && i < len(s.Basis.Functional) {
			tail = " G " + pct(gShareOf(s.Basis.GGN[i], s.Basis.Functional[i]))
		}
		bw := a.w - x - 1 - len([]rune(tail))
		if bw > 0 && top > 0 {
			hbar(a, x+1, y, bw, math.Max(0, s.Basis.Values[i])/top, inkSharp)
		}
		if tail != "" {
			a.text(a.w-len([]rune(tail)), y, tail, inkLabel)
		}
	}
	if show < k {
		a.text(0, 1+show, fmt.Sprintf("… %d more, down to λ%s %s", k-show, sub(k), num(s.Basis.Values[k-1], 3)), inkLabel)
	} else if next := s.Basis.Next; !math.IsNaN(next) && show < rows {
		// λ_{k+1}, the top of the bulk, under the basis: what Bulk-SGD feels.
		y := 1 + show
		a.text(0, y, "λ"+sub(k+1), inkBulk)
		x := a.text(lw+1, y, fmt.Sprintf("%8s", num(next, 4)), inkNone)
		const tail = " top of the bulk"
		if bw := a.w - x - 1; bw > 0 && top > 0 {
			// The same scale as the bars above.
			cells := min(bw, int(math.Round(math.Max(0, next)/top*float64(bw))))
			for j := 0; j < cells; j++ {
				a.set(x+1+j, y, '░', inkBulk)
			}
			if at := x + 1 + max(cells, 1); at+len([]rune(tail)) <= a.w {
				a.text(at, y, tail, inkLabel)
			}
		}
	}
}

// gShareOf is G's share of the curvature along vᵢ, |Gᵢ| / (|Gᵢ| + |Fᵢ|), in [0, 1]. Gᵢ/λᵢ
// would pass 100% whenever Fᵢ < 0 (G 112%); the share of the two parts' sizes says the same
// thing where F is small and stays a share where it is not. NaN when both are 0.
func gShareOf(g, f float64) float64 {
	d := math.Abs(g) + math.Abs(f)
	if d == 0 {
		return math.NaN()
	}
	return math.Abs(g) / d
}

// hbar draws a horizontal bar of frac×w cells from (x, y), in eighths of a cell.
func hbar(a area, x, y, w int, frac float64, k ink) {
	cells := frac * float64(w)
	full := int(cells)
	for i := 0; i < full && i < w; i++ {
		a.set(x+i, y, runes.FullBlock, k)
	}
	if full < w {
		if r := runes.LeftBlockElementFromFloat64(cells - float64(full)); r != runes.Null {
			a.set(x+full, y, r, k)
		}
	}
}

// splitPanel draws the GGN/functional split λᵢ = Gᵢ + Fᵢ (Gᵢ = vᵢᵀGvᵢ, Fᵢ = vᵢᵀFvᵢ) of the
// dominant directions as two-part bars (█ G, then ▓ a positive F, or ░ over the end of G
// for a negative F, so the solid part always ends at λᵢ), and the curvature energies in V.
//
// A split is measured on some refreshes only, so it may belong to an older basis than the
// spectrum beside it. Each row therefore shows the λᵢ of the split's own basis, Gᵢ + Fᵢ
// (the Rayleigh quotient vᵢᵀHvᵢ of that basis's vᵢ, its eigenvalue to the solver's
// residual), so that the row always adds up: "λ₁ 15.78 = 14.6 +1.16". The title says the
// split's step, and when that is not the basis in use, says so.
func (m Model) splitPanel(a area) {
	s := &m.snap
	items := []item{title("split λᵢ = Gᵢ + Fᵢ", "λᵢ = Gᵢ + Fᵢ", 1)}
	if len(s.Basis.GGN) > 0 {
		if st := s.Basis.SplitStep; st == s.Basis.Step {
			items = append(items, note(fmt.Sprintf("@%d", st), "", inkLabel, 0))
		} else {
			items = append(items, note(fmt.Sprintf("of basis @%d, not @%d", st, s.Basis.Step), fmt.Sprintf("of @%d", st), inkStale, 2))
		}
	}
	items = append(items, item{
		full:  []seg{{"█", inkG}, {" G ", inkLabel}, {"▓", inkF}, {" F>0 ", inkLabel}, {"░", inkF}, {" F<0", inkLabel}},
		short: []seg{{"█", inkG}, {"G ", inkLabel}, {"▓", inkF}, {"F>0 ", inkLabel}, {"░", inkF}, {"F<0", inkLabel}},
		rank:  4,
		kind:  kindKey,
	})
	legend(a, items...)
	n := min(len(s.Basis.GGN), len(s.Basis.Functional))
	// The energies E_A = ‖VᵀAV‖²_F/‖A‖²_F at the bottom, when there is room.
	var foot []string
	if a.h >= 6 && s.Basis.EnergyStep >= 0 {
		e := s.Basis.Energy
		f := func(name string, x linalg.Estimate) string {
			if math.IsNaN(x.Mean) {
				return name + " –"
			}
			return fmt.Sprintf("%s %.0f±%.0f%%", name, 100*x.Mean, math.Ceil(100*x.StdErr))
		}
		es := f("H", e[0]) + "  " + f("G", e[1]) + "  " + f("F", e[2])
		if line := "energy in V: " + es; len([]rune(line)) <= a.w {
			foot = append(foot, line)
		} else {
			foot = append(foot, "energy in V:", "  "+es)
		}
		if ov := last(s.History.Overlap); !math.IsNaN(ov) && a.h >= 9 {
			foot = append(foot, "overlap with the last basis "+num(ov, 4))
		}
	}
	for i, l := range foot {
		a.text(0, a.h-len(foot)+i, l, inkLabel)
	}
	if n == 0 {
		a.text(0, 2, "no split yet ("+m.whoComputes("one")+")", inkLabel)
		return
	}
	rows := a.h - 1 - len(foot)
	if len(foot) > 0 {
		rows-- // a blank line above the energies
	}
	show := min(n, rows)
	if n > rows {
		show = max(0, rows-1)
	}
	lw := 1 + len([]rune(sub(n)))
	top := 0.0
	for i := 0; i < n; i++ {
		top = math.Max(top, math.Max(s.Basis.GGN[i], s.Basis.GGN[i]+s.Basis.Functional[i]))
	}
	// The numbers' columns: λ = G + F, each as wide as its widest entry.
	var lams, gs, fs []string
	lamW, gW, fW := 0, 0, 0
	for i := 0; i < show; i++ {
		gv, fv := s.Basis.GGN[i], s.Basis.Functional[i]
		lams, gs, fs = append(lams, num(gv+fv, 4)), append(gs, num(gv, 3)), append(fs, signed(fv))
		lamW, gW, fW = max(lamW, len([]rune(lams[i]))), max(gW, len([]rune(gs[i]))), max(fW, len([]rune(fs[i])))
	}
	for i := 0; i < show; i++ {
		y := 1 + i
		gv, fv := s.Basis.GGN[i], s.Basis.Functional[i]
		a.text(0, y, "λ"+sub(i+1), inkLabel)
		x := a.text(lw+1, y, fmt.Sprintf("%*s", lamW, lams[i]), inkNone)
		x = a.text(x, y, " = ", inkLabel)
		x = a.text(x, y, fmt.Sprintf("%*s %*s", gW, gs[i], fW, fs[i]), inkNone)
		bw := a.w - x - 1
		if bw <= 0 || top <= 0 {
			continue
		}
		cells := func(v float64) int { return int(math.Round(math.Max(0, v) / top * float64(bw))) }
		lam, gc := cells(gv+fv), cells(gv)
		for j := 0; j < bw; j++ {
			switch {
			case j < min(gc, lam):
				a.set(x+1+j, y, '█', inkG)
			case fv >= 0 && j < lam:
				a.set(x+1+j, y, '▓', inkF)
			case fv < 0 && j < gc:
				a.set(x+1+j, y, '░', inkF)
			}
		}
	}
	if show < n {
		a.text(0, 1+show, fmt.Sprintf("… %d more", n-show), inkLabel)
	}
}

// signed is v with its sign always written, a minus as "−" would not be: "+0.21", "-0.06".
func signed(v float64) string {
	if v > 0 || v == 0 && !math.Signbit(v) {
		return "+" + num(v, 3)
	}
	return num(v, 3)
}

// whoComputes says who can ask for a refresh: the one at the keys (e), or, for a student
// watching a classroom, the teacher (a watcher cannot press e).
func (m Model) whoComputes(what string) string {
	if m.opts.ReadOnly {
		return "the teacher can compute " + what
	}
	return "e computes " + what
}
