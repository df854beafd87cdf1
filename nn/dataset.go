package nn

import (
	"fmt"
	"math/rand/v2"
)

// Dataset holds N examples of D features each, row-major.
//
// A classification set has Classes > 0 and one label in [0, Classes) per example in Labels;
// a regression set has Classes == 0 and Out targets per example in Y.
type Dataset struct {
	Name    string
	N, D    int
	X       []float64 // (N, D)
	Classes int       // > 0: classification; 0: regression
	Labels  []int     // (N) when Classes > 0
	Out     int       // regression target width when Classes == 0
	Y       []float64 // (N, Out) when Classes == 0
}

// OutputDim is the width of the network output the data set asks for:
// the number of classes, or the regression target width.
func (d *Dataset) OutputDim() int {
	if d.Classes > 0 {
		return d.Classes
	}
	return d.Out
}

// Validate checks that the slices agree with the declared sizes.
func (d *Dataset) Validate() error {
	if d.N < 0 || d.D <= 0 {
		return fmt.Errorf("dataset %q: bad size N=%d D=%d", d.Name, d.N, d.D)
	}
	if len(d.X) != d.N*d.D {
		return fmt.Errorf("dataset %q: len(X)=%d, want N*D=%d", d.Name, len(d.X), d.N*d.D)
	}
	if d.Classes > 0 {
		if len(d.Labels) != d.N {
			return fmt.Errorf("dataset %q: len(Labels)=%d, want N=%d", d.Name, len(d.Labels), d.N)
		}
		for i, c := range d.Labels {
			if c < 0 || c >= d.Classes {
				return fmt.Errorf("dataset %q: label %d of example %d outside [0,%d)", d.Name, c, i, d.Classes)
			}
		}
		return nil
	}
	if d.Out <= 0 || len(d.Y) != d.N*d.Out {
		return fmt.Errorf("dataset %q: regression targets: Out=%d len(Y)=%d, want N*Out=%d", d.Name, d.Out, len(d.Y), d.N*d.Out)
	}
	return nil
}

// Subset returns a new data set holding the examples idx, in that order (copied).
func (d *Dataset) Subset(idx []int) Dataset {
	s := Dataset{Name: d.Name, N: len(idx), D: d.D, Classes: d.Classes, Out: d.Out}
	s.X = make([]float64, len(idx)*d.D)
	for r, i := range idx {
		copy(s.X[r*d.D:(r+1)*d.D], d.X[i*d.D:(i+1)*d.D])
	}
	if d.Classes > 0 {
		s.Labels = make([]int, len(idx))
		for r, i := range idx {
			s.Labels[r] = d.Labels[i]
		}
	} else {
		s.Y = make([]float64, len(idx)*d.Out)
		for r, i := range idx {
			copy(s.Y[r*d.Out:(r+1)*d.Out], d.Y[i*d.Out:(i+1)*d.Out])
		}
	}
	return s
}

// Split shuffles the examples with the seed and returns the first round(frac·N) as train and
// the rest as test.
func (d *Dataset) Split(frac float64, seed uint64) (train, test Dataset) {
	perm := rand.New(rand.NewPCG(seed, 0x5eed5911)).Perm(d.N)
	nTrain := int(frac*float64(d.N) + 0.5)
	return d.Subset(perm[:nTrain]), d.Subset(perm[nTrain:])
}
