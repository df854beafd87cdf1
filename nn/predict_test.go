package nn

import (
	"fmt"
	"math"
	"testing"
)

// referenceForward is the forward pass written out one product at a time from the layer
// views, with σ from package math: the independent reference for Forward and Predict.
func referenceForward(m *MLP, theta, x []float64) []float64 {
	sigma := map[Activation]func(float64) float64{
		Tanh:     math.Tanh,
		ReLU:     func(z float64) float64 { return math.Max(z, 0) },
		GELU:     func(z float64) float64 { return z * 0.5 * (1 + math.Erf(z/math.Sqrt2)) },
		Softplus: func(z float64) float64 { return math.Log(1 + math.Exp(z)) },
		Identity: func(z float64) float64 { return z },
	}[m.Act]
	in := m.Widths[0]
	n := len(x) / in
	var f []float64
	for r := 0; r < n; r++ {
		a := x[r*in : (r+1)*in]
		for i := 0; i < m.NumLayers(); i++ {
			w, b := m.Layer(theta, i)
			wi, wo := m.Widths[i], m.Widths[i+1]
			z := make([]float64, wo)
			for o := range z {
				s := b[o]
				for k := 0; k < wi; k++ {
					s += w[o*wi+k] * a[k]
				}
				z[o] = s
				if i+1 < m.NumLayers() {
					z[o] = sigma(s)
				}
			}
			a = z
		}
		f = append(f, a...)
	}
	return f
}

func TestForwardAndPredictMatchReference(t *testing.T) {
	for _, widths := range [][]int{{2, 32, 32, 2}, {5, 7, 3}, {3, 4}, {20, 16, 16, 10}} {
		for a := Tanh; a <= Identity; a++ {
			t.Run(fmt.Sprintf("%v/%s", widths, a), func(t *testing.T) {
				m, err := NewMLP(widths, a, CrossEntropy)
				if err != nil {
					t.Fatal(err)
				}
				th := make([]float64, m.NumParams())
				m.Init(th, InitNormal, 3)
				for i := range th {
					th[i] = 2*th[i] + 0.1*math.Sin(float64(i))
				}
				// 600 rows: two full blocks of predictRows and a partial one.
				n, C := 600, widths[len(widths)-1]
				x := randVec(n*widths[0], 5)
				want := referenceForward(m, th, x)
				got := make([]float64, n*C)
				m.Forward(got, th, x)
				// Reference: the same sums in another order, math.Tanh (vecmath is within 2 ulp).
				if e := relErr(got, want); e > 1e-12 {
					t.Errorf("Forward: worst relative difference %.3g", e)
				}
				pred := make([]int, n)
				m.Predict(pred, th, x)
				for r := range pred {
					f := want[r*C : (r+1)*C]
					if p := argmax(f); pred[r] != p && f[pred[r]] < f[p]-1e-12*math.Abs(f[p]) {
						t.Fatalf("row %d: Predict says %d, the reference outputs %v", r, pred[r], f)
					}
				}
			})
		}
	}
}

// Predict agrees with the accuracy Evaluate counts from its own training-pass forward.
func TestPredictAgreesWithEvaluate(t *testing.T) {
	m, err := NewMLP([]int{4, 8, 3}, Tanh, CrossEntropy)
	if err != nil {
		t.Fatal(err)
	}
	th := make([]float64, m.NumParams())
	m.Init(th, InitPyTorch, 9)
	d := randomData(777, 4, 3, false, 2)
	_, acc, err := m.Evaluate(th, &d)
	if err != nil {
		t.Fatal(err)
	}
	pred := make([]int, d.N)
	m.Predict(pred, th, d.X)
	right := 0
	for i, p := range pred {
		if p == d.Labels[i] {
			right++
		}
	}
	if got := float64(right) / float64(d.N); got != acc {
		t.Errorf("accuracy from Predict %v, Evaluate %v", got, acc)
	}
}

func TestPredictEmptyAndMismatch(t *testing.T) {
	m, _ := NewMLP([]int{2, 3, 2}, ReLU, MSE)
	th := make([]float64, m.NumParams())
	m.Predict(nil, th, nil) // no rows: nothing to do
	for name, f := range map[string]func(){
		"ragged x":  func() { m.Predict(make([]int, 1), th, make([]float64, 3)) },
		"short dst": func() { m.Predict(make([]int, 1), th, make([]float64, 4)) },
		"short θ":   func() { m.Predict(make([]int, 1), th[1:], make([]float64, 2)) },
		"Forward":   func() { m.Forward(make([]float64, 3), th, make([]float64, 2)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// BenchmarkPredict pushes 12288 points (a 128×96 picture grid) through 2-32-32-2 tanh.
func BenchmarkPredict(b *testing.B) {
	m, _ := NewMLP([]int{2, 32, 32, 2}, Tanh, CrossEntropy)
	th := make([]float64, m.NumParams())
	m.Init(th, InitPyTorch, 1)
	const n = 128 * 96
	x := randVec(2*n, 1)
	dst := make([]int, n)
	b.ReportAllocs()
	for b.Loop() {
		m.Predict(dst, th, x)
	}
}

// A linear 2-2 network with W = I and b = 0 predicts the larger of each row's two features.
func ExampleMLP_Predict() {
	m, _ := NewMLP([]int{2, 2}, Tanh, CrossEntropy)
	theta := []float64{
		1, 0, // W₀ row 0
		0, 1, // W₀ row 1
		0, 0, // b₀
	}
	x := []float64{
		0.1, 0.9,
		2.0, -1.0,
		0.5, 0.5,
	}
	pred := make([]int, 3)
	m.Predict(pred, theta, x)
	fmt.Println(pred)
	// Output: [1 0 0]
}
