package experiment

// The spectral density of H at chosen steps of an arm (Arm.DensityAt): stochastic Lanczos
// quadrature (train.Density) with, beside it, the exact top of the spectrum it is read
// against (a cold Lanczos run: λ₁ … λ_m with m = 2·max(C, k) + 1, so that up to 2·max(C, k)
// outliers can be counted by train.Outliers) and the edge. Written to the arm's
// density.json; experiment curvature draws and counts them (claim 6 of docs/SCIENCE.md).

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"sharpflat/lab/rundir"
	"sharpflat/lab/train"
	"sharpflat/nn"
)

// densityFile holds an arm's densityPoints, in step order.
const densityFile = "density.json"

// densityPoint is the density of H at one step of an arm.
type densityPoint struct {
	Step     int         `json:"step"` // steps after the switch
	Lambda   []float64   `json:"lambda"`
	Density  []float64   `json:"density"` // integrates to 1 over Lambda (trapezoid)
	Width    float64     `json:"width"`   // the Gaussian kernel's σ
	Probes   int         `json:"probes"`
	Steps    int         `json:"lanczos_steps"`
	Products int         `json:"products"`
	Nodes    [][]float64 `json:"nodes"` // per probe, ascending
	Weights  [][]float64 `json:"weights"`
	// Top are the exact top eigenvalues λ₁ ≥ … ≥ λ_m of H (cold Lanczos on the Hessian set).
	Top     []float64 `json:"top"`
	Edge    train.Num `json:"edge"`    // the stability threshold (2/η, (2+2β)/η; null for Adam)
	Classes int       `json:"classes"` // C of the task (0: regression)
	K       int       `json:"k"`       // the size of the Dominant basis
}

// outliers counts the outliers of the point's exact top eigenvalues (train.Outliers: the
// last one plays λ_{k+1}).
func (p *densityPoint) outliers() (int, string) {
	if len(p.Top) < 2 {
		return 0, "fewer than two eigenvalues measured"
	}
	return train.Outliers(p.Top[:len(p.Top)-1], p.Top[len(p.Top)-1])
}

// densityProbes is m, the exact eigenvalues measured beside a density.
func densityProbes(classes, k, dim int) int {
	return max(1, min(2*max(classes, k)+1, dim))
}

// measureDensity estimates the density of H on the trainer's Hessian set at its θ, and the
// exact top of the spectrum. step is the step after the switch it is recorded at.
func measureDensity(t *train.Trainer, step int, cancel func() bool) (densityPoint, error) {
	cfg := t.Config()
	_, _, hess := t.Data()
	p := densityPoint{Step: step, Edge: train.Num(cfg.StabilityThreshold()), Classes: hess.Classes, K: cfg.K}
	theta := t.Theta()
	b, err := t.Bind(theta, hess)
	if err != nil {
		return p, err
	}
	rep, err := train.Density(b, nn.Hessian, train.DensityOptions{Seed: cfg.Seed, Cancel: cancel})
	if err != nil {
		return p, err
	}
	p.Lambda, p.Density, p.Width = rep.Lambda, rep.Density, rep.Width
	p.Probes, p.Steps, p.Products = rep.Probes, rep.Steps, rep.Products
	p.Nodes, p.Weights = rep.Quad.Nodes, rep.Quad.Weights
	if p.Top, _, err = t.Probe(densityProbes(hess.Classes, cfg.K, b.Dim())); err != nil {
		return p, err
	}
	return p, nil
}

// writeDensity writes an arm's density points to dir/density.json.
func writeDensity(dir string, pts []densityPoint) error {
	for i := range pts {
		for _, v := range [][]float64{pts[i].Lambda, pts[i].Density, pts[i].Top} {
			for _, x := range v {
				if math.IsNaN(x) || math.IsInf(x, 0) {
					return fmt.Errorf("density at step %d: a value is not finite", pts[i].Step)
				}
			}
		}
	}
	raw, err := json.Marshal(pts)
	if err != nil {
		return err
	}
	return rundir.WriteFileAtomic(filepath.Join(dir, densityFile), append(raw, '\n'))
}

// readDensity reads an arm's density.json (nil, no error, when the arm has none).
func readDensity(dir string) ([]densityPoint, error) {
	raw, err := os.ReadFile(filepath.Join(dir, densityFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var pts []densityPoint
	if err := json.Unmarshal(raw, &pts); err != nil {
		return nil, fmt.Errorf("%s/%s: %w", dir, densityFile, err)
	}
	return pts, nil
}

// edgePlace says where the edge e falls against the top eigenvalues top (descending) of which
// the first n are outliers: above all of them, among the outliers (between λ_n and λ₁), in the
// gap between the outliers and the bulk (between λ_{n+1} and λ_n), or inside the bulk (below
// its top λ_{n+1}).
func edgePlace(top []float64, n int, e float64) string {
	switch {
	case math.IsNaN(e) || len(top) == 0:
		return "—"
	case e > top[0]:
		return "above all (2/η > λ₁)"
	case n > 0 && e >= top[n-1]:
		return fmt.Sprintf("among the outliers (λ%d ≤ 2/η ≤ λ₁)", n)
	case n < len(top) && e > top[n]:
		return fmt.Sprintf("in the gap (λ%d < 2/η < λ%d)", n+1, max(n, 1))
	}
	return fmt.Sprintf("inside the bulk (2/η ≤ λ%d)", n+1)
}
