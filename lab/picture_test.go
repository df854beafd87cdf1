package lab

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"sharpflat/lab/train"
	"sharpflat/nn"
)

// trainer returns a trainer of the preset after steps steps; the eigenspace is computed once
// (refresh on request only), which the picture does not depend on.
func trainer(t testing.TB, preset string, steps int) *train.Trainer {
	t.Helper()
	c, err := train.Preset(preset)
	if err != nil {
		t.Fatal(err)
	}
	c.RefreshEvery, c.EnergyEvery, c.EvalEvery = 0, 0, 1000
	tr, err := train.New(c)
	if err != nil {
		t.Fatal(err)
	}
	for range steps {
		if _, err := tr.Step(); err != nil {
			t.Fatal(err)
		}
	}
	return tr
}

func TestPaintMoonsRegions(t *testing.T) {
	tr := trainer(t, "moons", 300)
	p := NewPainter()
	pic := p.Paint(tr)
	if pic == nil || pic.Kind != PictureRegions || pic.Step != 300 || pic.Classes != 2 {
		t.Fatalf("picture %+v", pic)
	}
	if pic.GW != PictureGridW || pic.GH != PictureGridH || len(pic.Grid) != pic.GW*pic.GH {
		t.Fatalf("grid %d×%d with %d cells", pic.GW, pic.GH, len(pic.Grid))
	}
	trainSet, testSet, _ := tr.Data()
	if want := min(trainSet.N, MaxPicturePoints); len(pic.Points) != want {
		t.Errorf("%d points, want %d", len(pic.Points), want)
	}
	// The extent holds every point, training and test, with room to spare.
	for _, d := range []*nn.Dataset{trainSet, testSet} {
		for i := 0; i < d.N; i++ {
			if x, y := d.X[2*i], d.X[2*i+1]; !(x > pic.X0 && x < pic.X1 && y > pic.Y0 && y < pic.Y1) {
				t.Fatalf("%s point (%g, %g) outside the extent [%g, %g]×[%g, %g]", d.Name, x, y, pic.X0, pic.X1, pic.Y0, pic.Y1)
			}
		}
	}
	// Each point's prediction is the network's (reference: Predict on the training rows),
	// the grid is a faithful raster of the network (the cell under a point has the point's
	// prediction but near the boundary), and the network has learned the moons.
	m, theta := tr.Model(), tr.Theta()
	pred := make([]int, trainSet.N)
	m.Predict(pred, theta, trainSet.X)
	idx := spread(trainSet.N, MaxPicturePoints)
	agree, right := 0, 0
	for j, pt := range pic.Points {
		i := idx[j]
		if pt.X != trainSet.X[2*i] || pt.Y != trainSet.X[2*i+1] || int(pt.Class) != trainSet.Labels[i] || int(pt.Pred) != pred[i] {
			t.Fatalf("point %d is %+v, training example %d is (%g, %g) class %d predicted %d",
				j, pt, i, trainSet.X[2*i], trainSet.X[2*i+1], trainSet.Labels[i], pred[i])
		}
		if c, ok := pic.RegionAt(pt.X, pt.Y); ok && c == pt.Pred {
			agree++
		}
		if pt.Class == pt.Pred {
			right++
		}
	}
	n := float64(len(pic.Points))
	t.Logf("raster agrees at %.1f%% of the points; accuracy %.3f", 100*float64(agree)/n, float64(right)/n)
	if float64(agree)/n < 0.95 {
		t.Errorf("the grid agrees with the network at %d of %d points", agree, len(pic.Points))
	}
	if acc := pic.Accuracy(); acc <= 0.8 || acc != float64(right)/n {
		t.Errorf("accuracy %.3f on the points drawn, want > 0.8", acc)
	}
	// Both classes have a region.
	var seen [2]bool
	for _, c := range pic.Grid {
		seen[min(c, 1)] = true
	}
	if !seen[0] || !seen[1] {
		t.Errorf("regions of classes %v only", seen)
	}

	// The picture is the caller's: training on and painting again leave it as it was.
	grid, points := slices.Clone(pic.Grid), slices.Clone(pic.Points)
	for range 20 {
		if _, err := tr.Step(); err != nil {
			t.Fatal(err)
		}
	}
	cached := &p.samples[0]
	next := p.Paint(tr)
	if !slices.Equal(grid, pic.Grid) || !slices.Equal(points, pic.Points) {
		t.Error("painting again changed the earlier picture")
	}
	if &next.Grid[0] == &pic.Grid[0] || &next.Points[0] == &pic.Points[0] {
		t.Error("two pictures share their slices")
	}
	if &p.samples[0] != cached {
		t.Error("the grid's sample positions were computed again for the same data")
	}
}

