package linalg

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats/scalar"
)

func TestPowerHessianSpectrum(t *testing.T) {
	// λ₁ = 40 dominant, λ₂ = 28 (reference: the constructed spectrum).
	rnd := rand.New(rand.NewPCG(30, 1))
	lam := hessianSpectrum(300, 10, 10, 40, 0.7, 0.5, 0.2, rnd)
	a := withSpectrum(lam, rnd)
	r, err := Power(NewDense(a), PowerOptions{Seed: 30})
	if err != nil || !r.Converged {
		t.Fatalf("err %v, converged %v", err, r.Converged)
	}
	// The eigenvalue error is of order residual²/gap.
	if !scalar.EqualWithinAbsOrRel(r.Value, lam[0], 0, 1e-10) {
		t.Errorf("Value = %.15g, want λ₁ = %.15g", r.Value, lam[0])
	}
	if res := denseResidual(a, r.Value, r.Vector); res > 1e-6*r.Scale || math.Abs(res-r.Residual) > 1e-12*r.Scale {
		t.Errorf("residual %.3g (reported %.3g), want ≤ 1e-6·σ", res, r.Residual)
	}
	if r.Shift != 0 {
		t.Errorf("Shift = %v for a positive dominant eigenvalue", r.Shift)
	}
	t.Logf("%d products", r.Products)

	// Warm start from the answer: one product.
	w, err := Power(NewDense(a), PowerOptions{Start: r.Vector})
	if err != nil || w.Products != 1 {
		t.Errorf("warm start: %d products, err %v", w.Products, err)
	}
}

func TestPowerNegativeDominant(t *testing.T) {
	// diag(−10, 3, 2, 1, …): the dominant eigenvalue is −10, λ₁ = 3.
	n := 50
	d := make(diagOp, n)
	for i := range d {
		d[i] = 1 - float64(i)/float64(n)
	}
	d[0], d[1], d[2] = -10, 3, 2
	r, err := Power(d, PowerOptions{Seed: 31, Tol: 1e-9})
	if err != nil || !r.Converged {
		t.Fatalf("err %v", err)
	}
	if !scalar.EqualWithinAbsOrRel(r.Value, 3, 1e-12, 1e-12) || !scalar.EqualWithinAbsOrRel(r.Shift, -10, 1e-9, 1e-9) {
		t.Errorf("Value = %v, Shift = %v; want 3 and −10", r.Value, r.Shift)
	}
	if math.Abs(math.Abs(r.Vector[1])-1) > 1e-8 {
		t.Errorf("|x₁| = %v, want 1", math.Abs(r.Vector[1]))
	}
}

func TestPowerPlusMinus(t *testing.T) {
	// λ₁ = 5 and λₙ = −5: plain iteration oscillates; the shifted phase
	// finds 5.
	d := diagOp{5, -5, 1, 0.5, -1, 2}
	r, err := Power(d, PowerOptions{Seed: 32, Tol: 1e-9, MaxProducts: 400})
	if err != nil || !scalar.EqualWithinAbsOrRel(r.Value, 5, 1e-12, 1e-12) {
		t.Errorf("Value = %v, err %v; want 5", r.Value, err)
	}
}

func TestPowerNotConverged(t *testing.T) {
	// λ₁/λ₂ = 1.001: 50 steps are not enough.
	d := diagOp{1, 0.999, 0.5, 0.2}
	r, err := Power(d, PowerOptions{Seed: 33, MaxProducts: 50})
	if !errors.Is(err, ErrNotConverged) || r.Converged || r.Products > 50 {
		t.Errorf("got err %v, converged %v, %d products", err, r.Converged, r.Products)
	}
	if r.Value > 1 || r.Value < 0.99 {
		t.Errorf("best Value = %v, want near 1", r.Value)
	}
}

func TestPowerEdgeCases(t *testing.T) {
	r, err := Power(diagOp(make([]float64, 5)), PowerOptions{})
	if err != nil || !r.Converged || r.Value != 0 || r.Products != 1 {
		t.Errorf("zero operator: %+v, %v", r, err)
	}
	r, err = Power(diagOp{}, PowerOptions{})
	if err != nil || !r.Converged {
		t.Errorf("Dim 0: %+v, %v", r, err)
	}
	for _, opt := range []PowerOptions{{Tol: -1}, {MaxProducts: 1}, {Start: make([]float64, 3)}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%+v: no panic", opt)
				}
			}()
			Power(diagOp{1, 2}, opt)
		}()
	}
}
