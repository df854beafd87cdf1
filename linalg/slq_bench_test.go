package linalg

import (
	"fmt"
	"testing"
)

// BenchmarkSLQOverhead measures SLQ's own work per product (the full reorthogonalisation
// against the stored basis and the m×m eigenproblem of each probe), 10 probes × 80 steps on a
// diagonal operator whose products are nearly free, at the demo's, the mnist preset's and
// the song preset's P. Compare ns/product with the cost of one Hessian-vector product.
func BenchmarkSLQOverhead(b *testing.B) {
	for _, n := range []int{778, 7690, 199210} {
		d := make(diagOp, n)
		for i := range d {
			d[i] = float64(i%97) / 97
		}
		b.Run(fmt.Sprintf("P=%d", n), func(b *testing.B) {
			products := 0
			for b.Loop() {
				q, err := SLQ(d, SLQOptions{Probes: 10, Steps: 80, Seed: 1})
				if err != nil {
					b.Fatal(err)
				}
				products += q.Products
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(products), "ns/product")
		})
	}
}
