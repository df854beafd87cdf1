package nn

import (
	"fmt"
	"runtime"
	"sync"

	"sharpflat/internal/team"
)

// chunkRows is the number of examples each goroutine processes at a time. The split depends
// only on the batch size, never on GOMAXPROCS, and partial sums are added in chunk order, so
// results are bit-identical on any number of cores.
const chunkRows = 256

// Bound is the network at one point θ on one batch: it runs the forward and backward passes
// once, caches them, and then answers Hessian-, Gauss–Newton- and functional-vector products
// at the cost of the R-passes only.
//
//	H = ∇²L(θ) = G + F
//	G = (1/N) Σₓ Jₓᵀ H_ℓ Jₓ          (Gauss–Newton, positive semi-definite)
//	F = (1/N) Σₓ Σ_c ∂ℓ/∂f_c ∇²f_c   (functional part)
//
// With a weight decay λ (SetWeightDecay, decay.go) the objective is L + (λ/2)‖θ‖², and
// Loss, Grad, every product and the operators of Op are those of the objective.
//
// A Bound is not safe for concurrent use; it uses its own goroutines inside each call.
type Bound struct {
	m       *MLP
	theta   []float64 // a copy of θ
	data    *Dataset
	chunks  []*chunk
	loss    float64 // the data loss L, without the penalty
	acc     float64
	grad    []float64 // ∇L + λθ
	decay   float64   // λ of the L2 penalty (λ/2)‖θ‖²; 0: none
	penalty float64   // (λ/2)‖θ‖²
}

// Bind evaluates the network at θ on the batch and caches what curvature products need.
// θ is copied; data must stay unchanged while the Bound is used.
func (m *MLP) Bind(theta []float64, data *Dataset) (*Bound, error) {
	b := &Bound{m: m}
	if err := b.Rebind(theta, data); err != nil {
		return nil, err
	}
	return b, nil
}

// Rebind moves the Bound to a new point and batch, reusing its buffers when the batch has
// the same size.
func (b *Bound) Rebind(theta []float64, data *Dataset) error {
	if err := b.prepare(theta, data); err != nil {
		return err
	}
	b.parallel(func(c *chunk) { b.m.forward(c, b.theta, data, true) })
	b.reduce(b.grad, func(c *chunk) []float64 { return c.grad })
	b.sumLoss()
	b.decayAt(b.decay)
	return nil
}

func (b *Bound) prepare(theta []float64, data *Dataset) error {
	m := b.m
	if len(theta) != m.NumParams() {
		return fmt.Errorf("θ has %d entries, the %s network has P=%d", len(theta), m, m.NumParams())
	}
	if err := m.check(data); err != nil {
		return err
	}
	if b.data == nil || b.data.N != data.N {
		b.chunks = b.chunks[:0]
		for lo := 0; lo < data.N; lo += chunkRows {
			b.chunks = append(b.chunks, m.newChunk(lo, min(lo+chunkRows, data.N)))
		}
	}
	if b.theta == nil {
		b.theta = make([]float64, m.NumParams())
		b.grad = make([]float64, m.NumParams())
	}
	copy(b.theta, theta)
	b.data = data
	return nil
}

func (b *Bound) sumLoss() {
	b.loss, b.acc = 0, 0
	right := 0
	for _, c := range b.chunks {
		b.loss += c.loss
		right += c.right
	}
	if b.data.Classes > 0 {
		b.acc = float64(right) / float64(b.data.N)
	}
}

// parallel runs fn on every chunk, on the calling goroutine and up to GOMAXPROCS−1 helpers
// (internal/team): each chunk writes only its own buffers, so the bits do not depend on which
// goroutine ran it.
func (b *Bound) parallel(fn func(c *chunk)) {
	team.Run(len(b.chunks), func(i int) { fn(b.chunks[i]) })
}

