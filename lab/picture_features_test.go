package lab

import (
	"math"
	"testing"

	"sharpflat/lab/train"
)

// With input features the picture stays over the raw plane and the network reads each
// point's feature vector: xor with features x1, x2, x1x2, whose boundary x₁x₂ = 0 a linear
// model can draw. The references: the feature vector (x, y, x·y) written by hand at each cell
// centre and each point, run through handForward (the weights by hand, not nn's passes).
func TestPaintWithFeatures(t *testing.T) {
	c, err := train.Preset("xor")
	if err != nil {
		t.Fatal(err)
	}
	c.RefreshEvery, c.EnergyEvery, c.EvalEvery = 0, 0, 1000
	if err := train.SetField(&c, "features", "x1,x2,x1x2"); err != nil {
		t.Fatal(err)
	}
	tr, err := train.New(c)
	if err != nil {
		t.Fatal(err)
	}
	for range 150 {
		if _, err := tr.Step(); err != nil {
			t.Fatal(err)
		}
	}
	m, theta := tr.Model(), tr.Theta()
	if m.Widths[0] != 3 {
		t.Fatalf("the network reads %d inputs, want 3", m.Widths[0])
	}
	pic := NewPainter().Paint(tr)
	if pic == nil || pic.Kind != PictureRegions || pic.XLabel != "x₁" || pic.YLabel != "x₂" {
		t.Fatalf("picture %+v, want decision regions over (x₁, x₂)", pic)
	}
	phi := func(x, y float64) []float64 { return []float64{x, y, x * y} }
	argmax := func(f []float64) int {
		best := 0
		for j, v := range f {
			if v > f[best] {
				best = j
			}
		}
		return best
	}
	// The grid: the class at a cell is the network's class at φ of the cell's centre.
	for _, cell := range [][2]int{{0, 0}, {PictureGridW - 1, PictureGridH - 1}, {5, 90}, {100, 3}, {64, 48}, {30, 70}} {
		gx, gy := cell[0], cell[1]
		x := pic.X0 + (float64(gx)+0.5)/PictureGridW*(pic.X1-pic.X0)
		y := pic.Y1 - (float64(gy)+0.5)/PictureGridH*(pic.Y1-pic.Y0)
		out := handForward(t, m, theta, phi(x, y))
		if got, want := int(pic.Grid[gy*PictureGridW+gx]), argmax(out[len(out)-1]); got != want {
			t.Errorf("cell (%d, %d) at (%.3f, %.3f): class %d, a forward pass of φ says %d", gx, gy, x, y, got, want)
		}
	}
	// The points stay at their raw (x₁, x₂), each predicted from its feature vector.
	raw, _, err := train.PlaneData(&c)
	if err != nil {
		t.Fatal(err)
	}
	idx := spread(raw.N, MaxPicturePoints)
	right := 0
	for j, pt := range pic.Points {
		i := idx[j]
		x, y := raw.X[2*i], raw.X[2*i+1]
		out := handForward(t, m, theta, phi(x, y))
		if pt.X != x || pt.Y != y || int(pt.Pred) != argmax(out[len(out)-1]) || int(pt.Class) != raw.Labels[i] {
			t.Fatalf("point %d is %+v, want (%g, %g) class %d predicted %d", j, pt, x, y, raw.Labels[i], argmax(out[len(out)-1]))
		}
		if pt.Class == pt.Pred {
			right++
		}
	}
	t.Logf("accuracy on the points drawn %.3f", float64(right)/float64(len(pic.Points)))
	// The neuron tiles: every unit at a tile sample is the hand forward pass of φ there.
	ne := pic.Neurons
	if ne == nil || !ne.Plane || len(ne.Layers) != m.NumLayers() {
		t.Fatalf("neurons %+v", ne)
	}
	for _, cell := range [][2]int{{0, 0}, {31, 23}, {12, 7}} {
		gx, gy := cell[0], cell[1]
		x := pic.X0 + (float64(gx)+0.5)/NeuronTileW*(pic.X1-pic.X0)
		y := pic.Y1 - (float64(gy)+0.5)/NeuronTileH*(pic.Y1-pic.Y0)
		ref := handForward(t, m, theta, phi(x, y))
		for l, layer := range ne.Layers {
			for j, u := range layer.Units {
				got := float64(u.Values[gy*NeuronTileW+gx])
				if math.Abs(got-ref[l][j]) > 1e-6*math.Max(1, math.Abs(ref[l][j])) {
					t.Errorf("layer %d unit %d at tile (%d, %d): %g, reference %g", l+1, j, gx, gy, got, ref[l][j])
				}
			}
		}
	}
}

// Features whose plane cannot be drawn without the raw points (x₁², x₂² alone) are still
// pictured over (x₁, x₂), not over the features as if they were the plane.
func TestPaintWithSquaresOnly(t *testing.T) {
	c, _ := train.Preset("circles")
	c.RefreshEvery, c.EnergyEvery, c.EvalEvery = 0, 0, 1000
	c.Features = train.FeaturesOf(train.X1Sq, train.X2Sq)
	tr, err := train.New(c)
	if err != nil {
		t.Fatal(err)
	}
	pic := NewPainter().Paint(tr)
	raw, _, _ := train.PlaneData(&c)
	if pic == nil || pic.Kind != PictureRegions || len(pic.Points) == 0 {
		t.Fatalf("picture %+v", pic)
	}
	if pt := pic.Points[0]; pt.X != raw.X[0] || pt.Y != raw.X[1] {
		t.Errorf("first point at (%g, %g), want the raw (%g, %g)", pt.X, pt.Y, raw.X[0], raw.X[1])
	}
	if !(pic.X0 < 0 && pic.Y0 < 0) {
		t.Errorf("extent [%g, %g]×[%g, %g]: the squares' plane (≥ 0), not the raw one", pic.X0, pic.X1, pic.Y0, pic.Y1)
	}
}
