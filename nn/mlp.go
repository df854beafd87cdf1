package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// MLP is a fully connected network with widths [in, h₁, …, out]: linear layers
// i = 0 … L−1 map width Widths[i] to Widths[i+1], every layer but the last is followed by Act,
// and the output f feeds Loss.
//
// Parameters live in one flat vector θ of length NumParams, in PyTorch nn.Linear layout:
// for each layer i in order, the weight W_i as a row-major [out, in] matrix, then the bias
// b_i of length out. Gradients and Hessian-vector products use the same layout.
type MLP struct {
	Widths []int
	Act    Activation
	Loss   Loss
}

// NewMLP checks the widths and returns the network.
func NewMLP(widths []int, act Activation, loss Loss) (*MLP, error) {
	if len(widths) < 2 {
		return nil, fmt.Errorf("an MLP needs at least an input and an output width, got %v", widths)
	}
	for i, w := range widths {
		if w <= 0 {
			return nil, fmt.Errorf("width %d of %v is %d, want > 0", i, widths, w)
		}
	}
	if act < 0 || int(act) >= len(activationNames) {
		return nil, fmt.Errorf("unknown activation %d", int(act))
	}
	if loss < 0 || int(loss) >= len(lossNames) {
		return nil, fmt.Errorf("unknown loss %d", int(loss))
	}
	return &MLP{Widths: append([]int(nil), widths...), Act: act, Loss: loss}, nil
}

// ParseWidths reads widths written as "20-16-16-10" (or with commas or x).
func ParseWidths(s string) ([]int, error) {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == ',' || r == 'x' || r == ' ' })
	if len(f) < 2 {
		return nil, fmt.Errorf("widths %q: want at least two numbers like 20-16-10", s)
	}
	w := make([]int, len(f))
	for i, t := range f {
		n, err := strconv.Atoi(t)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("widths %q: %q is not a positive integer", s, t)
		}
		w[i] = n
	}
	return w, nil
}

// String returns the architecture as "20-16-16-10 tanh".
func (m *MLP) String() string {
	parts := make([]string, len(m.Widths))
	for i, w := range m.Widths {
		parts[i] = strconv.Itoa(w)
	}
	return strings.Join(parts, "-") + " " + m.Act.String()
}

// NumLayers is the number of linear layers L.
func (m *MLP) NumLayers() int { return len(m.Widths) - 1 }

// NumParams is P, the length of θ.
func (m *MLP) NumParams() int {
	p := 0
	for i := 0; i < m.NumLayers(); i++ {
		p += m.Widths[i+1]*m.Widths[i] + m.Widths[i+1]
	}
	return p
}

// offset returns where layer i's weight starts in θ.
func (m *MLP) offset(i int) int {
	p := 0
	for j := 0; j < i; j++ {
		p += m.Widths[j+1]*m.Widths[j] + m.Widths[j+1]
	}
	return p
}

// Layer returns views of layer i's weight W_i (row-major [out, in]) and bias b_i inside θ
// (or inside any vector in the same layout).
func (m *MLP) Layer(theta []float64, i int) (w, b []float64) {
	if len(theta) != m.NumParams() {
		panic(fmt.Sprintf("nn: len(theta)=%d, want P=%d", len(theta), m.NumParams()))
	}
	in, out := m.Widths[i], m.Widths[i+1]
	o := m.offset(i)
	return theta[o : o+out*in : o+out*in], theta[o+out*in : o+out*in+out : o+out*in+out]
}

// InitScheme names a random initialisation.
type InitScheme int

const (
	// InitPyTorch is nn.Linear's default: W and b uniform in ±1/√fan_in.
	InitPyTorch InitScheme = iota
	// InitNormal draws W from N(0, 1/fan_in) and sets b = 0.
	InitNormal
)

// ParseInit returns the scheme named "pytorch" or "normal".
func ParseInit(s string) (InitScheme, error) {
	switch strings.ToLower(s) {
	case "pytorch", "uniform", "default":
		return InitPyTorch, nil
	case "normal", "lecun":
		return InitNormal, nil
	}
	return 0, fmt.Errorf("unknown init %q (allowed: pytorch, normal)", s)
}

// Init fills θ with a seeded random initialisation.
func (m *MLP) Init(theta []float64, scheme InitScheme, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x1a17))
	for i := 0; i < m.NumLayers(); i++ {
		w, b := m.Layer(theta, i)
		bound := 1 / math.Sqrt(float64(m.Widths[i]))
		switch scheme {
		case InitPyTorch:
			for j := range w {
				w[j] = bound * (2*rng.Float64() - 1)
			}
			for j := range b {
				b[j] = bound * (2*rng.Float64() - 1)
			}
		case InitNormal:
			for j := range w {
				w[j] = bound * rng.NormFloat64()
			}
			clear(b)
		default:
			panic(fmt.Sprintf("nn: unknown init scheme %d", int(scheme)))
		}
	}
}

// check reports whether the data set fits the network.
func (m *MLP) check(data *Dataset) error {
	if err := data.Validate(); err != nil {
		return err
	}
	if data.D != m.Widths[0] {
		return fmt.Errorf("data set %q has %d features, the network's input width is %d", data.Name, data.D, m.Widths[0])
	}
	out := m.Widths[len(m.Widths)-1]
	if data.OutputDim() != out && !(data.Classes > 0 && data.Classes < out) {
		return fmt.Errorf("data set %q needs %d outputs, the network has %d", data.Name, data.OutputDim(), out)
	}
	if m.Loss == CrossEntropy && data.Classes == 0 {
		return fmt.Errorf("data set %q is a regression set: cross-entropy needs class labels (use --loss mse)", data.Name)
	}
	if data.N == 0 {
		return fmt.Errorf("data set %q has no examples", data.Name)
	}
	return nil
}
