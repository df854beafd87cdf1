package main

// `hessian --density`: the spectral density of H, G or F by stochastic Lanczos quadrature
// (train.Density), and which of the top-k eigenvalues stand apart from the bulk
// (train.Outliers on λ₁…λ_k and λ_{k+1}).

import (
	"flag"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"sharpflat/lab/train"
	"sharpflat/nn"
)

// densityReport is one operator's density in `hessian --json`: under "density" when one
// operator was asked for, under "densities" keyed by H, G, F when several were.
type densityReport struct {
	Of      string      `json:"of"`      // "H", "G" or "F"
	Lambda  []float64   `json:"lambda"`  // the grid, ascending
	Density []float64   `json:"density"` // on the grid; integrates to 1 (trapezoid)
	Probes  int         `json:"probes"`  // n_v
	Steps   int         `json:"steps"`   // m, Lanczos steps per probe (capped at P)
	Width   float64     `json:"width"`   // the Gaussian kernel's σ
	Nodes   [][]float64 `json:"nodes"`   // per probe: the Gauss nodes (Ritz values), ascending
	Weights [][]float64 `json:"weights"` // per probe: their weights (summing to 1)
	HVPs    int         `json:"hvps"`    // curvature products spent
}

// outliersReport is the "outliers" object of `hessian --density --json`.
type outliersReport struct {
	Count  int       `json:"count"`  // how many of the top eigenvalues of H stand apart from the bulk
	Values []float64 `json:"values"` // those eigenvalues, λ₁ … λ_count
	Next   train.Num `json:"next"`   // λ_{k+1}, the pair below the top k (null: P too small)
	Rule   string    `json:"rule"`   // train.Outliers' rule in words
}

// densityFlags are the flags of `hessian --density`.
type densityFlags struct {
	on     *bool
	probes *int
	steps  *int
	width  *float64
	of     *string
	fs     *flag.FlagSet
	ops    []nn.Curvature // parsed --density-of
}

func addDensityFlags(fs *flag.FlagSet) *densityFlags {
	return &densityFlags{
		fs:     fs,
		on:     fs.Bool("density", false, "also estimate the spectral density by stochastic Lanczos quadrature (probes × lanczos-steps products per operator) and the outliers of the top-k"),
		probes: fs.Int("probes", 10, "with --density: Rademacher probes n_v"),
		steps:  fs.Int("lanczos-steps", 80, "with --density: Lanczos steps m per probe"),
		width:  fs.Float64("width", 0, "with --density: the Gaussian kernel's σ in λ units (0: the grid spacing, the finest the grid resolves)"),
		of:     fs.String("density-of", "H", "with --density: the operators, comma-separated: H (Hessian), G (Gauss–Newton), F (functional part)"),
	}
}

// set reports whether the flag name was given.
func (f *densityFlags) set(name string) bool { return flagGiven(f.fs, name) }

// check refuses bad values and the flags of --density without it, and parses --density-of.
func (f *densityFlags) check() error {
	if !*f.on {
		for _, n := range []string{"probes", "lanczos-steps", "width", "density-of"} {
			if f.set(n) {
				return usagef("hessian: --%s needs --density", n)
			}
		}
		return nil
	}
	if *f.probes < 1 || *f.probes > 10000 {
		return usagef("hessian: --probes %d, want 1…10000", *f.probes)
	}
	if *f.steps < 1 {
		return usagef("hessian: --lanczos-steps %d, want ≥ 1", *f.steps)
	}
	if !(*f.width >= 0) || math.IsInf(*f.width, 1) {
		return usagef("hessian: --width %g, want σ ≥ 0 (0: the default)", *f.width)
	}
	f.ops = nil
	for _, s := range strings.Split(*f.of, ",") {
		var op nn.Curvature
		switch strings.ToUpper(strings.TrimSpace(s)) {
		case "H":
			op = nn.Hessian
		case "G":
			op = nn.GaussNewton
		case "F":
			op = nn.Functional
		default:
			return usagef("hessian: --density-of %q: %q is not an operator, want H, G or F (comma-separated)", *f.of, s)
		}
		for _, o := range f.ops {
			if o == op {
				return usagef("hessian: --density-of %q names %v twice", *f.of, op)
			}
		}
		f.ops = append(f.ops, op)
	}
	return nil
}

