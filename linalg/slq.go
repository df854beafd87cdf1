package linalg

// Symbols used in this file:
//
//	n    order of the operator (Dim)
//	n_v  number of probes (SLQOptions.Probes)
//	m    Lanczos steps per probe (SLQOptions.Steps, at most n)
//	j    current step of one probe's Lanczos run

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"sharpflat/internal/gemm"
)

// SLQOptions configures SLQ.
type SLQOptions struct {
	// Probes is n_v, the number of Rademacher probes; at least 1 (2 or more for a standard
	// error in Moment).
	Probes int

	// Steps is m, the number of Lanczos steps (operator products) per probe; at least 1,
	// capped at Dim. A probe ends earlier only on a breakdown (an invariant subspace).
	Steps int

	// Seed seeds the PCG generator of the probes: the same seed on operators of the same
	// order draws the same probes.
	Seed uint64

	// Cancel, if not nil, is called before every operator product. If it returns true SLQ
	// makes no more products and returns an error wrapping ErrCanceled, with the probes
	// finished so far. It runs on SLQ's goroutine and should be cheap.
	Cancel func() bool
}

// Quadrature is the Gauss quadrature of each probe of SLQ. Nodes[i] are the Ritz values of
// probe i's m×m tridiagonal T (ascending), Weights[i] the squared first components of T's
// eigenvectors (they sum to 1). The spectral density estimate is
//
//	φ(λ) ≈ (1/n_v) Σᵢ Σⱼ Weights[i][j] δ(λ − Nodes[i][j]).
type Quadrature struct {
	// Dim is the order n of the operator.
	Dim int

	// Nodes holds, for each probe, the Ritz values θ_j in ascending order (m of them, fewer
	// after a breakdown).
	Nodes [][]float64

	// Weights holds, for each probe, τ_j², the squared first components of the unit
	// eigenvectors of T, in the order of Nodes; they sum to 1.
	Weights [][]float64

	// Products is the number of operator products spent.
	Products int
}

// breakdownTol is the relative size of β_j below which the Krylov space of a probe is taken
// to be invariant: full reorthogonalisation leaves rounding noise of order ε‖A‖√j, so 1e-12
// is far above it and far below any coupling that would move a node by more than 1e-12‖A‖.
const breakdownTol = 1e-12