func TestRegionAt(t *testing.T) {
	pic := &Picture{X0: -1, X1: 1, Y0: 0, Y1: 2, GW: 2, GH: 2, Grid: []uint8{0, 1, 2, 3}}
	for _, tc := range []struct {
		x, y float64
		c    uint8
		ok   bool
	}{
		{-0.5, 1.5, 0, true}, {0.5, 1.5, 1, true}, {-0.5, 0.5, 2, true}, {0.5, 0.5, 3, true},
		{1, 0, 3, true}, {-1, 2, 0, true}, {1.01, 1, 0, false}, {0, -0.1, 0, false}, {math.NaN(), 1, 0, false},
	} {
		c, ok := pic.RegionAt(tc.x, tc.y)
		if c != tc.c || ok != tc.ok {
			t.Errorf("RegionAt(%g, %g) = %d, %v; want %d, %v", tc.x, tc.y, c, ok, tc.c, tc.ok)
		}
	}
	if _, ok := (*Picture)(nil).RegionAt(0, 0); ok {
		t.Error("a nil picture has regions")
	}
}

// densePCA is the reference: the covariance formed explicitly and decomposed by
// mat.EigenSym (all pairs, ascending).
func densePCA(t *testing.T, d *nn.Dataset) (values []float64, vectors *mat.Dense, total float64) {
	t.Helper()
	X := mat.NewDense(d.N, d.D, slices.Clone(d.X))
	mean := make([]float64, d.D)
	for j := range mean {
		mean[j] = floats.Sum(mat.Col(nil, j, X)) / float64(d.N)
	}
	for i := 0; i < d.N; i++ {
		floats.Sub(X.RawRowView(i), mean)
	}
	cov := mat.NewSymDense(d.D, nil)
	cov.SymOuterK(1/float64(d.N), X.T())
	var eig mat.EigenSym
	if !eig.Factorize(cov, true) {
		t.Fatal("EigenSym failed")
	}
	values = eig.Values(nil)
	vectors = new(mat.Dense)
	eig.VectorsTo(vectors)
	for i := 0; i < d.D; i++ {
		total += cov.At(i, i)
	}
	return values, vectors, total
}