// memory is what the quadrature holds beyond the eigensolver: its Lanczos basis (m vectors
// of P, fully reorthogonalised) and two work vectors.
func (f *densityFlags) memory(p int) float64 {
	return 8 * float64(p) * float64(min(*f.steps, p)+2)
}

// estimate computes the density of every operator asked for.
func (f *densityFlags) estimate(b *nn.Bound, seed uint64, cancel func() bool) ([]densityReport, error) {
	var out []densityReport
	for _, op := range f.ops {
		d, err := train.Density(b, op, train.DensityOptions{Probes: *f.probes, Steps: *f.steps, Width: *f.width, Seed: seed, Cancel: cancel})
		if err != nil {
			return nil, err
		}
		out = append(out, densityReport{Of: op.String(), Lambda: d.Lambda, Density: d.Density, Probes: d.Probes,
			Steps: d.Steps, Width: d.Width, Nodes: d.Quad.Nodes, Weights: d.Quad.Weights, HVPs: d.Products})
	}
	return out, nil
}

// outliers applies train.Outliers to the top k and λ_{k+1}.
func outliers(values []float64, next float64) *outliersReport {
	n, rule := train.Outliers(values, next)
	return &outliersReport{Count: n, Values: append([]float64{}, values[:n]...), Next: train.Num(next), Rule: rule}
}

// quantile is the smallest node at which the quadrature's distribution (each probe's
// weights over n_v) reaches q.
func quantiles(d *densityReport, qs []float64) []float64 {
	type atom struct{ x, w float64 }
	var atoms []atom
	for i, nodes := range d.Nodes {
		for j, x := range nodes {
			atoms = append(atoms, atom{x, d.Weights[i][j] / float64(len(d.Nodes))})
		}
	}
	sort.Slice(atoms, func(i, j int) bool { return atoms[i].x < atoms[j].x })
	out := make([]float64, len(qs))
	for k, q := range qs {
		cum, at := 0.0, len(atoms)-1
		for i, a := range atoms {
			if cum += a.w; cum >= q {
				at = i
				break
			}
		}
		out[k] = atoms[at].x
	}
	return out
}

// printDensities is the table's lines: per operator the range and quantiles of the
// quadrature's eigenvalue distribution, then the outliers.
func printDensities(w io.Writer, ds []densityReport, o *outliersReport) {
	qs := []float64{0.01, 0.1, 0.5, 0.9, 0.99}
	for i := range ds {
		d := &ds[i]
		if len(d.Nodes) == 0 || len(d.Nodes[0]) == 0 {
			continue
		}
		v := quantiles(d, append([]float64{0}, append(qs, 1)...))
		fmt.Fprintf(w, "density of %s (%d probes × %d steps, σ %.3g, %d products): eigenvalues from %.4g to %.4g\n",
			d.Of, d.Probes, d.Steps, d.Width, d.HVPs, v[0], v[len(v)-1])
		fmt.Fprintf(w, "  quantiles  1%% %.4g   10%% %.4g   50%% %.4g   90%% %.4g   99%% %.4g\n", v[1], v[2], v[3], v[4], v[5])
	}
	if o != nil {
		fmt.Fprintf(w, "outliers  %d of the top eigenvalues of H stand apart from the bulk (%s)", o.Count, o.Rule)
		if o.Count > 0 {
			fmt.Fprintf(w, ": λ₁ … λ%d = %.4g … %.4g", o.Count, o.Values[0], o.Values[o.Count-1])
		}
		fmt.Fprintln(w)
	}
}
