package gemm

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// The shapes sharpflat's networks run, per 256-row chunk (nn splits batches into chunks of
// 256 examples): forward z = x Wᵀ (NT), weight gradient ∂W = δᵀ a (TN), input gradient δ W (NN).
var benchShapes = []struct {
	name    string
	tA, tB  blas.Transpose
	m, n, k int
}{
	{"mnist-fwd1/NT/256x128x784", blas.NoTrans, blas.Trans, 256, 128, 784},
	{"mnist-fwd2/NT/256x128x128", blas.NoTrans, blas.Trans, 256, 128, 128},
	{"mnist-fwd3/NT/256x10x128", blas.NoTrans, blas.Trans, 256, 10, 128},
	{"mnist-dW1/TN/128x784x256", blas.Trans, blas.NoTrans, 128, 784, 256},
	{"mnist-dW2/TN/128x128x256", blas.Trans, blas.NoTrans, 128, 128, 256},
	{"mnist-dW3/TN/10x128x256", blas.Trans, blas.NoTrans, 10, 128, 256},
	{"mnist-dx2/NN/256x128x128", blas.NoTrans, blas.NoTrans, 256, 128, 128},
	{"mnist-dx3/NN/256x128x10", blas.NoTrans, blas.NoTrans, 256, 128, 10},
	{"song-fwd1/NT/256x200x784", blas.NoTrans, blas.Trans, 256, 200, 784},
	{"song-dW1/TN/200x784x256", blas.Trans, blas.NoTrans, 200, 784, 256},
	{"song-dx2/NN/256x200x200", blas.NoTrans, blas.NoTrans, 256, 200, 200},
	{"song-grad-fwd1/NT/50x200x784", blas.NoTrans, blas.Trans, 50, 200, 784},
	{"song-grad-dW1/TN/200x784x50", blas.Trans, blas.NoTrans, 200, 784, 50},
	{"demo-fwd1/NT/256x16x20", blas.NoTrans, blas.Trans, 256, 16, 20},
	{"demo-fwd3/NT/256x10x16", blas.NoTrans, blas.Trans, 256, 10, 16},
	{"demo-dW1/TN/16x20x256", blas.Trans, blas.NoTrans, 16, 20, 256},
	{"demo-dW3/TN/10x16x256", blas.Trans, blas.NoTrans, 10, 16, 256},
	{"demo-dx2/NN/256x16x16", blas.NoTrans, blas.NoTrans, 256, 16, 16},
	{"square/NN/512x512x512", blas.NoTrans, blas.NoTrans, 512, 512, 512},
}

// BenchmarkDgemm reports GFLOP/s (2·m·n·k a product) of gonum's DGEMM and of each kernel
// on the shapes above, single-threaded.
func BenchmarkDgemm(b *testing.B) {
	impls := []struct {
		name string
		f    func(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int)
	}{{"gonum", reference.Dgemm}}
	for _, kern := range kernels() {
		impls = append(impls, struct {
			name string
			f    func(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int)
		}{kern.name, func(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
			dgemm(kern, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		}})
	}
	for _, s := range benchShapes {
		rng := rand.New(rand.NewPCG(1, 1))
		tc := gemmCase{tA: s.tA, tB: s.tB, m: s.m, n: s.n, k: s.k, alpha: 1}
		a, lda, bm, ldb, c, ldc := tc.operands(rng)
		for _, im := range impls {
			b.Run(fmt.Sprintf("%s/%s", s.name, im.name), func(b *testing.B) {
				for b.Loop() {
					im.f(s.tA, s.tB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, ldc)
				}
				b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
