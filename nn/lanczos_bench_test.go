package nn

import (
	"math/rand/v2"
	"testing"
	"time"

	"sharpflat/linalg"
)

// timedOp is an operator that adds the time spent in its products.
type timedOp struct {
	op       linalg.Operator
	products int
	spent    time.Duration
}

func (t *timedOp) Dim() int { return t.op.Dim() }
func (t *timedOp) MulVecTo(dst, x []float64) {
	t0 := time.Now()
	t.op.MulVecTo(dst, x)
	t.spent += time.Since(t0)
	t.products++
}

// BenchmarkLanczosMNIST is the Lanczos of `sharpflat bench --net mnist`: the top 10 of the
// Hessian of 784-128-128-10 tanh cross-entropy at its PyTorch initialisation (seed 1), on the
// bench's 1024 MNIST images, to relative residual 1e-8 from a random start. solver-share is
// the share of the time spent outside the Hessian-vector products: the basis work
// (Gram–Schmidt, rotations), the Ritz steps and the residual checks' bookkeeping; built with
// -tags sftiming, basis-share is the basis work's alone (linalg/timing.go).
func BenchmarkLanczosMNIST(b *testing.B) {
	mnist, _, err := MNISTSubset()
	if err != nil {
		b.Fatal(err)
	}
	// train.Subsample(&mnist, 1024, 1), as the bench command draws it.
	data := mnist.Subset(rand.New(rand.NewPCG(1, 0x4e55)).Perm(mnist.N)[:1024])
	m, err := NewMLP([]int{784, 128, 128, 10}, Tanh, CrossEntropy)
	if err != nil {
		b.Fatal(err)
	}
	theta := make([]float64, m.NumParams())
	m.Init(theta, InitPyTorch, 1)
	bd, err := m.Bind(theta, &data)
	if err != nil {
		b.Fatal(err)
	}
	op := &timedOp{op: bd.Op(Hessian)}
	basis0 := linalg.BasisWork()
	for b.Loop() {
		if _, err := linalg.Lanczos(op, linalg.EigOptions{K: 10, Tol: 1e-8, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(op.products)/float64(b.N), "HVPs/op")
	b.ReportMetric(1-op.spent.Seconds()/b.Elapsed().Seconds(), "solver-share")
	if basis := linalg.BasisWork() - basis0; basis > 0 { // built with -tags sftiming
		b.ReportMetric(basis.Seconds()/b.Elapsed().Seconds(), "basis-share")
	}
}
