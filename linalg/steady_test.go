package linalg_test

// Per-step eigenspace refreshes at steady state, on the networks the lab
// trains: the demo preset and the MNIST protocol of Song, Ahn & Yun. These
// are benchmarks, not tests: they train for a while and run many
// eigensolves (BENCHMARKS.md quotes them with their commands).
//
// Symbols: P parameters, k wanted pairs (K), S the Hessian set, η the
// learning rate, B the batch size.

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"sharpflat/linalg"
	"sharpflat/nn"
)

// steadyNet is a network trained by plain SGD (w_dom = w_bulk = 1, so the
// trajectory does not depend on the refreshes) with its Hessian set.
type steadyNet struct {
	model       *nn.MLP
	theta       []float64  // P
	train, hess nn.Dataset // minibatches come from train; H is ∇²L_S
	batch       int        // B
	eta         float64    // η
	warmup      int        // SGD steps before the first refresh

	rng  *rand.Rand
	perm []int
	pos  int
}

// demoNet is the lab's demo preset (lab/config.go): a 10-class Gaussian
// mixture, D = 20, N = 1500 with a third held out, MLP 20-16-16-10 tanh,
// cross-entropy, PyTorch init, seed 1 (P = 778); SGD with η = 0.1, B = 32;
// S = the 1000 training examples.
func demoNet(tb testing.TB) *steadyNet {
	all := nn.GaussianMixture(1500, 20, 10, 1)
	train, _ := all.Split(1-1.0/3, 1)
	return newSteadyNet(tb, []int{20, 16, 16, 10}, nn.CrossEntropy, train, train, 32, 0.1, 100)
}

// songNet is the MNIST protocol of Song, Ahn & Yun (ICLR 2025): the first
// 5000 MNIST training images, MLP 784-200-200-10 tanh, MSE, PyTorch init,
// seed 1 (P = 199 210); SGD with η = 0.05, B = 50; S = the first hessN of
// the 5000 images. It needs the GoMNIST module in the module cache.
func songNet(tb testing.TB, hessN int) *steadyNet {
	dir, err := nn.MNISTModuleDir()
	if err != nil {
		tb.Skip(err)
	}
	full, _, err := nn.LoadMNIST(dir)
	if err != nil {
		tb.Fatal(err)
	}
	idx := make([]int, 5000)
	for i := range idx {
		idx[i] = i
	}
	train := full.Subset(idx)
	hess := train.Subset(idx[:hessN])
	return newSteadyNet(tb, []int{784, 200, 200, 10}, nn.MSE, train, hess, 50, 0.05, 50)
}

func newSteadyNet(tb testing.TB, widths []int, loss nn.Loss, train, hess nn.Dataset, batch int, eta float64, warmup int) *steadyNet {
	m, err := nn.NewMLP(widths, nn.Tanh, loss)
	if err != nil {
		tb.Fatal(err)
	}
	theta := make([]float64, m.NumParams())
	m.Init(theta, nn.InitPyTorch, 1)
	return &steadyNet{model: m, theta: theta, train: train, hess: hess, batch: batch, eta: eta, warmup: warmup,
		rng: rand.New(rand.NewPCG(1, 0x5d))}
}

// sgdStep takes one step θ ← θ − η ∇L_B(θ) on the next minibatch (epochs of
// a seeded permutation, as the lab draws them).
func (s *steadyNet) sgdStep(tb testing.TB) {
	if s.perm == nil || s.pos+s.batch > len(s.perm) {
		s.perm, s.pos = s.rng.Perm(s.train.N), 0
	}
	b := s.train.Subset(s.perm[s.pos : s.pos+s.batch])
	s.pos += s.batch
	bound, err := s.model.Bind(s.theta, &b)
	if err != nil {
		tb.Fatal(err)
	}
	floats.AddScaled(s.theta, -s.eta, bound.Grad())
}

