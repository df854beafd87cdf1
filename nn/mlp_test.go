package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// testCase is one small network and batch, seeded.
type testCase struct {
	name string
	m    *MLP
	data Dataset
	th   []float64
}

// randomData returns n examples with d Gaussian features: class labels in [0, c) when
// regression is false, else c Gaussian targets.
func randomData(n, d, c int, regression bool, seed uint64) Dataset {
	rng := rand.New(rand.NewPCG(seed, 7))
	ds := Dataset{Name: "random", N: n, D: d, X: make([]float64, n*d)}
	for i := range ds.X {
		ds.X[i] = rng.NormFloat64()
	}
	if regression {
		ds.Out, ds.Y = c, make([]float64, n*c)
		for i := range ds.Y {
			ds.Y[i] = rng.NormFloat64()
		}
	} else {
		ds.Classes, ds.Labels = c, make([]int, n)
		for i := range ds.Labels {
			ds.Labels[i] = rng.IntN(c)
		}
	}
	return ds
}

// cases returns every activation × {CE, MSE on labels, MSE regression} on a 4-5-4-3 net.
func cases(t testing.TB, widths []int, n int) []testCase {
	var out []testCase
	for a := Tanh; a <= Identity; a++ {
		for _, lc := range []struct {
			loss Loss
			reg  bool
		}{{CrossEntropy, false}, {MSE, false}, {MSE, true}} {
			m, err := NewMLP(widths, a, lc.loss)
			if err != nil {
				t.Fatal(err)
			}
			th := make([]float64, m.NumParams())
			m.Init(th, InitNormal, uint64(10+a))
			for i := range th { // non-zero biases, larger weights: more curvature
				th[i] *= 1.5
				th[i] += 0.1 * math.Sin(float64(i))
			}
			name := fmt.Sprintf("%s/%s", a, lc.loss)
			if lc.reg {
				name += "-regression"
			}
			out = append(out, testCase{name, m, randomData(n, widths[0], widths[len(widths)-1], lc.reg, uint64(a)+1), th})
		}
	}
	return out
}

func lossAt(t testing.TB, m *MLP, th []float64, d *Dataset) float64 {
	l, _, err := m.Evaluate(th, d)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func gradAt(t testing.TB, m *MLP, th []float64, d *Dataset) []float64 {
	b, err := m.Bind(th, d)
	if err != nil {
		t.Fatal(err)
	}
	return append([]float64(nil), b.Grad()...)
}

// relErr is max_j |a_j − b_j| / max(|b_j|, 1e-3‖b‖∞): relative per component, with a floor
// so that components near zero are judged against the vector's scale.
func relErr(a, b []float64) float64 {
	floor := 1e-3 * floats.Norm(b, math.Inf(1))
	worst := 0.0
	for j := range a {
		worst = max(worst, math.Abs(a[j]-b[j])/max(math.Abs(b[j]), floor, 1e-300))
	}
	return worst
}

func randVec(n int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 3))
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

// central5 is the five-point central difference of f at 0 with step h:
//
//	f′(0) ≈ (f(−2h) − 8f(−h) + 8f(h) − f(2h)) / 12h,  truncation O(h⁴), rounding O(ε/h).
func central5(h float64, f func(s float64) float64) float64 {
	return (f(-2*h) - 8*f(-h) + 8*f(h) - f(2*h)) / (12 * h)
}

// Reference: five-point central differences of the loss, step 1e-3 (truncation ~h⁴ ≈ 1e-12,
// rounding ~ε/h ≈ 1e-13), coordinate by coordinate.
func TestGradientFiniteDifferences(t *testing.T) {
	for _, tc := range cases(t, []int{4, 5, 4, 3}, 9) {
		g := gradAt(t, tc.m, tc.th, &tc.data)
		fdg := make([]float64, len(tc.th))
		th := append([]float64(nil), tc.th...)
		for j := range th {
			fdg[j] = central5(1e-3, func(s float64) float64 {
				th[j] = tc.th[j] + s
				defer func() { th[j] = tc.th[j] }()
				return lossAt(t, tc.m, th, &tc.data)
			})
		}
		e := relErr(g, fdg)
		t.Logf("%-24s gradient vs central differences: max rel err %.2e", tc.name, e)
		if e > 1e-7 {
			t.Errorf("%s: gradient max rel err %.3g > 1e-7", tc.name, e)
		}
	}
}

