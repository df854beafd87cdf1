package nn

// MLP weights as safetensors in PyTorch nn.Linear layout: tensors "layers.{i}.weight" of shape
// [out, in] and "layers.{i}.bias" of shape [out], i counting the linear layers from 0. A
// PyTorch user saves an MLP whose linear layers live in a ModuleList (or Sequential) named
// `layers` with safetensors.torch.save_file(model.state_dict(), path) and loads it here.

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
)

// Indices need not be consecutive: nn.Sequential(Linear, Tanh, Linear) names its linear layers
// layers.0 and layers.2 (the activation takes index 1). Layers are taken in increasing index
// order and must chain: each one's input width is the previous one's output width.
var layerName = regexp.MustCompile(`^layers\.(\d+)\.(weight|bias)$`)

// Tensors returns θ as named tensors in the layout above.
func (m *MLP) Tensors(theta []float64) []Tensor {
	var ts []Tensor
	for i := 0; i < m.NumLayers(); i++ {
		w, b := m.Layer(theta, i)
		ts = append(ts,
			Tensor{Name: fmt.Sprintf("layers.%d.weight", i), Shape: []int{m.Widths[i+1], m.Widths[i]}, Data: append([]float64(nil), w...)},
			Tensor{Name: fmt.Sprintf("layers.%d.bias", i), Shape: []int{m.Widths[i+1]}, Data: append([]float64(nil), b...)})
	}
	return ts
}

// FromTensors reads the architecture from the tensor shapes and returns the network (with the
// given activation and loss) and θ. Tensors with other names are an error, so that a file from
// another model is not half-read in silence.
func FromTensors(ts []Tensor, act Activation, loss Loss) (*MLP, []float64, error) {
	type pair struct{ w, b *Tensor }
	layers := map[int]*pair{}
	for k := range ts {
		t := &ts[k]
		mt := layerName.FindStringSubmatch(t.Name)
		if mt == nil {
			return nil, nil, fmt.Errorf("tensor %q: expected names layers.{i}.weight and layers.{i}.bias", t.Name)
		}
		i, err := strconv.Atoi(mt[1])
		if err != nil || i > 1000 {
			return nil, nil, fmt.Errorf("tensor %q: layer index out of range", t.Name)
		}
		if layers[i] == nil {
			layers[i] = &pair{}
		}
		if mt[2] == "weight" {
			layers[i].w = t
		} else {
			layers[i].b = t
		}
	}
	if len(layers) == 0 {
		return nil, nil, fmt.Errorf("no tensors named layers.{i}.weight")
	}
	idx := make([]int, 0, len(layers))
	for i := range layers {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	var widths []int
	for n, i := range idx {
		p := layers[i]
		if p.w == nil {
			return nil, nil, fmt.Errorf("layers.%d.weight is missing", i)
		}
		if p.b == nil {
			return nil, nil, fmt.Errorf("layers.%d.bias is missing (bias-free layers are not supported)", i)
		}
		if len(p.w.Shape) != 2 || p.w.Shape[0] <= 0 || p.w.Shape[1] <= 0 {
			return nil, nil, fmt.Errorf("layers.%d.weight has shape %v, want [out, in]", i, p.w.Shape)
		}
		out, in := p.w.Shape[0], p.w.Shape[1]
		if len(p.b.Shape) != 1 || p.b.Shape[0] != out {
			return nil, nil, fmt.Errorf("layers.%d.bias has shape %v, want [%d]", i, p.b.Shape, out)
		}
		if len(p.w.Data) != out*in || len(p.b.Data) != out {
			return nil, nil, fmt.Errorf("layers.%d: data length does not match the shape", i)
		}
		for _, t := range []*Tensor{p.w, p.b} {
			if err := finite(t); err != nil {
				return nil, nil, err
			}
		}
		if n == 0 {
			widths = append(widths, in)
		} else if widths[n] != in {
			return nil, nil, fmt.Errorf("layers.%d.weight has shape %v: its input width %d does not match layers.%d's output width %d", i, p.w.Shape, in, idx[n-1], widths[n])
		}
		widths = append(widths, out)
	}
	m, err := NewMLP(widths, act, loss)
	if err != nil {
		return nil, nil, err
	}
	theta := make([]float64, m.NumParams())
	for n, i := range idx {
		w, b := m.Layer(theta, n)
		copy(w, layers[i].w.Data)
		copy(b, layers[i].b.Data)
	}
	return m, theta, nil
}

// LoadMLP reads a safetensors file written in the layout above.
func LoadMLP(path string, act Activation, loss Loss) (*MLP, []float64, error) {
	ts, _, err := LoadSafetensors(path)
	if err != nil {
		return nil, nil, err
	}
	m, theta, err := FromTensors(ts, act, loss)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, theta, nil
}

// SaveMLP writes θ as F64 safetensors (atomically), with the architecture in the metadata.
func SaveMLP(path string, m *MLP, theta []float64, meta map[string]string) error {
	all := map[string]string{"format": "pt", "architecture": m.String(), "loss": m.Loss.String()}
	for k, v := range meta {
		all[k] = v
	}
	return SaveSafetensors(path, m.Tensors(theta), all)
}

// finite names the first NaN or ±Inf of a tensor: "weights hold NaN in layers.1.weight
// (element [3, 4])".
func finite(t *Tensor) error {
	for i, v := range t.Data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			at := fmt.Sprintf("%d", i)
			if len(t.Shape) == 2 {
				at = fmt.Sprintf("%d, %d", i/t.Shape[1], i%t.Shape[1])
			}
			return fmt.Errorf("weights hold %v in %s (element [%s])", v, t.Name, at)
		}
	}
	return nil
}
