package train

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"

	"sharpflat/linalg"
	"sharpflat/nn"
)

// CurvatureOptions configures Curvature.
type CurvatureOptions struct {
	K    int
	Tol  float64 // eigensolver relative residual tolerance
	Seed uint64
	// Next also computes the (k+1)-th pair, the top of the Bulk, into CurvatureReport.Next
	// and NextVector (one more pair for the eigensolver); everything else stays about the top
	// k. Warm may then hold k+1 vectors (the previous basis and its NextVector).
	Next bool
	// Warm, if set, is the previous basis: the eigensolver refines it (linalg.Refine).
	Warm [][]float64
	// EstimateResiduals takes the residuals from the Krylov–Schur relation instead of one
	// explicit product per pair (k fewer products; they agree to rounding, see the tests).
	EstimateResiduals bool
	// Split computes vᵢᵀGvᵢ and vᵢᵀFvᵢ for the k pairs (k more products).
	Split bool
	// HutchSamples > 0 also estimates the energy fractions E_H, E_G, E_F with that many
	// Rademacher probes (implies Split).
	HutchSamples int
	// Solver, if set, runs the eigensolver in memory it keeps from one call to the next
	// (a per-step refresh allocates no Krylov basis).
	Solver *linalg.Eigensolver
	// Cancel, if set, is called before every product of the eigensolver, of the G/F
	// split and of the energies; when it returns true Curvature stops and returns an error
	// wrapping linalg.ErrCanceled.
	Cancel func() bool
}

// CurvatureReport is the top-k eigenspace of H at one point with its G/F analysis.
type CurvatureReport struct {
	Values    []float64   // λ₁ ≥ … ≥ λ_k
	Vectors   [][]float64 // v₁ … v_k, orthonormal
	Residuals []float64   // ‖Hvᵢ − λᵢvᵢ‖
	Converged bool        // every pair computed (the k+1-th too, when asked) met the tolerance

	// Next is λ_{k+1}, the largest eigenvalue below the top k, and NextVector its vector,
	// when CurvatureOptions.Next asked for them and the dimension allows (NaN and nil
	// otherwise). NextResidual is its ‖Hv − λv‖.
	Next         float64
	NextVector   []float64
	NextResidual float64

	GGN        []float64 // vᵢᵀGvᵢ (nil unless Split)
	Functional []float64 // vᵢᵀFvᵢ = vᵢᵀHvᵢ − vᵢᵀGvᵢ

	// Energy holds the fractions E_A = ‖VᵀAV‖²_F / ‖A‖²_F for A = H, G, F with their
	// standard errors (NaN unless HutchSamples > 0).
	Energy [3]linalg.Estimate

	EigProducts int // products spent by the eigensolver
	Products    int // all operator products (eigensolver + split + Hutchinson)
}

// NoEnergy is the energy triple before anything was estimated.
func NoEnergy() [3]linalg.Estimate {
	nan := linalg.Estimate{Mean: math.NaN(), StdErr: math.NaN()}
	return [3]linalg.Estimate{nan, nan, nan}
}

// Curvature computes the top-k eigenpairs of the Hessian bound in b and, as asked, the G/F
// split of each pair and the energy fractions of the Dominant subspace.
func Curvature(b *nn.Bound, opt CurvatureOptions) (CurvatureReport, error) {
	r := CurvatureReport{Energy: NoEnergy(), Next: math.NaN(), NextResidual: math.NaN()}
	hop := &linalg.Counter{Op: b.Op(nn.Hessian)}
	want := opt.K
	if opt.Next {
		want++
	}
	eo := linalg.EigOptions{K: min(want, b.Dim()), Tol: opt.Tol, Seed: opt.Seed, EstimateResiduals: opt.EstimateResiduals, Cancel: opt.Cancel}
	var res linalg.EigResult
	var err error
	switch {
	case opt.Solver != nil:
		// A fresh result each time: an Eigenspace's vectors are never overwritten.
		err = opt.Solver.Refine(&res, hop, opt.Warm, eo)
	case len(opt.Warm) > 0:
		res, err = linalg.Refine(hop, opt.Warm, eo)
	default:
		res, err = linalg.Lanczos(hop, eo)
	}
	r.EigProducts, r.Products = hop.Products, hop.Products
	if err != nil && !errors.Is(err, linalg.ErrNotConverged) {
		return r, err
	}
	r.Values, r.Vectors, r.Residuals, r.Converged = res.Values, res.Vectors, res.Residuals, res.Converged
	if opt.Next && len(r.Values) > opt.K {
		k := opt.K
		r.Next, r.NextVector, r.NextResidual = r.Values[k], r.Vectors[k], r.Residuals[k]
		r.Values, r.Vectors, r.Residuals = r.Values[:k:k], r.Vectors[:k:k], r.Residuals[:k:k]
	}
	if !opt.Split && opt.HutchSamples == 0 {
		return r, nil
	}

	k, P := len(r.Vectors), b.Dim()
	// H z, G z and F z = H z − G z from one shared R-forward pass.
	mul := func(dst [][]float64, z []float64) { b.HGFVP(dst[0], dst[1], dst[2], z) }
	if opt.HutchSamples == 0 {
		// G/F split only: vᵢᵀGvᵢ and vᵢᵀFvᵢ from k products.
		r.GGN, r.Functional = make([]float64, k), make([]float64, k)
		dst := [][]float64{make([]float64, P), make([]float64, P), make([]float64, P)}
		for i, v := range r.Vectors {
			if opt.Cancel != nil && opt.Cancel() {
				return r, fmt.Errorf("%w: the G/F split, after %d of %d products", linalg.ErrCanceled, i, k)
			}
			mul(dst, v)
			r.GGN[i], r.Functional[i] = floats.Dot(v, dst[1]), floats.Dot(v, dst[2])
		}
		r.Products += k
		return r, nil
	}
	// Energies: exact numerators and Dominant part of the denominators from the k products,
	// the Bulk part of the denominators by Hutchinson on shared Rademacher probes. Cancel
	// stops them within one product, however many probes were asked for.
	en, err := linalg.CancelableEnergyFunc(P, 3, r.Vectors, opt.HutchSamples, opt.Seed^0x4a7c, mul, opt.Cancel)
	if err != nil {
		return r, fmt.Errorf("the energies: %w", err)
	}
	r.Products += k + opt.HutchSamples
	r.GGN, r.Functional = en[1].Diag, en[2].Diag
	for a := range 3 {
		r.Energy[a] = linalg.Estimate{Mean: en[a].Fraction, StdErr: en[a].StdErr, Samples: opt.HutchSamples}
	}
	return r, nil
}
