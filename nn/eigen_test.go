package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"sharpflat/linalg"
	"sharpflat/nn"
)

// Lanczos on the HVP operator against the dense route: the P×P Hessian assembled from P HVPs
// with unit vectors, symmetrised, and decomposed by gonum's mat.EigenSym. P = 524.
func TestLanczosTop10MatchesDenseHessian(t *testing.T) {
	widths := []int{10, 20, 12, 4}
	for a := nn.Tanh; a <= nn.Identity; a++ {
		for _, loss := range []nn.Loss{nn.CrossEntropy, nn.MSE} {
			t.Run(fmt.Sprintf("%s/%s", a, loss), func(t *testing.T) {
				m, err := nn.NewMLP(widths, a, loss)
				if err != nil {
					t.Fatal(err)
				}
				th := make([]float64, m.NumParams())
				m.Init(th, nn.InitNormal, uint64(a)+3)
				data := nn.GaussianMixture(40, widths[0], widths[3], 9)
				b, err := m.Bind(th, &data)
				if err != nil {
					t.Fatal(err)
				}
				P := m.NumParams()
				h := mat.NewSymDense(P, nil)
				e, col := make([]float64, P), make([]float64, P)
				for j := 0; j < P; j++ {
					e[j] = 1
					b.HVP(col, e)
					e[j] = 0
					for i := 0; i < j; i++ {
						h.SetSym(i, j, (col[i]+h.At(i, j))/2) // average (i,j) and (j,i)
					}
					h.SetSym(j, j, col[j])
					for i := j + 1; i < P; i++ {
						h.SetSym(j, i, col[i])
					}
				}
				var eig mat.EigenSym
				if !eig.Factorize(h, false) {
					t.Fatal("EigenSym failed")
				}
				dense := eig.Values(nil) // ascending
				const k = 10
				res, err := linalg.Lanczos(b.Op(nn.Hessian), linalg.EigOptions{K: k, Tol: 1e-11, Seed: 1})
				if err != nil {
					t.Fatal(err)
				}
				scale := math.Abs(dense[P-1])
				worst, worstRes := 0.0, 0.0
				for i := 0; i < k; i++ {
					want := dense[P-1-i]
					worst = max(worst, math.Abs(res.Values[i]-want)/scale)
					worstRes = max(worstRes, res.Residuals[i])
				}
				t.Logf("P=%d λ₁=%.6g: max |Δλ|/|λ₁| %.1e, max residual %.1e, %d HVPs", P, dense[P-1], worst, worstRes, res.Products)
				if worst > 1e-9 {
					t.Errorf("eigenvalues differ from the dense ones by %.3g relative", worst)
				}
				if worstRes > 1e-8*scale {
					t.Errorf("residual %.3g > 1e-8·|λ₁|", worstRes)
				}
				// Orthonormal vectors.
				for i := 0; i < k; i++ {
					for j := 0; j <= i; j++ {
						want := 0.0
						if i == j {
							want = 1
						}
						if d := math.Abs(floats.Dot(res.Vectors[i], res.Vectors[j]) - want); d > 1e-10 {
							t.Fatalf("v%d·v%d off by %.3g", i, j, d)
						}
					}
				}
			})
		}
	}
}

// The operator seam: H through linalg.Counter counts every product once.
func TestCounterCountsProducts(t *testing.T) {
	m, _ := nn.NewMLP([]int{3, 4, 2}, nn.Tanh, nn.CrossEntropy)
	th := make([]float64, m.NumParams())
	m.Init(th, nn.InitPyTorch, 1)
	data := nn.GaussianMixture(10, 3, 2, 1)
	b, _ := m.Bind(th, &data)
	c := &linalg.Counter{Op: b.Op(nn.Hessian)}
	x, y := make([]float64, c.Dim()), make([]float64, c.Dim())
	r := rand.New(rand.NewPCG(1, 2))
	for i := range x {
		x[i] = r.NormFloat64()
	}
	for range 3 {
		c.MulVecTo(y, x)
	}
	if c.Products != 3 {
		t.Errorf("counted %d products, want 3", c.Products)
	}
}
