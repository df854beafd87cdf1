package train

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"sharpflat/nn"
)

// loadData builds the training and test sets of a config, seeded: the data, split, then
// mapped through the config's input features.
func loadData(c *Config) (train, test nn.Dataset, err error) {
	train, test, err = PlaneData(c)
	if err != nil {
		return train, test, err
	}
	if msg := checkFeatures(c, train.D); msg != "" {
		return train, test, fmt.Errorf("invalid configuration:\n  %s", msg)
	}
	return c.Features.Apply(train), c.Features.Apply(test), nil
}

// PlaneData builds the training and test sets of a config as loadData does but without the
// input features: for 2-D data, the raw points (x₁, x₂) whose features the network reads,
// row for row. The lab's pictures are drawn over this plane.
func PlaneData(c *Config) (train, test nn.Dataset, err error) {
	switch {
	case isFileData(c.Data):
		all, err := nn.LoadCSV(c.Data)
		if err != nil {
			return train, test, err
		}
		train, test = all.Split(1-c.TestFrac, c.Seed)
	case c.Data == "mnist5k":
		train, test, err = nn.MNISTEmbedded()
		if err != nil {
			return train, test, err
		}
	case isMNIST(c.Data):
		train, test, err = nn.MNISTSubset()
		if err != nil {
			return train, test, err
		}
		if c.Data == "mnist14" {
			train, test = nn.Downsample14(train), nn.Downsample14(test)
		}
	default:
		all, err := nn.SyntheticNoise(c.Data, c.N, noiseSigma(c), c.Seed)
		if err != nil {
			return train, test, syntheticError(err)
		}
		train, test = all.Split(1-c.TestFrac, c.Seed)
	}
	if train.N == 0 {
		return train, test, fmt.Errorf("data %q: no training examples", c.Data)
	}
	return train, test, nil
}

// syntheticError is loadData's error for synthetic data nn cannot generate (an unknown name).
func syntheticError(err error) error {
	return fmt.Errorf("data: %w (or mnist, mnist14, mnist5k, a .csv path)", err)
}

// syntheticSets are the synthetic data sets, as DataSets lists them.
var syntheticSets = []string{"gaussian", "moons", "spirals", "circles", "xor", "teacher"}

// DataSets returns the names of the built-in data sets, in the order a panel cycles through
// them: the synthetic sets, then the MNIST subsets.
func DataSets() []string {
	return append(slices.Clone(syntheticSets), "mnist", "mnist14", "mnist5k")
}

// DataInputs is the number of inputs of a built-in data set, known from its name alone, and
// false for a CSV file or an unknown name (a setup panel says whether features apply).
func DataInputs(data string) (int, bool) { return knownInputs(data) }

// knownInputs is the number of inputs of a built-in data set, known from its name alone
// (a synthetic set from a probe of one example), and false for a CSV file or an unknown name.
func knownInputs(data string) (int, bool) {
	switch {
	case isFileData(data):
		return 0, false
	case data == "mnist14":
		return 14 * 14, true
	case isMNIST(data):
		return 28 * 28, true
	}
	probe, err := nn.Synthetic(data, 1, 0)
	if err != nil {
		return 0, false
	}
	return probe.D, true
}

// RunData rebuilds a run's data from its config (data, n, test fraction and seed make it
// deterministic): the training set, the test set and the Hessian set S.
func RunData(c *Config) (train, test, hess nn.Dataset, err error) {
	train, test, err = loadData(c)
	if err != nil {
		return train, test, hess, err
	}
	return train, test, hessianSet(&train, c.HessianSet, c.Seed), nil
}

// DefaultHessianSet caps S when the config leaves its size at 0.
const DefaultHessianSet = 2048

// hessianSet returns S: a fixed seeded subsample of the training set of the given size, all
// of it when size is at least N; size 0 means all of it up to DefaultHessianSet examples.
func hessianSet(train *nn.Dataset, size int, seed uint64) nn.Dataset {
	if size == 0 {
		size = DefaultHessianSet
	}
	if size >= train.N {
		return *train
	}
	return Subsample(train, size, seed)
}

// Subsample returns a seeded random subset of n examples (all of them when n ≥ N).
func Subsample(d *nn.Dataset, n int, seed uint64) nn.Dataset {
	if n >= d.N {
		return *d
	}
	perm := rand.New(rand.NewPCG(seed, 0x4e55)).Perm(d.N)[:n]
	return d.Subset(perm)
}

// widthsOf is the layer widths of the config's network on its training data.
func widthsOf(c *Config, train *nn.Dataset) []int {
	widths := append([]int{train.D}, c.Hidden...)
	return append(widths, train.OutputDim())
}

// BuildModel returns the network for the config and its training data, and its seeded
// initial θ.
func BuildModel(c *Config, train *nn.Dataset) (*nn.MLP, []float64, error) {
	m, err := nn.NewMLP(widthsOf(c, train), c.Act, c.Loss)
	if err != nil {
		return nil, nil, err
	}
	if err := checkLoss(c, train.Classes); err != nil {
		return nil, nil, err
	}
	theta := make([]float64, m.NumParams())
	m.Init(theta, c.Init, c.Seed)
	return m, theta, nil
}

// checkLoss refuses cross-entropy on a regression set (classes 0).
func checkLoss(c *Config, classes int) error {
	if c.Loss == nn.CrossEntropy && classes == 0 {
		return fmt.Errorf("data %q is a regression set: use --loss mse", c.Data)
	}
	return nil
}

func describeData(c *Config, train, test *nn.Dataset) string {
	name := c.Data
	if isFileData(name) {
		name = name[strings.LastIndexAny(name, "/\\")+1:]
	}
	return fmt.Sprintf("%s (%d train, %d test)", name, train.N, test.N)
}
