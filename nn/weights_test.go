package nn

import (
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats"
)

func TestMLPWeightsRoundTrip(t *testing.T) {
	m, _ := NewMLP([]int{5, 7, 3, 2}, GELU, MSE)
	th := make([]float64, m.NumParams())
	m.Init(th, InitPyTorch, 4)
	path := filepath.Join(t.TempDir(), "w.safetensors")
	if err := SaveMLP(path, m, th, map[string]string{"step": "12"}); err != nil {
		t.Fatal(err)
	}
	m2, th2, err := LoadMLP(path, GELU, MSE)
	if err != nil {
		t.Fatal(err)
	}
	if m2.String() != m.String() || !floats.Equal(th, th2) {
		t.Fatalf("round trip: %s vs %s, θ equal %v", m2, m, floats.Equal(th, th2))
	}
}

func TestFromTensorsErrors(t *testing.T) {
	m, _ := NewMLP([]int{3, 4, 2}, Tanh, CrossEntropy)
	th := make([]float64, m.NumParams())
	good := m.Tensors(th)
	for _, tc := range []struct {
		name string
		edit func(ts []Tensor) []Tensor
		want string
	}{
		{"foreign name", func(ts []Tensor) []Tensor { ts[0].Name = "fc1.weight"; return ts }, `"fc1.weight"`},
		{"missing bias", func(ts []Tensor) []Tensor { return append(ts[:1:1], ts[2:]...) }, "layers.0.bias is missing"},
		{"gap that breaks the chain", func(ts []Tensor) []Tensor {
			ts[2].Name, ts[3].Name = "layers.2.weight", "layers.2.bias"
			ts[2].Shape, ts[2].Data = []int{2, 3}, make([]float64, 6)
			return ts
		}, "does not match layers.0's output width 4"},
		{"bad bias shape", func(ts []Tensor) []Tensor { ts[1].Shape = []int{5}; return ts }, "layers.0.bias has shape [5], want [4]"},
		{"chain mismatch", func(ts []Tensor) []Tensor {
			ts[2].Shape, ts[2].Data = []int{2, 5}, make([]float64, 10)
			return ts
		}, "input width 5 does not match"},
		{"empty", func(ts []Tensor) []Tensor { return nil }, "no tensors"},
	} {
		ts := make([]Tensor, len(good))
		for i, g := range good {
			ts[i] = Tensor{Name: g.Name, Shape: append([]int(nil), g.Shape...), Data: append([]float64(nil), g.Data...)}
		}
		_, _, err := FromTensors(tc.edit(ts), Tanh, CrossEntropy)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
}

// nn.Sequential(Linear, Tanh, Linear) numbers its linear layers 0 and 2.
func TestFromTensorsSequentialNumbering(t *testing.T) {
	m, _ := NewMLP([]int{3, 4, 2}, Tanh, CrossEntropy)
	th := make([]float64, m.NumParams())
	m.Init(th, InitPyTorch, 2)
	ts := m.Tensors(th)
	ts[2].Name, ts[3].Name = "layers.2.weight", "layers.2.bias"
	m2, th2, err := FromTensors(ts, Tanh, CrossEntropy)
	if err != nil || m2.String() != "3-4-2 tanh" || !floats.Equal(th, th2) {
		t.Fatalf("Sequential numbering: %v %v", err, m2)
	}
}

// linear_f32.safetensors holds an F32 3-4-2 MLP in PyTorch layout (see testdata/mksafetensors.py):
// element k of a weight is (k − 5)/7, of a bias (k + 1)/3, rounded to float32.
func TestLoadMLPFromPyTorchLayout(t *testing.T) {
	m, th, err := LoadMLP(filepath.Join("testdata", "linear_f32.safetensors"), Tanh, CrossEntropy)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.String(); got != "3-4-2 tanh" {
		t.Fatalf("architecture %s, want 3-4-2 tanh", got)
	}
	w, b := m.Layer(th, 1)
	if w[7] != float64(float32(2.0/7)) || b[1] != float64(float32(2.0/3)) {
		t.Errorf("layers.1: weight[7] %v, bias[1] %v", w[7], b[1])
	}
}
