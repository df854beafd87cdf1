package train

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"sharpflat/nn"
)

// loadData builds the training and test sets of a config, seeded.
func loadData(c *Config) (train, test nn.Dataset, err error) {
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
		all, err := nn.Synthetic(c.Data, c.N, c.Seed)
		if err != nil {
			return train, test, fmt.Errorf("data: %v (or mnist, mnist14, mnist5k, a .csv path)", err)
		}
		train, test = all.Split(1-c.TestFrac, c.Seed)
	}
	if train.N == 0 {
		return train, test, fmt.Errorf("data %q: no training examples", c.Data)
	}
	return train, test, nil
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
	if c.Loss == nn.CrossEntropy && train.Classes == 0 {
		return nil, nil, fmt.Errorf("data %q is a regression set: use --loss mse", c.Data)
	}
	theta := make([]float64, m.NumParams())
	m.Init(theta, c.Init, c.Seed)
	return m, theta, nil
}

func describeData(c *Config, train, test *nn.Dataset) string {
	name := c.Data
	if isFileData(name) {
		name = name[strings.LastIndexAny(name, "/\\")+1:]
	}
	return fmt.Sprintf("%s (%d train, %d test)", name, train.N, test.N)
}