// hessian binds H = ∇²L_S at the current θ into *bound.
func (s *steadyNet) hessian(tb testing.TB, bound **nn.Bound) linalg.Operator {
	var err error
	if *bound == nil {
		*bound, err = s.model.Bind(s.theta, &s.hess)
	} else {
		err = (*bound).Rebind(s.theta, &s.hess)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return (*bound).Op(nn.Hessian)
}

// trueResiduals returns the worst ‖H yᵢ − θᵢ yᵢ‖/σ of r's pairs from
// explicit products, and how many of them exceed tol.
func trueResiduals(op linalg.Operator, r *linalg.EigResult, tol float64) (worst float64, over int) {
	hy := make([]float64, op.Dim())
	for i, y := range r.Vectors {
		op.MulVecTo(hy, y)
		floats.AddScaled(hy, -r.Values[i], y)
		res := floats.Norm(hy, 2) / r.Scale
		worst = max(worst, res)
		if res > tol {
			over++
		}
	}
	return worst, over
}

// BenchmarkSteadyState runs per-step refreshes of the top K eigenpairs of
// the Hessian (Tol 1e-6, residuals from the Krylov–Schur relation: what the
// lab's scheduled refreshes ask for), each warm started from the previous
// step's pairs, after the SGD warm-up of the net, and reports per refresh:
//
//	products/refresh  mean operator products (max-products the largest)
//	cold-products     the same refresh by a cold Lanczos, for comparison
//	worst-res/tol     the worst true ‖Hy − θy‖/σ (explicit products) over
//	                  Tol: up to rounding the residual the solver reported,
//	                  itself ≤ Tol; pairs-over-tol counts the true
//	                  residuals above Tol (by rounding)
//	worst-Δλ/λ/1e-9   the worst |θᵢ − θᵢ(cold)|/|θᵢ(cold)| over 1e-9, cold
//	                  Lanczos with the same options on the same θ
//	overlap           mean ‖V_oldᵀ V_new‖²_F / K between successive refreshes
//
// Methods: "lanczos" is Eigensolver.Refine (Lanczos from the sum of the
// previous vectors, the memory kept); "block" is block Krylov–Schur from
// all K previous vectors (Refine with BlockSize K); on the demo, "blockp"
// is block Lanczos from p sums of the previous vectors (BlockSize p). The first refresh
// (cold, at the end of the warm-up) is not counted. Checks against the
// cold run and the explicit residuals happen every check-th refresh.
// song uses a Hessian set of 1000 images (songS5000: the protocol's 5000).
func BenchmarkSteadyState(b *testing.B) {
	type net struct {
		name         string
		build        func(testing.TB) *steadyNet
		steps, check int
	}
	nets := []net{
		{"demo", demoNet, 100, 1},
		{"song", func(tb testing.TB) *steadyNet { return songNet(tb, 1000) }, 30, 5},
		{"songS5000", func(tb testing.TB) *steadyNet { return songNet(tb, 5000) }, 10, 5},
	}
	for _, n := range nets {
		for _, k := range []int{10, 11} {
			for _, method := range []string{"lanczos", "block", "block2", "block3", "block5"} {
				if n.name == "songS5000" && method != "lanczos" || n.name != "demo" && len(method) > 5 {
					continue
				}
				b.Run(n.name+"/K="+strconv.Itoa(k)+"/"+method, func(b *testing.B) {
					for b.Loop() {
						steadyState(b, n.build(b), k, method, n.steps, n.check)
					}
				})
			}
		}
	}
}

func steadyState(b *testing.B, net *steadyNet, k int, method string, steps, check int) {
	for range net.warmup {
		net.sgdStep(b)
	}
	opt := linalg.EigOptions{K: k, Tol: 1e-6, Seed: 1, EstimateResiduals: true}
	switch method {
	case "block":
		opt.BlockSize = k
	case "block2", "block3", "block5":
		opt.BlockSize = int(method[5] - '0')
	}
	var bound *nn.Bound
	var s linalg.Eigensolver
	var cur, next linalg.EigResult
	if err := s.Lanczos(&cur, net.hessian(b, &bound), opt); err != nil {
		b.Fatal(err)
	}
	var products, maxProducts, cold, colds, over int
	var worstRes, worstVal, overlap float64
	for step := 1; step <= steps; step++ {
		net.sgdStep(b)
		op := net.hessian(b, &bound)
		if err := s.Refine(&next, op, cur.Vectors, opt); err != nil {
			b.Fatalf("step %d: %v", step, err)
		}
		products += next.Products
		maxProducts = max(maxProducts, next.Products)
		overlap += linalg.Overlap(cur.Vectors, next.Vectors)
		for i, r := range next.Residuals {
			if r > opt.Tol*next.Scale {
				b.Fatalf("step %d: pair %d reported residual %.3g·σ > Tol", step, i, r/next.Scale)
			}
		}
		if step%check == 0 {
			res, n := trueResiduals(op, &next, opt.Tol)
			worstRes, over = max(worstRes, res), over+n
			c, err := linalg.Lanczos(op, linalg.EigOptions{K: k, Tol: 1e-6, Seed: 2, EstimateResiduals: true})
			if err != nil {
				b.Fatal(err)
			}
			cold += c.Products
			colds++
			for i, v := range c.Values {
				worstVal = max(worstVal, math.Abs(next.Values[i]-v)/math.Abs(v))
			}
		}
		cur, next = next, cur
	}
	b.ReportMetric(float64(products)/float64(steps), "products/refresh")
	b.ReportMetric(float64(maxProducts), "max-products")
	b.ReportMetric(float64(cold)/float64(colds), "cold-products")
	b.ReportMetric(worstRes/opt.Tol, "worst-res/tol")
	b.ReportMetric(float64(over), "pairs-over-tol")
	b.ReportMetric(worstVal/1e-9, "worst-Δλ/λ/1e-9")
	b.ReportMetric(overlap/float64(steps), "overlap")
}

// BenchmarkSteadyBudget measures why a steady-state refresh cannot cost
// 1.5·K products at Tol 1e-6. At each of the steps, from the previous
// step's converged pairs V (K of them):
//
//	rr-res/σ       worst residual of the Rayleigh–Ritz pairs from span(V):
//	               what the previous basis is worth on the new Hessian
//	               (K products)
//	rr-σmin/σ      the smallest singular value of the residual block
//	               R = (I − VVᵀ) H V, over σ: every one of the K
//	               directions must be corrected by that much at least
//	lanczos@1.5K   worst residual estimate/σ of Refine stopped after
//	               ⌊1.5K⌋ products
//	block@2K       the same for block Krylov–Schur from all of V after
//	               2K products (its minimum budget, K+BlockSize)
//
// (medians over the steps, the worst in …-max), and the spectrum around
// λ_K at the last step.
func BenchmarkSteadyBudget(b *testing.B) {
	for _, n := range []struct {
		name  string
		build func(testing.TB) *steadyNet
		steps int
	}{
		{"demo", demoNet, 40},
		{"song", func(tb testing.TB) *steadyNet { return songNet(tb, 1000) }, 8},
	} {
		for _, k := range []int{10, 11} {
			b.Run(n.name+"/K="+strconv.Itoa(k), func(b *testing.B) {
				for b.Loop() {
					steadyBudget(b, n.build(b), k, n.steps)
				}
			})
		}
	}
}

func steadyBudget(b *testing.B, net *steadyNet, k, steps int) {
	for range net.warmup {
		net.sgdStep(b)
	}
	opt := linalg.EigOptions{K: k, Tol: 1e-6, Seed: 1, EstimateResiduals: true}
	var bound *nn.Bound
	prev, err := linalg.Lanczos(net.hessian(b, &bound), opt)
	if err != nil {
		b.Fatal(err)
	}
	var rr, smin, single, block []float64
	worstEst := func(r linalg.EigResult) float64 { return slices.Max(r.Residuals) / r.Scale }
	for range steps {
		net.sgdStep(b)
		op := net.hessian(b, &bound)
		res, smallest := rayleighRitz(op, prev.Vectors)
		rr = append(rr, res)
		smin = append(smin, smallest)
		o := opt
		o.MaxProducts = 3 * k / 2
		r, err := linalg.Refine(op, prev.Vectors, o)
		if err != nil && !errors.Is(err, linalg.ErrNotConverged) {
			b.Fatal(err)
		}
		single = append(single, worstEst(r))
		o.MaxProducts, o.BlockSize = 2*k, k
		r, err = linalg.Refine(op, prev.Vectors, o)
		if err != nil && !errors.Is(err, linalg.ErrNotConverged) {
			b.Fatal(err)
		}
		block = append(block, worstEst(r))
		if prev, err = linalg.Refine(op, prev.Vectors, opt); err != nil {
			b.Fatal(err)
		}
	}
	// The spectrum around λ_K at the last step: λ_K, λ_{K+1}, λ_{K+2} and
	// λ_min, and the relative gap (λ_K − λ_{K+1})/(λ_{K+1} − λ_min) that
	// rules how fast λ_K's vector separates from the bulk.
	op := net.hessian(b, &bound)
	top, err := linalg.Lanczos(op, linalg.EigOptions{K: k + 2, Tol: 1e-8, Seed: 3})
	if err != nil {
		b.Fatal(err)
	}
	neg := linalg.Func{N: op.Dim(), Mul: func(dst, x []float64) { op.MulVecTo(dst, x); floats.Scale(-1, dst) }}
	bottom, err := linalg.Lanczos(neg, linalg.EigOptions{K: 1, Tol: 1e-8, Seed: 3})
	if err != nil {
		b.Fatal(err)
	}
	lk, lk1, lk2, lmin := top.Values[k-1], top.Values[k], top.Values[k+1], -bottom.Values[0]
	b.ReportMetric(lk, "λK")
	b.ReportMetric(lk1, "λK+1")
	b.ReportMetric(lk2, "λK+2")
	b.ReportMetric(lmin, "λmin")
	b.ReportMetric((lk-lk1)/(lk1-lmin), "gap")
	for _, m := range []struct {
		name string
		x    []float64
	}{{"rr-res/σ", rr}, {"rr-σmin/σ", smin}, {"lanczos@1.5K", single}, {"block@2K", block}} {
		slices.Sort(m.x)
		b.ReportMetric(m.x[len(m.x)/2], m.name)
		b.ReportMetric(m.x[len(m.x)-1], m.name+"-max")
	}
}

// rayleighRitz returns, for the orthonormal V (K vectors), the worst
// residual ‖H yᵢ − θᵢ yᵢ‖/σ of the Rayleigh–Ritz pairs from span(V), and
// the smallest singular value of R = (I − VVᵀ) H V over σ = max |θᵢ|.
func rayleighRitz(op linalg.Operator, V [][]float64) (worstRes, sigmaMin float64) {
	k, n := len(V), op.Dim()
	hv := make([][]float64, k)
	for i := range V {
		hv[i] = make([]float64, n)
		op.MulVecTo(hv[i], V[i])
	}
	t := mat.NewSymDense(k, nil) // Vᵀ H V
	for i := range k {
		for j := i; j < k; j++ {
			t.SetSym(i, j, floats.Dot(V[i], hv[j]))
		}
	}
	var e mat.EigenSym
	if !e.Factorize(t, true) {
		panic("Rayleigh–Ritz: eigendecomposition failed")
	}
	theta := e.Values(nil)
	var s mat.Dense
	e.VectorsTo(&s)
	sigma := max(math.Abs(theta[0]), math.Abs(theta[k-1]))
	// The residual of pair c is H V s_c − θ_c V s_c; R's columns are
	// H vᵢ − V (Vᵀ H vᵢ).
	res := make([]float64, n)
	for c := range k {
		clear(res)
		for i := range k {
			floats.AddScaled(res, s.At(i, c), hv[i])
			floats.AddScaled(res, -theta[c]*s.At(i, c), V[i])
		}
		worstRes = max(worstRes, floats.Norm(res, 2)/sigma)
	}
	r := make([][]float64, k)
	for i := range k {
		r[i] = slices.Clone(hv[i])
		for j := range k {
			floats.AddScaled(r[i], -t.At(j, i), V[j])
		}
	}
	g := mat.NewSymDense(k, nil) // RᵀR; its eigenvalues are R's singular values squared
	for i := range k {
		for j := i; j < k; j++ {
			g.SetSym(i, j, floats.Dot(r[i], r[j]))
		}
	}
	var ge mat.EigenSym
	if !ge.Factorize(g, false) {
		panic("RᵀR: eigendecomposition failed")
	}
	return worstRes, math.Sqrt(max(0, ge.Values(nil)[0])) / sigma
}

// timedOp is an Operator that adds up the time spent in its products.
type timedOp struct {
	op linalg.Operator
	d  time.Duration
}

func (t *timedOp) Dim() int { return t.op.Dim() }
func (t *timedOp) MulVecTo(dst, x []float64) {
	t0 := time.Now()
	t.op.MulVecTo(dst, x)
	t.d += time.Since(t0)
}

// BenchmarkDemoRefresh times 20 successive per-step refreshes of the demo
// at steady state (K = 10, Tol 1e-6, estimated residuals, each warm started
// from the one before) and splits their time between the Hessian-vector
// products and the solver's own work (Gram–Schmidt, Ritz steps, rotations,
// allocation):
//
//	hvp-ms/refresh, solver-ms/refresh  and  solver-share = solver/(solver+hvp)
//
// and ritz-steps/refresh. "Refine" is the package function (a fresh basis
// each call), "Eigensolver" the same iteration in kept memory, and
// "Eigensolver-every" the same with a Ritz step after every expansion, as
// before the schedule.
func BenchmarkDemoRefresh(b *testing.B) {
	net := demoNet(b)
	for range net.warmup {
		net.sgdStep(b)
	}
	opt := linalg.EigOptions{K: 10, Tol: 1e-6, Seed: 1, EstimateResiduals: true}
	var bound *nn.Bound
	start, err := linalg.Lanczos(net.hessian(b, &bound), opt)
	if err != nil {
		b.Fatal(err)
	}
	thetas := make([][]float64, 20)
	for i := range thetas {
		net.sgdStep(b)
		thetas[i] = slices.Clone(net.theta)
	}
	for _, method := range []string{"Refine", "Eigensolver", "Eigensolver-every"} {
		b.Run(method, func(b *testing.B) {
			var s linalg.Eigensolver
			linalg.RitzEveryStep(&s, method == "Eigensolver-every")
			var cur, next linalg.EigResult
			var solver, hvp time.Duration
			var products, refreshes, ritz int
			for b.Loop() {
				// cur starts as a copy of start (an Eigensolver writes
				// into the vectors it is given back).
				cur.Vectors = cur.Vectors[:0]
				for _, v := range start.Vectors {
					cur.Vectors = append(cur.Vectors, slices.Clone(v))
				}
				for _, th := range thetas {
					copy(net.theta, th)
					op := &timedOp{op: net.hessian(b, &bound)}
					t0 := time.Now()
					if method == "Refine" {
						next, err = linalg.Refine(op, cur.Vectors, opt)
					} else {
						err = s.Refine(&next, op, cur.Vectors, opt)
					}
					solver += time.Since(t0) - op.d
					hvp += op.d
					if err != nil {
						b.Fatal(err)
					}
					products += next.Products
					ritz += linalg.RitzSteps(&s)
					refreshes++
					if method == "Refine" {
						cur = next
					} else {
						cur, next = next, cur
					}
				}
			}
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(refreshes) }
			b.ReportMetric(ms(hvp), "hvp-ms/refresh")
			b.ReportMetric(ms(solver), "solver-ms/refresh")
			b.ReportMetric(float64(solver)/float64(solver+hvp), "solver-share")
			b.ReportMetric(float64(products)/float64(refreshes), "products/refresh")
			if method != "Refine" {
				b.ReportMetric(float64(ritz)/float64(refreshes), "ritz-steps/refresh")
			}
		})
	}
}