// Reference: five-point central differences of the exact gradient along v, step 1e-3.
func TestHVPFiniteDifferences(t *testing.T) {
	for _, tc := range cases(t, []int{4, 5, 4, 3}, 9) {
		b, err := tc.m.Bind(tc.th, &tc.data)
		if err != nil {
			t.Fatal(err)
		}
		for s := uint64(0); s < 3; s++ {
			v := randVec(len(tc.th), s)
			floats.Scale(1/floats.Norm(v, 2), v) // unit v: the step along it is h
			hv := make([]float64, len(v))
			b.HVP(hv, v)
			const h = 1e-3
			fdh := make([]float64, len(v))
			for i, c := range []float64{1, -8, 8, -1} {
				tp := append([]float64(nil), tc.th...)
				floats.AddScaled(tp, float64(i-2+i/2)*h, v) // steps −2h, −h, h, 2h
				floats.AddScaled(fdh, c/(12*h), gradAt(t, tc.m, tp, &tc.data))
			}
			e := relErr(hv, fdh)
			if s == 0 {
				t.Logf("%-24s HVP vs central differences of ∇L: max rel err %.2e", tc.name, e)
			}
			if e > 1e-6 {
				t.Errorf("%s: HVP max rel err %.3g > 1e-6", tc.name, e)
			}
		}
	}
}

// uᵀHv = vᵀHu, uᵀGv = vᵀGu; vᵀGv ≥ 0; H v = G v + F v; HGVP agrees with HVP and GGNVP.
func TestCurvatureIdentities(t *testing.T) {
	for _, tc := range cases(t, []int{4, 5, 4, 3}, 9) {
		b, err := tc.m.Bind(tc.th, &tc.data)
		if err != nil {
			t.Fatal(err)
		}
		P := len(tc.th)
		u, v := randVec(P, 1), randVec(P, 2)
		hu, hv, gu, gv, fv := make([]float64, P), make([]float64, P), make([]float64, P), make([]float64, P), make([]float64, P)
		b.HVP(hu, u)
		b.HVP(hv, v)
		b.GGNVP(gu, u)
		b.GGNVP(gv, v)
		b.FVP(fv, v)
		scale := floats.Norm(hu, 2) * floats.Norm(v, 2)
		if d := math.Abs(floats.Dot(u, hv) - floats.Dot(v, hu)); d > 1e-12*scale {
			t.Errorf("%s: uᵀHv − vᵀHu = %.3g", tc.name, d)
		}
		if d := math.Abs(floats.Dot(u, gv) - floats.Dot(v, gu)); d > 1e-12*scale {
			t.Errorf("%s: uᵀGv − vᵀGu = %.3g", tc.name, d)
		}
		if q := floats.Dot(v, gv); q < -1e-14*scale {
			t.Errorf("%s: vᵀGv = %.3g < 0", tc.name, q)
		}
		sum := make([]float64, P)
		floats.AddTo(sum, gv, fv)
		if e := relErr(sum, hv); e > 1e-12 {
			t.Errorf("%s: H v vs G v + F v: rel err %.3g", tc.name, e)
		}
		h2, g2 := make([]float64, P), make([]float64, P)
		b.HGVP(h2, g2, v)
		if !floats.Equal(h2, hv) || !floats.Equal(g2, gv) {
			t.Errorf("%s: HGVP differs from HVP/GGNVP", tc.name)
		}
	}
}

// denseOf builds the P×P matrix of a product function from P products with unit vectors.
func denseOf(P int, mul func(dst, x []float64)) *mat.Dense {
	a := mat.NewDense(P, P, nil)
	e, col := make([]float64, P), make([]float64, P)
	for j := 0; j < P; j++ {
		e[j] = 1
		mul(col, e)
		e[j] = 0
		a.SetCol(j, col)
	}
	return a
}