// SLQ estimates the spectral density of the symmetric operator A by stochastic Lanczos
// quadrature: for each of n_v Rademacher probes z (entries ±1), m steps of Lanczos from
// q₁ = z/√n with full reorthogonalisation give the tridiagonal
//
//	T = Q_mᵀ A Q_m,  T sⱼ = θⱼ sⱼ,  τⱼ = e₁ᵀ sⱼ,
//
// and Gauss quadrature for the spectral measure μ of A seen from q₁,
//
//	q₁ᵀ f(A) q₁ = ∫ f dμ ≈ Σⱼ τⱼ² f(θⱼ),
//
// exact for polynomials f of degree below 2m. Since E[zzᵀ] = I, the normalised trace is
//
//	tr f(A)/n = E[q₁ᵀ f(A) q₁] ≈ (1/n_v) Σᵢ Σⱼ τᵢⱼ² f(θᵢⱼ),
//
// and the spectral density (1/n) Σ_k δ(λ − λ_k) is estimated by the discrete measure with
// mass τᵢⱼ²/n_v at each node θᵢⱼ (Quadrature.Density smooths it). The extreme nodes converge
// to λ_max and λ_min first, as in any Lanczos run.
//
// Each step makes one product w = A qⱼ, then
//
//	αⱼ = qⱼᵀ w,  w ← w − αⱼ qⱼ − βⱼ₋₁ qⱼ₋₁,
//
// removes from w its components along q₁ … qⱼ by classical Gram–Schmidt twice (as matrix–
// vector products on the stored basis), and sets βⱼ = ‖w‖, qⱼ₊₁ = w/βⱼ. A breakdown, βⱼ below
// 1e-12 of the largest |α|, β seen, means q₁ lies in an invariant subspace: the probe ends
// with the j nodes found, which then integrate μ exactly; it is not an error.
//
// The probes run one after the other (an Operator need not be safe for concurrent use, and
// the products of nn's operators already use every core); the Gram–Schmidt sweeps run on
// every core with the same bits whatever their number, so the result depends only on the
// operator and the options. SLQ panics if Probes or Steps is below 1. A
// NaN or infinity from the operator stops it with an error wrapping ErrNotFinite; Cancel
// stops it with ErrCanceled. Memory is m+1 vectors of length n.
//
// References:
//
//	S. Ubaru, J. Chen and Y. Saad, Fast estimation of tr(f(A)) via stochastic Lanczos
//	quadrature, SIAM J. Matrix Anal. Appl. 38(4) (2017) 1075–1099.
//	B. Ghorbani, S. Krishnan and Y. Xiao, An investigation into neural net optimization
//	via Hessian eigenvalue density, ICML 2019.
//	Z. Yao, A. Gholami, K. Keutzer and M. W. Mahoney, PyHessian: Neural networks through
//	the lens of the Hessian, IEEE BigData 2020.
//	G. H. Golub and G. Meurant, Matrices, Moments and Quadrature with Applications,
//	Princeton University Press 2010 (Gauss quadrature from Lanczos).
func SLQ(op Operator, opt SLQOptions) (Quadrature, error) {
	if opt.Probes < 1 || opt.Steps < 1 {
		panic(fmt.Sprintf("linalg: SLQ: Probes = %d, Steps = %d, want both ≥ 1", opt.Probes, opt.Steps))
	}
	n := op.Dim()
	q := Quadrature{Dim: n}
	if n == 0 {
		return q, nil
	}
	s := newSLQRun(n, min(opt.Steps, n))
	rd := newRademacher(opt.Seed)
	for i := 0; i < opt.Probes; i++ {
		rd.fill(s.basis[:n])
		floats.Scale(1/math.Sqrt(float64(n)), s.basis[:n])
		nodes, weights, err := s.probe(op, opt.Cancel, &q.Products, opt.Probes*s.m)
		if err != nil {
			return q, err
		}
		q.Nodes = append(q.Nodes, nodes)
		q.Weights = append(q.Weights, weights)
	}
	return q, nil
}

// slqRun holds the memory of one probe's Lanczos run, reused by the next probe.
type slqRun struct {
	n, m   int
	basis  []float64 // (m+1)×n row-major: row j is q_{j+1}
	w      []float64 // the new direction, length n
	alpha  []float64 // diagonal of T
	beta   []float64 // off-diagonal of T
	tridia []float64 // T as a dense m×m matrix for the eigendecomposition

	// The Gram–Schmidt sweeps (reorthogonalize): the coordinates are cut into parts of
	// slqPartRows, each part's dots Q_c w_c stored at c·m in dots and summed in part order.
	parts  int
	k      int       // basis rows in the sweep
	update bool      // the sweep first sets w_c ← w_c − Q_cᵀ g
	dots   bool      // the sweep stores Q_c w_c
	g      []float64 // the coefficients of the update, length m
	dotBuf []float64 // parts × m: part c's Q_c w_c at c·m
	runner partRunner
}

// slqPartRows is the number of coordinates of a part of a Gram–Schmidt sweep: 80 basis rows
// of 512 coordinates are 320 KiB, which stay in a core's L2 cache between the update of the
// first pass and the dots of the second.
const slqPartRows = 512

func newSLQRun(n, m int) *slqRun {
	parts := (n + slqPartRows - 1) / slqPartRows
	return &slqRun{
		n: n, m: m,
		basis:  make([]float64, (m+1)*n),
		w:      make([]float64, n),
		alpha:  make([]float64, m),
		beta:   make([]float64, m),
		parts:  parts,
		g:      make([]float64, m),
		dotBuf: make([]float64, parts*m),
	}
}