// reduce stores the sum over chunks of part(c) in dst, in chunk order. The entries are split
// into ranges summed on up to GOMAXPROCS goroutines; each entry is still summed over the
// chunks in chunk order, so the result does not depend on the number of goroutines.
func (b *Bound) reduce(dst []float64, part func(c *chunk) []float64) {
	sum := func(lo, hi int) {
		copy(dst[lo:hi], part(b.chunks[0])[lo:hi])
		for _, c := range b.chunks[1:] {
			src := part(c)[lo:hi]
			d := dst[lo:hi]
			for j, v := range src {
				d[j] += v
			}
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(dst)/minReduce)
	if len(b.chunks) == 1 || workers <= 1 {
		sum(0, len(dst))
		return
	}
	step := (len(dst) + workers - 1) / workers
	team.Run(workers, func(w int) { sum(min(w*step, len(dst)), min((w+1)*step, len(dst))) })
}

// minReduce is the fewest entries a goroutine of reduce sums (chosen, not tuned: a smaller
// sum takes microseconds, the cost of starting a goroutine). On the song net (P = 199 210, 20
// chunks) two goroutines take the sum from 1.69 ms to 1.00 ms: it is memory-bound.
const minReduce = 1 << 14

// Model returns the network.
func (b *Bound) Model() *MLP { return b.m }

// Dim returns P.
func (b *Bound) Dim() int { return len(b.theta) }

// N returns the batch size.
func (b *Bound) N() int { return b.data.N }

// Loss returns the objective at θ: L(θ), the mean loss over the batch, plus (λ/2)‖θ‖²
// under a weight decay λ. DataLoss is L alone.
func (b *Bound) Loss() float64 {
	if b.decay == 0 {
		return b.loss
	}
	return b.loss + b.penalty
}

// Accuracy returns the fraction of examples whose largest output is the label
// (0 for regression).
func (b *Bound) Accuracy() float64 { return b.acc }

// Grad returns the gradient of the objective, ∇L(θ) + λθ under a weight decay λ (∇L(θ)
// without). The slice belongs to the Bound: do not modify it.
func (b *Bound) Grad() []float64 { return b.grad }

func (b *Bound) checkLen(name string, v []float64) {
	if len(v) != len(b.theta) {
		panic(fmt.Sprintf("nn: len(%s)=%d, want P=%d", name, len(v), len(b.theta)))
	}
}

// HVP stores H v in dst (exact, by the R-operator); (H + λI) v under a weight decay λ.
func (b *Bound) HVP(dst, v []float64) { b.HGFVP(dst, nil, nil, v) }

// GGNVP stores G v = Jᵀ H_ℓ J v / N in dst; (G + λI) v under a weight decay λ.
func (b *Bound) GGNVP(dst, v []float64) { b.HGFVP(nil, dst, nil, v) }

// FVP stores F v = H v − G v in dst (the same with or without weight decay).
func (b *Bound) FVP(dst, v []float64) { b.HGFVP(nil, nil, dst, v) }

// HGVP stores H v in hv and G v in gv, sharing one R-forward pass.
// Either destination may be nil, and its backward pass is skipped.
func (b *Bound) HGVP(hv, gv, v []float64) { b.HGFVP(hv, gv, nil, v) }

// HGFVP stores H v in hv, G v in gv and F v in fv, sharing one R-forward pass:
//
//	F v = H v − G v,
//
// the difference taken after the sums over the batch. Any destination may be nil; the
// backward passes that no destination needs are skipped.
func (b *Bound) HGFVP(hv, gv, fv, v []float64) {
	b.checkLen("v", v)
	for _, d := range [][]float64{hv, gv, fv} {
		if d != nil {
			b.checkLen("destination", d)
		}
	}
	hvOut, gvOut := hv, gv // the caller's: the decay's λv goes into these only
	needH, needG := hv != nil || fv != nil, gv != nil || fv != nil
	b.parallel(func(c *chunk) {
		b.m.allocR(c)
		b.m.rForward(c, b.theta, v, b.data.N)
		if needH {
			b.m.rBackward(c, b.theta, v)
		}
		if needG {
			b.m.rBackwardGGN(c, b.theta)
		}
	})
	if fv != nil {
		if hv == nil {
			hv = make([]float64, len(fv))
		}
		if gv == nil {
			gv = make([]float64, len(fv))
		}
	}
	if needH {
		b.reduce(hv, func(c *chunk) []float64 { return c.hv })
	}
	if needG {
		b.reduce(gv, func(c *chunk) []float64 { return c.gv })
	}
	if fv != nil {
		for i := range fv {
			fv[i] = hv[i] - gv[i] // F is the same with or without decay: λI is all Gauss–Newton
		}
	}
	if b.decay != 0 {
		b.shift(hvOut, v)
		b.shift(gvOut, v)
	}
}

// Curvature selects H, G or F.
type Curvature int

const (
	Hessian     Curvature = iota // H = ∇²L
	GaussNewton                  // G, the generalised Gauss–Newton matrix
	Functional                   // F = H − G
)

func (k Curvature) String() string {
	return [...]string{"H", "G", "F"}[k]
}

// Op returns H, G or F at the Bound's point as an operator (Dim, MulVecTo), the interface
// the eigensolvers in package linalg take.
func (b *Bound) Op(kind Curvature) CurvatureOp { return CurvatureOp{b: b, Kind: kind} }

// CurvatureOp is one of H, G, F as a symmetric linear operator.
type CurvatureOp struct {
	b    *Bound
	Kind Curvature
}

// Dim returns P.
func (o CurvatureOp) Dim() int { return o.b.Dim() }

// MulVecTo stores A x in dst for A = H, G or F.
func (o CurvatureOp) MulVecTo(dst, x []float64) {
	switch o.Kind {
	case Hessian:
		o.b.HVP(dst, x)
	case GaussNewton:
		o.b.GGNVP(dst, x)
	case Functional:
		o.b.FVP(dst, x)
	default:
		panic(fmt.Sprintf("nn: unknown curvature %d", int(o.Kind)))
	}
}

// Evaluate returns the mean loss and the accuracy (0 for regression) of the network at θ on
// the data, by a forward pass only. Memory stays at one chunk per goroutine, whatever N.
func (m *MLP) Evaluate(theta []float64, data *Dataset) (loss, acc float64, err error) {
	if len(theta) != m.NumParams() {
		return 0, 0, fmt.Errorf("θ has %d entries, the %s network has P=%d", len(theta), m, m.NumParams())
	}
	if err := m.check(data); err != nil {
		return 0, 0, err
	}
	nChunks := (data.N + chunkRows - 1) / chunkRows
	losses, rights := make([]float64, nChunks), make([]int, nChunks)
	workers := min(runtime.GOMAXPROCS(0), nChunks)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := m.newChunk(0, min(chunkRows, data.N))
			for i := w; i < nChunks; i += workers {
				c.lo, c.hi = i*chunkRows, min((i+1)*chunkRows, data.N)
				m.forward(c, theta, data, false)
				losses[i], rights[i] = c.loss, c.right
			}
		}()
	}
	wg.Wait()
	right := 0
	for i := range losses {
		loss += losses[i]
		right += rights[i]
	}
	if data.Classes > 0 {
		acc = float64(right) / float64(data.N)
	}
	return loss, acc, nil
}
