package nn_test

import (
	"fmt"
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"

	"sharpflat/linalg"
	"sharpflat/nn"
)

// decayNet is a small network bound at a seeded point on a Gaussian mixture: P = 107.
func decayNet(t *testing.T, act nn.Activation, loss nn.Loss) (*nn.MLP, []float64, *nn.Dataset) {
	t.Helper()
	m, err := nn.NewMLP([]int{3, 8, 6, 3}, act, loss)
	if err != nil {
		t.Fatal(err)
	}
	th := make([]float64, m.NumParams())
	m.Init(th, nn.InitNormal, 5)
	data := nn.GaussianMixture(30, 3, 3, 11)
	return m, th, &data
}

// denseOf assembles the P×P matrix of a product from P products with unit vectors
// (column j = A eⱼ, not symmetrised).
func denseOf(p int, mul func(dst, v []float64)) *mat.Dense {
	a := mat.NewDense(p, p, nil)
	e, col := make([]float64, p), make([]float64, p)
	for j := range p {
		e[j] = 1
		mul(col, e)
		e[j] = 0
		a.SetCol(j, col)
	}
	return a
}

// eigSym returns the eigenvalues (ascending) of the symmetric part of a.
func eigSym(t *testing.T, a *mat.Dense) []float64 {
	t.Helper()
	p, _ := a.Dims()
	s := mat.NewSymDense(p, nil)
	for i := range p {
		for j := i; j < p; j++ {
			s.SetSym(i, j, (a.At(i, j)+a.At(j, i))/2)
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(s, false) {
		t.Fatal("EigenSym failed")
	}
	return eig.Values(nil)
}

const testDecay = 0.037

// The decayed Hessian against an independent dense reference: central differences of the
// decayed gradient (step 1e-5), column by column. And H_λ = H + λI and G_λ = G + λI
// exactly, F unchanged, against the undecayed products on unit vectors.
func TestWeightDecayDenseHessian(t *testing.T) {
	for _, loss := range []nn.Loss{nn.CrossEntropy, nn.MSE} {
		t.Run(loss.String(), func(t *testing.T) {
			m, th, data := decayNet(t, nn.Tanh, loss)
			P := m.NumParams()
			plain, err := m.Bind(th, data)
			if err != nil {
				t.Fatal(err)
			}
			dec, _ := m.Bind(th, data)
			dec.SetWeightDecay(testDecay)
			hd := denseOf(P, dec.HVP)

			// Central differences of Grad() of the decayed objective, step 1e-5.
			const h = 1e-5
			fd := mat.NewDense(P, P, nil)
			at := append([]float64(nil), th...)
			col := make([]float64, P)
			for j := range P {
				at[j] = th[j] + h
				bp, _ := m.Bind(at, data)
				bp.SetWeightDecay(testDecay)
				at[j] = th[j] - h
				bm, _ := m.Bind(at, data)
				bm.SetWeightDecay(testDecay)
				at[j] = th[j]
				for i := range P {
					col[i] = (bp.Grad()[i] - bm.Grad()[i]) / (2 * h)
				}
				fd.SetCol(j, col)
			}
			var diff mat.Dense
			diff.Sub(hd, fd)
			if w, scale := mat.Norm(&diff, math.Inf(1)), mat.Norm(fd, math.Inf(1)); w > 1e-7*scale {
				t.Errorf("H_λ against central differences of the decayed gradient: worst row sum %.3g (scale %.3g)", w, scale)
			}

			// H + λI, G + λI and F from the undecayed Bound, to rounding.
			v := make([]float64, P)
			for i := range v {
				v[i] = math.Sin(float64(i) + 0.3)
			}
			h0, g0, f0 := make([]float64, P), make([]float64, P), make([]float64, P)
			plain.HGFVP(h0, g0, f0, v)
			h1, g1, f1 := make([]float64, P), make([]float64, P), make([]float64, P)
			dec.HGFVP(h1, g1, f1, v)
			gOnly := make([]float64, P)
			dec.GGNVP(gOnly, v)
			for i := range v {
				if want := h0[i] + testDecay*v[i]; h1[i] != want {
					t.Fatalf("H_λ v [%d] = %g, want H v + λ v = %g", i, h1[i], want)
				}
				if want := g0[i] + testDecay*v[i]; g1[i] != want || gOnly[i] != want {
					t.Fatalf("G_λ v [%d] = %g (GGNVP %g), want G v + λ v = %g", i, g1[i], gOnly[i], want)
				}
				if f1[i] != f0[i] {
					t.Fatalf("F v [%d] = %g with decay, %g without: F must not change", i, f1[i], f0[i])
				}
			}
		})
	}
}

// Every eigenvalue moves up by exactly λ: λᵢ(H + λI) = λᵢ(H) + λ, the dense decompositions
// of the two Bounds' Hessians (P products with unit vectors each) compared to 1e-10 relative
// to the spectrum's scale; and Lanczos on Op(Hessian) finds the shifted top.
func TestWeightDecayShiftsEigenvalues(t *testing.T) {
	for _, act := range []nn.Activation{nn.Tanh, nn.ReLU} {
		t.Run(act.String(), func(t *testing.T) {
			m, th, data := decayNet(t, act, nn.CrossEntropy)
			P := m.NumParams()
			plain, _ := m.Bind(th, data)
			dec, _ := m.Bind(th, data)
			dec.SetWeightDecay(testDecay)
			e0, e1 := eigSym(t, denseOf(P, plain.HVP)), eigSym(t, denseOf(P, dec.HVP))
			scale := math.Max(math.Abs(e0[0]), math.Abs(e0[P-1]))
			worst := 0.0
			for i := range e0 {
				worst = math.Max(worst, math.Abs(e1[i]-(e0[i]+testDecay)))
			}
			if worst > 1e-10*scale {
				t.Errorf("max |λᵢ(H_λ) − λᵢ(H) − λ| = %.3g, want ≤ 1e-10 × %.3g", worst, scale)
			}
			res, err := linalg.Lanczos(dec.Op(nn.Hessian), linalg.EigOptions{K: 3, Tol: 1e-11, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			for i, l := range res.Values {
				if want := e0[P-1-i] + testDecay; math.Abs(l-want) > 1e-9*scale {
					t.Errorf("Lanczos λ%d of H_λ = %.12g, want λ%d(H) + λ = %.12g", i+1, l, i+1, want)
				}
			}
		})
	}
}

// The decayed gradient against central differences of the decayed loss (step 1e-6), and the
// loss against L + (λ/2)‖θ‖² written out.
func TestWeightDecayGradient(t *testing.T) {
	m, th, data := decayNet(t, nn.Tanh, nn.CrossEntropy)
	b, _ := m.Bind(th, data)
	b.SetWeightDecay(testDecay)
	var sq float64
	for _, x := range th {
		sq += x * x
	}
	if want := b.DataLoss() + testDecay/2*sq; math.Abs(b.Loss()-want) > 1e-15*want {
		t.Errorf("Loss %.17g, want L + (λ/2)‖θ‖² = %.17g", b.Loss(), want)
	}
	const h = 1e-6
	at := append([]float64(nil), th...)
	worst, scale := 0.0, 0.0
	for j := range th {
		at[j] = th[j] + h
		bp, _ := m.Bind(at, data)
		bp.SetWeightDecay(testDecay)
		at[j] = th[j] - h
		bm, _ := m.Bind(at, data)
		bm.SetWeightDecay(testDecay)
		at[j] = th[j]
		fd := (bp.Loss() - bm.Loss()) / (2 * h)
		worst = math.Max(worst, math.Abs(b.Grad()[j]-fd))
		scale = math.Max(scale, math.Abs(fd))
	}
	if worst > 1e-7*scale {
		t.Errorf("decayed gradient against central differences: worst %.3g (scale %.3g)", worst, scale)
	}
}

// λ = 0 is the data loss bit for bit; λ set after binding gives the bits of a Rebind with
// it; the decay stays through a Rebind to another point.
func TestWeightDecayBits(t *testing.T) {
	m, th, data := decayNet(t, nn.Tanh, nn.MSE)
	plain, _ := m.Bind(th, data)
	zero, _ := m.Bind(th, data)
	zero.SetWeightDecay(0)
	late, _ := m.Bind(th, data)
	late.SetWeightDecay(testDecay)
	early, _ := m.Bind(th, data)
	early.SetWeightDecay(testDecay)
	if err := early.Rebind(th, data); err != nil {
		t.Fatal(err)
	}
	if zero.Loss() != plain.Loss() || late.Loss() != early.Loss() || late.DataLoss() != plain.Loss() {
		t.Errorf("losses: λ=0 %v plain %v; late %v early %v; data %v", zero.Loss(), plain.Loss(), late.Loss(), early.Loss(), late.DataLoss())
	}
	for i := range th {
		if zero.Grad()[i] != plain.Grad()[i] || late.Grad()[i] != early.Grad()[i] {
			t.Fatalf("gradient [%d]: λ=0 %v plain %v; late %v early %v", i, zero.Grad()[i], plain.Grad()[i], late.Grad()[i], early.Grad()[i])
		}
	}
	if late.WeightDecay() != testDecay || plain.WeightDecay() != 0 {
		t.Errorf("WeightDecay: %v and %v", late.WeightDecay(), plain.WeightDecay())
	}
}

// A negative or infinite λ is a programming error.
func TestWeightDecayPanics(t *testing.T) {
	m, th, data := decayNet(t, nn.Tanh, nn.MSE)
	b, _ := m.Bind(th, data)
	for _, l := range []float64{-1e-3, math.NaN(), math.Inf(1)} {
		t.Run(fmt.Sprint(l), func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("SetWeightDecay(%v) did not panic", l)
				}
			}()
			b.SetWeightDecay(l)
		})
	}
}
