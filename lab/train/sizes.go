package train

import (
	"fmt"
	"strings"

	"sharpflat/nn"
)

// checkSizes refuses settings that do not fit the data and the network: a minibatch or a
// Hessian set larger than the training set, a Dominant subspace as large as the parameter
// space. Validate cannot check them: they depend on the data (and so on a CSV file).
func checkSizes(c *Config, train *nn.Dataset, p float64) error {
	var errs []string
	if c.Batch > train.N {
		errs = append(errs, fmt.Sprintf("batch: %d, but the training set has %d examples (0: full batch)", c.Batch, train.N))
	}
	if c.HessianSet > train.N {
		errs = append(errs, fmt.Sprintf("hessian-set: %d, but the training set has %d examples (0: all of them up to %d)", c.HessianSet, train.N, DefaultHessianSet))
	}
	if float64(c.K) >= p {
		errs = append(errs, fmt.Sprintf("k: %d, but the network has %.0f parameters: the Dominant subspace must be smaller (k < P)", c.K, p))
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid configuration for data %s:\n  %s", c.Data, strings.Join(errs, "\n  "))
	}
	return nil
}
