package linalg

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/floats"
)

// randomBasis returns k orthonormal vectors of length n.
func randomBasis(k, n int, rnd *rand.Rand) [][]float64 {
	v := make([][]float64, k)
	for i := range v {
		v[i] = randomVector(n, rnd)
	}
	return orthonormalized(v)
}

func randomVector(n int, rnd *rand.Rand) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = rnd.NormFloat64()
	}
	return x
}

func TestProjections(t *testing.T) {
	rnd := rand.New(rand.NewPCG(40, 1))
	n, k := 200, 7
	V := randomBasis(k, n, rnd)
	if len(V) != k || orthonormalityError(V) > 1e-14 {
		t.Fatalf("randomBasis: %d vectors, error %.3g", len(V), orthonormalityError(V))
	}
	x := randomVector(n, rnd)
	dom, bulk := make([]float64, n), make([]float64, n)
	ProjectDom(dom, V, x)
	ProjectBulk(bulk, V, x)

	// P_dom + P_bulk = I
	sum := make([]float64, n)
	floats.AddTo(sum, dom, bulk)
	if !floats.EqualApprox(sum, x, 1e-13) {
		t.Error("P_dom x + P_bulk x ≠ x")
	}
	// Idempotence: P² = P.
	again := make([]float64, n)
	ProjectDom(again, V, dom)
	if !floats.EqualApprox(again, dom, 1e-13) {
		t.Error("P_dom P_dom x ≠ P_dom x")
	}
	ProjectBulk(again, V, bulk)
	if !floats.EqualApprox(again, bulk, 1e-13) {
		t.Error("P_bulk P_bulk x ≠ P_bulk x")
	}
	// The two parts are orthogonal, the Bulk part orthogonal to V.
	if d := floats.Dot(dom, bulk); math.Abs(d) > 1e-12 {
		t.Errorf("P_dom x · P_bulk x = %.3g", d)
	}
	c := make([]float64, k)
	Coordinates(c, V, bulk)
	if floats.Norm(c, math.Inf(1)) > 1e-13 {
		t.Errorf("Vᵀ P_bulk x = %v", c)
	}
	// In place (dst = x).
	y := slices.Clone(x)
	ProjectBulk(y, V, y)
	if !floats.EqualApprox(y, bulk, 1e-15) {
		t.Error("ProjectBulk in place differs")
	}
	y = slices.Clone(x)
	ProjectDom(y, V, y)
	if !floats.EqualApprox(y, dom, 1e-15) {
		t.Error("ProjectDom in place differs")
	}
	// Blend: the SGD, Dom-SGD and Bulk-SGD corners and an interpolation.
	for _, w := range [][2]float64{{1, 1}, {1, 0}, {0, 1}, {0.3, 2}} {
		want := make([]float64, n)
		floats.AddScaledTo(want, want, w[0], dom)
		floats.AddScaled(want, w[1], bulk)
		got := make([]float64, n)
		Blend(got, V, x, w[0], w[1])
		if !floats.EqualApprox(got, want, 1e-13) {
			t.Errorf("Blend%v differs from w_dom·P_dom x + w_bulk·P_bulk x", w)
		}
	}
	// An empty basis: everything is Bulk.
	ProjectBulk(y, nil, x)
	if !slices.Equal(y, x) {
		t.Error("ProjectBulk with an empty basis is not the identity")
	}
}

func TestAlignment(t *testing.T) {
	rnd := rand.New(rand.NewPCG(41, 1))
	n, k := 400, 10
	V := randomBasis(k, n, rnd)
	x := randomVector(n, rnd)
	dom, bulk := make([]float64, n), make([]float64, n)
	ProjectDom(dom, V, x)
	ProjectBulk(bulk, V, x)
	for _, c := range []struct {
		name string
		x    []float64
		want float64
	}{
		{"in span", dom, 1},
		{"orthogonal", bulk, 0},
		{"zero", make([]float64, n), 0},
		{"45°", sum(scaled(1/floats.Norm(dom, 2), dom), scaled(1/floats.Norm(bulk, 2), bulk)), math.Sqrt(0.5)},
		{"V₀", V[0], 1},
	} {
		if got := Alignment(V, c.x); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: Alignment = %v, want %v", c.name, got, c.want)
		}
	}
	// A random direction: χ ≈ √(k/n).
	if got := Alignment(V, x); got < 0.5*math.Sqrt(float64(k)/float64(n)) || got > 2*math.Sqrt(float64(k)/float64(n)) {
		t.Errorf("random x: Alignment = %v, want about √(k/n) = %v", got, math.Sqrt(float64(k)/float64(n)))
	}
}

func TestOverlap(t *testing.T) {
	rnd := rand.New(rand.NewPCG(42, 1))
	n, k := 300, 5
	all := randomBasis(2*k, n, rnd)
	A, B := all[:k], all[k:]
	if got := Overlap(A, A); math.Abs(got-1) > 1e-13 {
		t.Errorf("Overlap(V, V) = %v, want 1", got)
	}
	if got := Overlap(A, B); got > 1e-13 {
		t.Errorf("Overlap of orthogonal bases = %v, want 0", got)
	}
	// The same subspace in another basis: a rotation inside span(A).
	R := make([][]float64, k)
	for i := range R {
		R[i] = make([]float64, n)
		for j := range A {
			floats.AddScaled(R[i], rnd.NormFloat64(), A[j])
		}
	}
	R = orthonormalized(R)
	if got := Overlap(A, R); math.Abs(got-1) > 1e-12 {
		t.Errorf("Overlap with a rotated basis of the same span = %v, want 1", got)
	}
	// Tilt one vector by 60°: cos² = 1/4, overlap (k−1 + 1/4)/k.
	C := slices.Clone(A)
	C[0] = sum(scaled(0.5, A[0]), scaled(math.Sqrt(0.75), B[0]))
	if got, want := Overlap(A, C), (float64(k)-0.75)/float64(k); math.Abs(got-want) > 1e-12 {
		t.Errorf("tilted: Overlap = %v, want %v", got, want)
	}
	// Different sizes: divided by the larger.
	if got, want := Overlap(A[:3], A), 3.0/float64(k); math.Abs(got-want) > 1e-12 {
		t.Errorf("nested: Overlap = %v, want %v", got, want)
	}
	if Overlap(nil, A) != 0 {
		t.Error("Overlap with an empty basis ≠ 0")
	}
}

func TestProjectionPanics(t *testing.T) {
	V := [][]float64{make([]float64, 3)}
	for name, f := range map[string]func(){
		"dst":     func() { ProjectBulk(make([]float64, 2), V, make([]float64, 3)) },
		"V":       func() { ProjectDom(make([]float64, 4), V, make([]float64, 4)) },
		"overlap": func() { Overlap(V, [][]float64{make([]float64, 4)}) },
		"coords":  func() { Coordinates(make([]float64, 2), V, make([]float64, 3)) },
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

func scaled(a float64, x []float64) []float64 {
	y := make([]float64, len(x))
	floats.ScaleTo(y, a, x)
	return y
}

func sum(x, y []float64) []float64 {
	z := make([]float64, len(x))
	floats.AddTo(z, x, y)
	return z
}