// probe runs Lanczos from the unit vector in row 0 of the basis and returns the Gauss
// quadrature of T. products counts the products of every probe; total is the planned number
// for the messages.
func (s *slqRun) probe(op Operator, cancel func() bool, products *int, total int) (nodes, weights []float64, err error) {
	n := s.n
	w := s.w
	scale := 0.0 // the largest |α|, β seen
	j := 0       // steps done: T is j×j
	for j < s.m {
		if cancel != nil && cancel() {
			return nil, nil, fmt.Errorf("%w after %d of %d products", ErrCanceled, *products, total)
		}
		qj := s.basis[j*n : (j+1)*n]
		op.MulVecTo(w, qj)
		*products++
		if ww := floats.Dot(w, w); math.IsNaN(ww) || math.IsInf(ww, 0) {
			return nil, nil, fmt.Errorf("%w (after %d products)", ErrNotFinite, *products)
		}
		// αⱼ = qⱼᵀ w; the three-term recurrence, then the full reorthogonalisation, which
		// also removes the rounding the recurrence leaves.
		a := floats.Dot(qj, w)
		s.alpha[j] = a
		floats.AddScaled(w, -a, qj)
		if j > 0 {
			floats.AddScaled(w, -s.beta[j-1], s.basis[(j-1)*n:j*n])
		}
		s.reorthogonalize(j + 1)
		b := floats.Norm(w, 2)
		scale = math.Max(scale, math.Max(math.Abs(a), b))
		j++
		if j == s.m || b <= breakdownTol*scale {
			break
		}
		s.beta[j-1] = b
		floats.ScaleTo(s.basis[j*n:(j+1)*n], 1/b, w)
	}
	nodes, weights = s.gauss(j)
	return nodes, weights, nil
}

// reorthogonalize removes from w its components along the first k basis vectors by
// classical Gram–Schmidt, twice (CGS2),
//
//	g₁ = Q w,  w ← w − Qᵀ g₁,  g₂ = Q w,  w ← w − Qᵀ g₂,
//
// in three sweeps over the parts of the coordinates (the first update and the second dots
// share one, while Q_c is in the cache), on every core (parallel.go). The dots
// are summed over the parts in part order on this goroutine, so the bits depend on n alone,
// not on the number of cores.
func (s *slqRun) reorthogonalize(k int) {
	s.k = k
	g := s.g[:k]
	for _, update := range []bool{false, true} {
		s.update, s.dots = update, true
		s.runner.run(s, s.parts)
		clear(g)
		for c := range s.parts {
			floats.Add(g, s.dotBuf[c*s.m:c*s.m+k])
		}
	}
	s.update, s.dots = true, false
	s.runner.run(s, s.parts)
}

// sweep runs parts [lo, hi) of the current Gram–Schmidt sweep (a sweeper).
func (s *slqRun) sweep(lo, hi int) {
	n, k := s.n, s.k
	for c := lo; c < hi; c++ {
		c0 := c * slqPartRows
		cw := min(slqPartRows, n-c0)
		wc := s.w[c0 : c0+cw]
		if s.update {
			gemm.GemvTSub(k, cw, s.basis[c0:], n, s.g, wc) // w_c ← w_c − Q_cᵀ g
		}
		if s.dots {
			gemm.Gemv(k, cw, s.basis[c0:], n, wc, s.dotBuf[c*s.m:]) // Q_c w_c
		}
	}
}