func TestPaintProjectionMatchesDensePCA(t *testing.T) {
	for _, preset := range []string{"demo", "mnist"} { // gaussian D = 20, mnist14 D = 196
		t.Run(preset, func(t *testing.T) {
			tr := trainer(t, preset, 20)
			_, test, _ := tr.Data()
			pic := NewPainter().Paint(tr)
			if pic == nil || pic.Kind != PictureProjection || pic.Grid != nil {
				t.Fatalf("picture %+v", pic)
			}
			values, vectors, total := densePCA(t, test)
			D := test.D
			// EigenSym sorts ascending: the top two are the last columns.
			ref := [2][]float64{mat.Col(nil, D-1, vectors), mat.Col(nil, D-2, vectors)}
			lam := [2]float64{values[D-1], values[D-2]}
			t.Logf("λ₁ %.6g λ₂ %.6g λ₃ %.6g of tr C %.6g", lam[0], lam[1], values[D-3], total)

			pc := principalComponents(test)
			for k := range 2 {
				u := pc.vectors[k]
				if d := math.Abs(floats.Dot(u, ref[k])); math.Abs(d-1) > 1e-9 {
					t.Errorf("|u%d · reference| = %.12f, want 1", k+1, d)
				}
				if e := math.Abs(pc.values[k]-lam[k]) / lam[0]; e > 1e-10 {
					t.Errorf("λ%d = %.12g, reference %.12g", k+1, pc.values[k], lam[k])
				}
				if e := math.Abs(floats.Norm(u, 2) - 1); e > 1e-12 {
					t.Errorf("‖u%d‖ − 1 = %g", k+1, e)
				}
			}
			if d := floats.Dot(pc.vectors[0], pc.vectors[1]); math.Abs(d) > 1e-10 {
				t.Errorf("u₁ · u₂ = %g", d)
			}
			if want := varianceLabel("PC1", lam[0]/total); pic.XLabel != want {
				t.Errorf("X label %q, want %q", pic.XLabel, want)
			}
			if want := varianceLabel("PC2", lam[1]/total); pic.YLabel != want {
				t.Errorf("Y label %q, want %q", pic.YLabel, want)
			}

			// The points are the test points on the reference components (up to the sign of
			// each), and the variance along them is the largest along any direction.
			idx := spread(test.N, MaxPicturePoints)
			if len(pic.Points) != len(idx) {
				t.Fatalf("%d points, want %d", len(pic.Points), len(idx))
			}
			sign := [2]float64{math.Copysign(1, floats.Dot(pc.vectors[0], ref[0])), math.Copysign(1, floats.Dot(pc.vectors[1], ref[1]))}
			mean := pc.mean
			worst := 0.0
			for j, pt := range pic.Points {
				row := test.X[idx[j]*D : (idx[j]+1)*D]
				c := make([]float64, D)
				floats.SubTo(c, row, mean)
				worst = math.Max(worst, math.Abs(pt.X-sign[0]*floats.Dot(c, ref[0])))
				worst = math.Max(worst, math.Abs(pt.Y-sign[1]*floats.Dot(c, ref[1])))
				if int(pt.Class) != test.Labels[idx[j]] {
					t.Fatalf("point %d has class %d, want %d", j, pt.Class, test.Labels[idx[j]])
				}
			}
			if worst > 1e-8*math.Sqrt(lam[0]) {
				t.Errorf("worst coordinate difference %g", worst)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			variance := func(u []float64) float64 {
				s := 0.0
				c := make([]float64, D)
				for i := 0; i < test.N; i++ {
					floats.SubTo(c, test.X[i*D:(i+1)*D], mean)
					s += floats.Dot(c, u) * floats.Dot(c, u)
				}
				return s / float64(test.N)
			}
			v1, v2 := variance(pc.vectors[0]), variance(pc.vectors[1])
			if v1 < v2 {
				t.Errorf("variance along PC1 %g < along PC2 %g", v1, v2)
			}
			for range 20 {
				u := make([]float64, D)
				for j := range u {
					u[j] = rng.NormFloat64()
				}
				floats.Scale(1/floats.Norm(u, 2), u)
				if v := variance(u); v > v2*(1+1e-12) {
					t.Errorf("a random direction has variance %g > PC2's %g", v, v2)
				}
			}
		})
	}
}

func TestPaintRegressionIsNil(t *testing.T) {
	tr := trainer(t, "teacher", 0)
	if pic := NewPainter().Paint(tr); pic != nil {
		t.Errorf("regression data painted %+v", pic)
	}
}

func TestPad(t *testing.T) {
	for _, tc := range []struct{ lo, hi, a, b float64 }{
		{0, 10, -1, 11}, {2, 2, 1, 3}, {math.Inf(1), math.Inf(-1), -1, 1}, {math.NaN(), 1, -1, 1},
	} {
		if a, b := pad(tc.lo, tc.hi); a != tc.a || b != tc.b {
			t.Errorf("pad(%g, %g) = %g, %g; want %g, %g", tc.lo, tc.hi, a, b, tc.a, tc.b)
		}
	}
	if got := spread(10, 4); !slices.Equal(got, []int{0, 2, 5, 7}) {
		t.Errorf("spread(10, 4) = %v", got)
	}
	if got := spread(3, 600); !slices.Equal(got, []int{0, 1, 2}) {
		t.Errorf("spread(3, 600) = %v", got)
	}
}

// BenchmarkPaint paints moons (a 128×96 grid and 600 points through 2-32-32-2), mnist14
// (500 test points through 196-32-32-10) and the song preset (600 test points through
// 784-200-200-10), after the first Paint has filled the cache.
func BenchmarkPaint(b *testing.B) {
	for _, preset := range []string{"moons", "mnist", "song"} {
		b.Run(preset, func(b *testing.B) {
			tr := trainer(b, preset, 0)
			p := NewPainter()
			p.Paint(tr)
			b.ReportAllocs()
			for b.Loop() {
				p.Paint(tr)
			}
		})
	}
}

// BenchmarkPrincipalComponents is the first Paint's extra cost on data with D > 2: the top
// two principal components of the test inputs of mnist14 (500 × 196) and mnist5k (1000 × 784).
func BenchmarkPrincipalComponents(b *testing.B) {
	for _, preset := range []string{"mnist", "song"} {
		b.Run(preset, func(b *testing.B) {
			_, test, _ := trainer(b, preset, 0).Data()
			for b.Loop() {
				principalComponents(test)
			}
		})
	}
}

// The shading: each cell's confidence is the softmax probability of its class, from a
// forward pass of the network at the cell's centre computed here (x from the extent, not
// from the painter's cached samples), and the test points are the test set's.
func TestPaintConfidenceAndTestPoints(t *testing.T) {
	tr := trainer(t, "moons", 200)
	pic := NewPainter().Paint(tr)
	if len(pic.Conf) != len(pic.Grid) {
		t.Fatalf("%d confidences for %d cells", len(pic.Conf), len(pic.Grid))
	}
	m, theta := tr.Model(), tr.Theta()
	if m.Loss != nn.CrossEntropy {
		t.Fatalf("moons trains with %v; the reference below is the softmax", m.Loss)
	}
	out := m.Widths[len(m.Widths)-1]
	f := make([]float64, out)
	sure, unsure := 0, 0
	for _, cell := range [][2]int{{0, 0}, {5, 90}, {64, 48}, {127, 95}, {100, 20}, {31, 77}} {
		gx, gy := cell[0], cell[1]
		x := pic.X0 + (float64(gx)+0.5)/float64(pic.GW)*(pic.X1-pic.X0)
		y := pic.Y1 - (float64(gy)+0.5)/float64(pic.GH)*(pic.Y1-pic.Y0)
		m.Forward(f, theta, []float64{x, y})
		// p_c = 1 / Σⱼ exp(f_j − f_c) for the largest f_c.
		c := floats.MaxIdx(f)
		s := 0.0
		for _, v := range f {
			s += math.Exp(v - f[c])
		}
		i := gy*pic.GW + gx
		if int(pic.Grid[i]) != c || math.Abs(float64(pic.Conf[i])-1/s) > 1e-6 {
			t.Errorf("cell (%d, %d): class %d confidence %.7f, reference class %d %.7f", gx, gy, pic.Grid[i], pic.Conf[i], c, 1/s)
		}
	}
	for _, q := range pic.Conf {
		if !(q >= 0.5 && q <= 1) {
			t.Fatalf("confidence %g outside [1/C, 1] for C = 2", q)
		}
		if q > 0.99 {
			sure++
		} else if q < 0.6 {
			unsure++
		}
	}
	t.Logf("cells above 0.99: %d, below 0.6: %d of %d", sure, unsure, len(pic.Conf))
	if sure == 0 || unsure == 0 {
		t.Errorf("a trained net on the moons should be sure far from the boundary and unsure on it: %d sure, %d unsure", sure, unsure)
	}
	_, test, _ := tr.Data()
	idx := spread(test.N, MaxPicturePoints)
	pred := make([]int, test.N)
	m.Predict(pred, theta, test.X)
	if len(pic.Test) != len(idx) || len(idx) == 0 {
		t.Fatalf("%d test points, want %d", len(pic.Test), len(idx))
	}
	for j, pt := range pic.Test {
		i := idx[j]
		if pt.X != test.X[2*i] || pt.Y != test.X[2*i+1] || int(pt.Class) != test.Labels[i] || int(pt.Pred) != pred[i] {
			t.Fatalf("test point %d is %+v, test example %d is (%g, %g) class %d predicted %d", j, pt, i, test.X[2*i], test.X[2*i+1], test.Labels[i], pred[i])
		}
	}
}

func TestConfidenceMSE(t *testing.T) {
	for _, tc := range []struct {
		f    []float64
		c    int
		want float64
	}{{[]float64{0.2, 0.7}, 1, 0.7}, {[]float64{1.4, 0.1}, 0, 1}, {[]float64{-0.3, -0.5}, 0, 0}} {
		if c, q := confidence(tc.f, nn.MSE); c != tc.c || q != tc.want {
			t.Errorf("confidence(%v, MSE) = %d, %g; want %d, %g", tc.f, c, q, tc.c, tc.want)
		}
	}
	// Softmax by hand: f = (0, ln 3): p = (1/4, 3/4).
	if c, q := confidence([]float64{0, math.Log(3)}, nn.CrossEntropy); c != 1 || math.Abs(q-0.75) > 1e-15 {
		t.Errorf("confidence((0, ln 3), CE) = %d, %g; want 1, 0.75", c, q)
	}
}

// BenchmarkStepsPicture is the engine's step rate with no picture and with a subscriber that
// wants it (painted PictureHz times a second on the engine's goroutine), for the demo
// (a projection) and the moons (the 128×96 grid with its confidences): the issue allows the
// picture 5% of the rate.
func BenchmarkStepsPicture(b *testing.B) {
	for _, preset := range []string{"demo", "moons"} {
		for _, on := range []bool{false, true} {
			name := preset + "/off"
			if on {
				name = preset + "/on"
			}
			b.Run(name, func(b *testing.B) {
				c, _ := train.Preset(preset)
				benchSteps(b, c, func(e *Engine) {
					s := e.Subscribe()
					s.WantPicture(on)
					go func() {
						for range s.C() {
						}
					}()
				})
			})
		}
	}
}
