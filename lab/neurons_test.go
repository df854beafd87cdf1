package lab

import (
	"math"
	"testing"

	"sharpflat/nn"
)

// handForward is the reference: the activations of every layer at one input, written out
// from the weights (nn.MLP.Layer) with math.Tanh or max(0, ·), not through nn's passes.
func handForward(t *testing.T, m *nn.MLP, theta, x []float64) [][]float64 {
	t.Helper()
	a := x
	var out [][]float64
	for l := 0; l < m.NumLayers(); l++ {
		w, b := m.Layer(theta, l)
		in, wo := m.Widths[l], m.Widths[l+1]
		z := make([]float64, wo)
		for r := 0; r < wo; r++ {
			z[r] = b[r]
			for c := 0; c < in; c++ {
				z[r] += w[r*in+c] * a[c]
			}
			if l+1 < m.NumLayers() {
				switch m.Act {
				case nn.Tanh:
					z[r] = math.Tanh(z[r])
				case nn.ReLU:
					z[r] = math.Max(0, z[r])
				default:
					t.Fatalf("no reference for %v", m.Act)
				}
			}
		}
		out = append(out, z)
		a = z
	}
	return out
}

func TestNeuronsOverThePlane(t *testing.T) {
	tr := trainer(t, "moons", 200)
	pic := NewPainter().Paint(tr)
	ne := pic.Neurons
	m, theta := tr.Model(), tr.Theta()
	if ne == nil || !ne.Plane || ne.TW != NeuronTileW || ne.TH != NeuronTileH || len(ne.Layers) != m.NumLayers() {
		t.Fatalf("neurons %+v", ne)
	}
	for _, cell := range [][2]int{{0, 0}, {31, 23}, {10, 5}, {17, 20}} {
		gx, gy := cell[0], cell[1]
		x := pic.X0 + (float64(gx)+0.5)/NeuronTileW*(pic.X1-pic.X0)
		y := pic.Y1 - (float64(gy)+0.5)/NeuronTileH*(pic.Y1-pic.Y0)
		ref := handForward(t, m, theta, []float64{x, y})
		for l, layer := range ne.Layers {
			if len(layer.Units) != m.Widths[l+1] || layer.Output != (l+1 == m.NumLayers()) {
				t.Fatalf("layer %d: %d units output %v", l+1, len(layer.Units), layer.Output)
			}
			for j, u := range layer.Units {
				got := float64(u.Values[gy*NeuronTileW+gx])
				if math.Abs(got-ref[l][j]) > 1e-6*math.Max(1, math.Abs(ref[l][j])) {
					t.Errorf("layer %d unit %d at (%d, %d): %g, reference %g", l+1, j, gx, gy, got, ref[l][j])
				}
				if got < layer.Lo || got > layer.Hi {
					t.Errorf("layer %d unit %d: %g outside the layer's range [%g, %g]", l+1, j, got, layer.Lo, layer.Hi)
				}
			}
		}
	}
	// The outgoing norms: ‖column j of W_{l}‖ by hand, 0 for the outputs.
	for l, layer := range ne.Layers {
		for j, u := range layer.Units {
			want := 0.0
			if !layer.Output {
				w, _ := m.Layer(theta, l+1)
				in := m.Widths[l+1]
				for r := 0; r < m.Widths[l+2]; r++ {
					want += w[r*in+j] * w[r*in+j]
				}
				want = math.Sqrt(want)
			}
			if math.Abs(u.OutNorm-want) > 1e-12 {
				t.Errorf("layer %d unit %d: outgoing norm %g, want %g", l+1, j, u.OutNorm, want)
			}
		}
	}
}

func TestNeuronsMeanPerClass(t *testing.T) {
	tr := trainer(t, "demo", 30)
	pic := NewPainter().Paint(tr)
	ne := pic.Neurons
	m, theta := tr.Model(), tr.Theta()
	_, test, _ := tr.Data()
	if ne == nil || ne.Plane || ne.Classes != test.Classes {
		t.Fatalf("neurons %+v", ne)
	}
	// The mean over the points drawn (the test points spread through the set) of each class.
	idx := spread(test.N, MaxPicturePoints)
	D := test.D
	sums := make([][][]float64, m.NumLayers())
	count := make([]int, test.Classes)
	for l := range sums {
		sums[l] = make([][]float64, m.Widths[l+1])
		for j := range sums[l] {
			sums[l][j] = make([]float64, test.Classes)
		}
	}
	for _, i := range idx {
		c := test.Labels[i]
		count[c]++
		for l, a := range handForward(t, m, theta, test.X[i*D:(i+1)*D]) {
			for j, v := range a {
				sums[l][j][c] += v
			}
		}
	}
	for l, layer := range ne.Layers {
		for j, u := range layer.Units {
			for c := range count {
				want := sums[l][j][c] / float64(count[c])
				if got := float64(u.Values[c]); math.Abs(got-want) > 1e-6*math.Max(1, math.Abs(want)) {
					t.Errorf("layer %d unit %d class %d: mean %g, reference %g", l+1, j, c, got, want)
				}
			}
		}
	}
}

// BenchmarkNeurons is what the neurons add to a Paint: moons (2-32-32-2 over a 32×24 grid)
// and mnist14 (196-32-32-10, the means of 500 test points).
func BenchmarkNeurons(b *testing.B) {
	for _, preset := range []string{"moons", "mnist"} {
		b.Run(preset, func(b *testing.B) {
			tr := trainer(b, preset, 0)
			p := NewPainter()
			p.Paint(tr)
			m, theta := tr.Model(), tr.Theta()
			tr0, _, _ := tr.Data()
			b.ReportAllocs()
			for b.Loop() {
				paintNeurons(m, theta, p.kind == PictureRegions, p.tiles, p.inputs, p.labels, tr0.Classes)
			}
		})
	}
}
