package nn

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestColSums checks colSums bit for bit against the row-by-row sum it replaced (dst[j] += the
// rows' entries in order, from 0), for widths around its blocks of 8 and 2, on entries of very
// different sizes (so that a different order of the additions would show in the last bits).
func TestColSums(t *testing.T) {
	rnd := rand.New(rand.NewPCG(95, 1))
	for _, w := range []int{1, 2, 3, 7, 8, 9, 10, 16, 17, 19, 128, 200} {
		for _, n := range []int{0, 1, 5, 256} {
			a := make([]float64, n*w)
			for i := range a {
				a[i] = rnd.NormFloat64() * float64(int(1)<<rnd.IntN(40))
			}
			want := make([]float64, w)
			for r := range n {
				for j := range w {
					want[j] += a[r*w+j]
				}
			}
			got := make([]float64, w)
			for i := range got {
				got[i] = 7 // colSums overwrites
			}
			colSums(got, a, n, w)
			if !slices.Equal(got, want) {
				t.Fatalf("w=%d n=%d: %v, want %v", w, n, got, want)
			}
		}
	}
}

// BenchmarkColSums times colSums against the row-by-row loop on the demo net's chunk shapes
// (256 rows, 16 and 10 columns) and the song net's (256 × 200).
func BenchmarkColSums(b *testing.B) {
	for _, w := range []int{10, 16, 200} {
		a := make([]float64, 256*w)
		for i := range a {
			a[i] = float64(i%7) - 3
		}
		dst := make([]float64, w)
		b.Run(fmt.Sprintf("w=%d/rowwise", w), func(b *testing.B) {
			for b.Loop() {
				clear(dst)
				for r := range 256 {
					row := a[r*w : (r+1)*w]
					for j, v := range row {
						dst[j] += v
					}
				}
			}
		})
		b.Run(fmt.Sprintf("w=%d/colSums", w), func(b *testing.B) {
			for b.Loop() {
				colSums(dst, a, 256, w)
			}
		})
	}
}