// Reference: gonum's diff/fd.Hessian of the loss (central differences), and a Gauss–Newton
// matrix assembled from finite-difference Jacobians of the outputs: G = (1/N) Σ Jᵀ H_ℓ J
// with H_ℓ = diag(p) − ppᵀ (CE) or I (MSE), computed here from the outputs.
func TestDenseHessianAndGGNAgainstFiniteDifferences(t *testing.T) {
	for _, tc := range cases(t, []int{3, 4, 3}, 6) {
		P := len(tc.th)
		b, err := tc.m.Bind(tc.th, &tc.data)
		if err != nil {
			t.Fatal(err)
		}
		H := denseOf(P, b.HVP)
		G := denseOf(P, b.GGNVP)

		// H is symmetric to rounding.
		if !mat.EqualApprox(H, H.T(), 1e-13*mat.Norm(H, math.Inf(1))) {
			t.Errorf("%s: dense H not symmetric", tc.name)
		}
		ref := mat.NewSymDense(P, nil)
		fd.Hessian(ref, func(x []float64) float64 { return lossAt(t, tc.m, x, &tc.data) }, tc.th,
			&fd.Settings{Formula: fd.Central, Step: 1e-4})
		worst := 0.0
		scale := mat.Norm(H, math.Inf(1))
		for i := 0; i < P; i++ {
			for j := 0; j < P; j++ {
				worst = max(worst, math.Abs(H.At(i, j)-ref.At(i, j))/scale)
			}
		}
		if worst > 1e-6 {
			t.Errorf("%s: dense H vs fd.Hessian: max err / ‖H‖∞ = %.3g > 1e-6", tc.name, worst)
		}

		Gref := ggnByJacobians(tc.m, tc.th, &tc.data)
		if !mat.EqualApprox(G, Gref, 1e-7*mat.Norm(Gref, math.Inf(1))) {
			t.Errorf("%s: G vs Jᵀ H_ℓ J from FD Jacobians differs", tc.name)
		}
		var eig mat.EigenSym
		gs := mat.NewSymDense(P, nil)
		for i := 0; i < P; i++ {
			for j := i; j < P; j++ {
				gs.SetSym(i, j, (G.At(i, j)+G.At(j, i))/2)
			}
		}
		if !eig.Factorize(gs, false) {
			t.Fatal("EigenSym failed")
		}
		if lmin := floats.Min(eig.Values(nil)); lmin < -1e-12*mat.Norm(G, math.Inf(1)) {
			t.Errorf("%s: G has eigenvalue %.3g < 0", tc.name, lmin)
		}
	}
}

// outputs returns the network outputs f (N, C) at θ.
func outputs(m *MLP, th []float64, d *Dataset) []float64 {
	c := m.newChunk(0, d.N)
	m.forward(c, th, d, false)
	return append([]float64(nil), c.z[m.NumLayers()]...)
}

func ggnByJacobians(m *MLP, th []float64, d *Dataset) *mat.Dense {
	P, C, N := len(th), m.Widths[len(m.Widths)-1], d.N
	// J[x] is (C, P), by central differences of the outputs, step 1e-6.
	J := make([]*mat.Dense, N)
	for x := range J {
		J[x] = mat.NewDense(C, P, nil)
	}
	tp := append([]float64(nil), th...)
	const h = 1e-6
	for j := 0; j < P; j++ {
		tp[j] = th[j] + h
		fp := outputs(m, tp, d)
		tp[j] = th[j] - h
		fm := outputs(m, tp, d)
		tp[j] = th[j]
		for x := 0; x < N; x++ {
			for c := 0; c < C; c++ {
				J[x].Set(c, j, (fp[x*C+c]-fm[x*C+c])/(2*h))
			}
		}
	}
	f := outputs(m, th, d)
	G := mat.NewDense(P, P, nil)
	for x := 0; x < N; x++ {
		Hl := mat.NewDense(C, C, nil)
		if m.Loss == MSE {
			for c := 0; c < C; c++ {
				Hl.Set(c, c, 1)
			}
		} else {
			row := f[x*C : (x+1)*C]
			mx := floats.Max(row)
			p := make([]float64, C)
			for c := range p {
				p[c] = math.Exp(row[c] - mx)
			}
			floats.Scale(1/floats.Sum(p), p)
			for i := 0; i < C; i++ {
				for k := 0; k < C; k++ {
					v := -p[i] * p[k]
					if i == k {
						v += p[i]
					}
					Hl.Set(i, k, v)
				}
			}
		}
		var t1, t2 mat.Dense
		t1.Mul(J[x].T(), Hl)
		t2.Mul(&t1, J[x])
		G.Add(G, &t2)
	}
	G.Scale(1/float64(N), G)
	return G
}

