package linalg

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// Cancel stops the energies within one product, whatever the number of probes asked for:
// with 2⁶² probes (a run that would never end) it fires after n products, counted by the
// operator itself, and CancelableEnergyFunc returns ErrCanceled having made exactly n, in
// the exact part (n ≤ k) and in the Hutchinson loop. A cancel that never fires gives
// EnergyFunc's result bit for bit.
func TestEnergyCancel(t *testing.T) {
	rnd := rand.New(rand.NewPCG(61, 2))
	n := 60
	H := NewDense(goe(n, rnd))
	V := randomBasis(4, n, rnd)
	products := 0
	mul := func(dst [][]float64, z []float64) { products++; H.MulVecTo(dst[0], z) }
	for _, stopAt := range []int{0, 2, 4, 5, 37} {
		products = 0
		res, err := CancelableEnergyFunc(n, 1, V, math.MaxInt>>1, 7, mul, func() bool { return products >= stopAt })
		if !errors.Is(err, ErrCanceled) || res != nil || products != stopAt {
			t.Errorf("cancel after %d products: %d products, %v, result %v", stopAt, products, err, res)
		}
	}
	want := EnergyFunc(n, 1, V, 30, 7, mul)
	got, err := CancelableEnergyFunc(n, 1, V, 30, 7, mul, func() bool { return false })
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("a cancel that never fires: %+v, %v; EnergyFunc %+v", got, err, want)
	}
}
