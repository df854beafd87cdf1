package lab

// What each neuron computes, for the lab's neurons view (like TensorFlow Playground's
// hidden-unit pictures). For data with two features, every unit's output over the input
// plane, sampled on a small grid of the picture's extent:
//
//	a_{l,j}(x) = σ(z_{l,j}(x)),   z_{l+1} = a_l W_lᵀ + b_l,   a_0 = x,
//
// for the hidden layers l = 1 … L−1, then the outputs f_c(x) = z_{L,c} (the last tile row);
// with input features a_0 is the feature vector φ(x) of the point x (the Painter maps the
// samples), while the tiles stay over the plane of x. For
// any other classification data, each unit's mean activation over the examples of each class.
// Each unit also carries the norm of its outgoing weights ‖W_l[:, j]‖ (the column of the next
// layer's weight that reads it): a unit whose outgoing weights are small hardly matters to
// the output, whatever its picture.
//
// The activations come from nn's own forward pass (MLP.Forward), one layer at a time, each
// with an identity layer added: that layer's input is σ(z_l), and it passes it on.

import (
	"math"

	"sharpflat/nn"
)

// The tiles' grid: small enough that every unit of a wide layer gets a tile at 4 Hz.
const (
	NeuronTileW = 32 // samples across a tile
	NeuronTileH = 24 // samples down a tile
)

// Neurons is what each unit computes, for display. It shares nothing with the trainer.
type Neurons struct {
	// Plane says what Layers' values are: true, tiles over the picture's extent (TW×TH
	// samples, row 0 at the top, column 0 at the left, each at its cell's centre); false,
	// each unit's mean activation per class (Classes values).
	Plane   bool
	TW, TH  int
	Classes int
	// Layers are the hidden layers in order, then the output layer.
	Layers []NeuronLayer
}

// NeuronLayer is one layer's units.
type NeuronLayer struct {
	Output bool // the network's output layer (its units have no outgoing weights)
	Units  []NeuronUnit
	// Lo and Hi bound the values of every unit of the layer (for a common colour scale).
	Lo, Hi float64
}

// NeuronUnit is one unit: its values (TW·TH samples over the plane, or one mean per class)
// and the norm of its outgoing weights (0 for an output).
type NeuronUnit struct {
	Values  []float32
	OutNorm float64
}

// paintNeurons computes the neurons of the network at θ: over the plane of the picture's
// extent for 2-D data (samples (n, D) the network's inputs at the tile grid's centres: the
// points themselves, or their feature vectors), else the mean activation per class of rows
// x (n, D) of classes labels.
func paintNeurons(m *nn.MLP, theta []float64, plane bool, samples []float64, x []float64, labels []int, classes int) *Neurons {
	rows := x
	ne := &Neurons{Plane: plane, Classes: classes}
	if plane {
		rows = samples
		ne.TW, ne.TH = NeuronTileW, NeuronTileH
	}
	in := m.Widths[0]
	n := len(rows) / in
	L := m.NumLayers()
	act := rows
	for l := 1; l <= L; l++ {
		width := m.Widths[l]
		act = activations(m, theta, l-1, act)
		layer := NeuronLayer{Output: l == L, Lo: math.Inf(1), Hi: math.Inf(-1)}
		var next []float64 // W_l (out, in): the weight that reads layer l
		if l < L {
			next, _ = m.Layer(theta, l)
		}
		for j := 0; j < width; j++ {
			u := NeuronUnit{}
			if next != nil {
				s, out := 0.0, m.Widths[l+1]
				for r := 0; r < out; r++ {
					v := next[r*width+j]
					s += v * v
				}
				u.OutNorm = math.Sqrt(s)
			}
			if plane {
				u.Values = make([]float32, n)
				for i := 0; i < n; i++ {
					u.Values[i] = float32(act[i*width+j])
				}
			} else {
				sum, count := make([]float64, classes), make([]int, classes)
				for i := 0; i < n; i++ {
					if c := labels[i]; c >= 0 && c < classes {
						sum[c] += act[i*width+j]
						count[c]++
					}
				}
				u.Values = make([]float32, classes)
				for c := range sum {
					u.Values[c] = float32(math.NaN())
					if count[c] > 0 {
						u.Values[c] = float32(sum[c] / float64(count[c]))
					}
				}
			}
			for _, v := range u.Values {
				if f := float64(v); !math.IsNaN(f) {
					layer.Lo, layer.Hi = math.Min(layer.Lo, f), math.Max(layer.Hi, f)
				}
			}
			layer.Units = append(layer.Units, u)
		}
		ne.Layers = append(ne.Layers, layer)
	}
	return ne
}

// activations returns (n, w_{l+1}) the outputs of layer l+1's units at each row of a (n, w_l),
// the outputs of the layer before (the input for l = 0): σ(z_{l+1}) for a hidden layer,
// f = z_L for the output layer. It runs nn's forward pass on layer l alone followed, for a
// hidden layer, by an identity layer, so that σ is applied by nn itself.
func activations(m *nn.MLP, theta []float64, l int, a []float64) []float64 {
	in, width := m.Widths[l], m.Widths[l+1]
	n := len(a) / in
	out := make([]float64, n*width)
	w, b := m.Layer(theta, l)
	widths := []int{in, width}
	if l+1 < m.NumLayers() {
		widths = append(widths, width)
	}
	one := &nn.MLP{Widths: widths, Act: m.Act, Loss: m.Loss}
	th := make([]float64, one.NumParams())
	copy(th, w)
	copy(th[len(w):], b)
	if len(widths) == 3 {
		id, _ := one.Layer(th, 1)
		for j := 0; j < width; j++ {
			id[j*width+j] = 1 // the identity layer, bias 0
		}
	}
	one.Forward(out, th, a)
	return out
}