// A batch split into chunks gives the weighted mean of the chunk results (reassociation only),
// and the same bits on 1 and on many goroutines.
func TestChunkingAndDeterminism(t *testing.T) {
	m, _ := NewMLP([]int{6, 8, 4}, Tanh, CrossEntropy)
	th := make([]float64, m.NumParams())
	m.Init(th, InitPyTorch, 1)
	data := randomData(2*chunkRows+77, 6, 4, false, 5)
	b, err := m.Bind(th, &data)
	if err != nil {
		t.Fatal(err)
	}
	v := randVec(len(th), 9)
	hv := make([]float64, len(th))
	b.HVP(hv, v)

	// Reference: the same quantities from one-chunk sub-batches, weighted by their sizes.
	wantG, wantH := make([]float64, len(th)), make([]float64, len(th))
	wantL := 0.0
	for lo := 0; lo < data.N; lo += 100 {
		idx := []int{}
		for i := lo; i < min(lo+100, data.N); i++ {
			idx = append(idx, i)
		}
		sub := data.Subset(idx)
		sb, _ := m.Bind(th, &sub)
		w := float64(sub.N) / float64(data.N)
		floats.AddScaled(wantG, w, sb.Grad())
		shv := make([]float64, len(th))
		sb.HVP(shv, v)
		floats.AddScaled(wantH, w, shv)
		wantL += w * sb.Loss()
	}
	if e := relErr(b.Grad(), wantG); e > 1e-12 {
		t.Errorf("chunked gradient rel err %.3g", e)
	}
	if e := relErr(hv, wantH); e > 1e-12 {
		t.Errorf("chunked HVP rel err %.3g", e)
	}
	if math.Abs(b.Loss()-wantL) > 1e-14 {
		t.Errorf("chunked loss %v, want %v", b.Loss(), wantL)
	}
	el, _, _ := m.Evaluate(th, &data)
	if el != b.Loss() {
		t.Errorf("Evaluate loss %v != Bind loss %v", el, b.Loss())
	}

	// Bit-identical across GOMAXPROCS.
	prev := runtimeGOMAXPROCS(1)
	b1, _ := m.Bind(th, &data)
	hv1 := make([]float64, len(th))
	b1.HVP(hv1, v)
	runtimeGOMAXPROCS(prev)
	if !floats.Equal(b1.Grad(), b.Grad()) || !floats.Equal(hv1, hv) {
		t.Error("results differ between GOMAXPROCS=1 and GOMAXPROCS>1")
	}
}

// With P large enough for reduce to split the sum over parameters across goroutines, the
// gradient and H v keep the bits of one goroutine (each entry summed over the chunks in chunk
// order either way).
func TestSplitReduceDeterminism(t *testing.T) {
	m, _ := NewMLP([]int{256, 128, 64, 10}, Tanh, MSE)
	if m.NumParams() < 2*minReduce {
		t.Fatalf("P = %d does not exercise a split reduce (needs ≥ %d)", m.NumParams(), 2*minReduce)
	}
	th := make([]float64, m.NumParams())
	m.Init(th, InitPyTorch, 1)
	data := randomData(2*chunkRows+31, 256, 10, false, 6)
	v := randVec(len(th), 7)
	run := func(procs int) (g, hv []float64) {
		prev := runtimeGOMAXPROCS(procs)
		defer runtimeGOMAXPROCS(prev)
		b, err := m.Bind(th, &data)
		if err != nil {
			t.Fatal(err)
		}
		hv = make([]float64, len(th))
		b.HVP(hv, v)
		return append([]float64(nil), b.Grad()...), hv
	}
	g1, hv1 := run(1)
	for _, procs := range []int{2, 3} {
		g, hv := run(procs)
		if !floats.Equal(g, g1) || !floats.Equal(hv, hv1) {
			t.Errorf("GOMAXPROCS=%d: gradient or H v differs from GOMAXPROCS=1", procs)
		}
	}
}