// gauss returns the eigenvalues of the j×j tridiagonal T (ascending) and the squared first
// components of its unit eigenvectors, normalised to sum to 1.
func (s *slqRun) gauss(j int) (nodes, weights []float64) {
	if cap(s.tridia) < j*j {
		s.tridia = make([]float64, s.m*s.m)
	}
	t := s.tridia[:j*j]
	clear(t)
	for i := 0; i < j; i++ {
		t[i*j+i] = s.alpha[i]
		if i+1 < j {
			t[i*j+i+1] = s.beta[i]
			t[(i+1)*j+i] = s.beta[i]
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(mat.NewSymDense(j, t), true) {
		// Dsyev failed to converge on a small symmetric matrix: not seen in practice; keep
		// the diagonal as a first-order quadrature rather than fail the whole estimate.
		nodes = append([]float64(nil), s.alpha[:j]...)
		weights = make([]float64, j)
		weights[0] = 1
		return nodes, weights
	}
	nodes = eig.Values(nil)
	var v mat.Dense
	eig.VectorsTo(&v)
	weights = make([]float64, j)
	sum := 0.0
	for k := range weights {
		tau := v.At(0, k)
		weights[k] = tau * tau
		sum += weights[k]
	}
	floats.Scale(1/sum, weights)
	return nodes, weights
}

// Density is the quadrature smoothed by a Gaussian of standard deviation sigma,
//
//	φ_σ(λ) = (1/n_v) Σᵢ Σⱼ τᵢⱼ² exp(−(λ − θᵢⱼ)²/2σ²) / (σ√(2π)),
//
// evaluated on grid (ascending) and normalised so that its trapezoid integral over the grid
// is 1 (mass outside the grid is dropped, and the rest rescaled). If no mass reaches the grid
// the result is all zeros. Density panics if sigma is not positive.
func (q Quadrature) Density(grid []float64, sigma float64) []float64 {
	if !(sigma > 0) {
		panic(fmt.Sprintf("linalg: Density: sigma = %g, want > 0", sigma))
	}
	d := make([]float64, len(grid))
	nv := float64(len(q.Nodes))
	c := 1 / (sigma * math.Sqrt(2*math.Pi) * nv)
	for i, nodes := range q.Nodes {
		for j, theta := range nodes {
			w := q.Weights[i][j] * c
			for g, x := range grid {
				u := (x - theta) / sigma
				if u > -40 && u < 40 {
					d[g] += w * math.Exp(-u*u/2)
				}
			}
		}
	}
	if area := trapezoid(grid, d); area > 0 {
		floats.Scale(1/area, d)
	}
	return d
}

// trapezoid is the trapezoid rule for ∫ y dx on the points (x, y).
func trapezoid(x, y []float64) float64 {
	s := 0.0
	for i := 1; i < len(x); i++ {
		s += (x[i] - x[i-1]) * (y[i] + y[i-1]) / 2
	}
	return s
}

// Moment estimates the normalised trace tr(Aᵖ)/Dim as the mean over probes of
// Σⱼ τⱼ² θⱼᵖ, with its standard error over the probes (zero with one probe). Each probe's
// sum is exact, q₁ᵀAᵖq₁, for p < 2m, so the error is that of Hutchinson's estimator.
func (q Quadrature) Moment(p int) Estimate {
	var acc Welford
	for i, nodes := range q.Nodes {
		s := 0.0
		for j, theta := range nodes {
			s += q.Weights[i][j] * math.Pow(theta, float64(p))
		}
		acc.Add(s)
	}
	return acc.Estimate()
}

// Range is the smallest and largest node over all probes (NaN, NaN without nodes).
func (q Quadrature) Range() (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, nodes := range q.Nodes {
		for _, theta := range nodes {
			lo = math.Min(lo, theta)
			hi = math.Max(hi, theta)
		}
	}
	if lo > hi {
		return math.NaN(), math.NaN()
	}
	return lo, hi
}

// W1 is the 1-Wasserstein distance between the quadrature's discrete measure (mass
// τᵢⱼ²/n_v at θᵢⱼ) and the spectrum eigs (mass 1/len(eigs) at each value),
//
//	W₁ = ∫ |F_q(λ) − F_eigs(λ)| dλ,
//
// computed exactly: both distribution functions are steps, so the integral is a sum over the
// merged support. It measures SLQ against a dense eigendecomposition in tests.
func (q Quadrature) W1(eigs []float64) float64 {
	type atom struct{ x, m float64 } // m > 0 for q, < 0 for eigs
	var atoms []atom
	nv := float64(len(q.Nodes))
	for i, nodes := range q.Nodes {
		for j, x := range nodes {
			atoms = append(atoms, atom{x, q.Weights[i][j] / nv})
		}
	}
	for _, x := range eigs {
		atoms = append(atoms, atom{x, -1 / float64(len(eigs))})
	}
	slices.SortFunc(atoms, func(a, b atom) int { return cmp.Compare(a.x, b.x) })
	w, diff := 0.0, 0.0 // diff = F_q − F_eigs just right of the previous atom
	for i, a := range atoms {
		if i > 0 {
			w += math.Abs(diff) * (a.x - atoms[i-1].x)
		}
		diff += a.m
	}
	return w
}
