package linalg

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"gonum.org/v1/gonum/floats"
)

// blockedOn makes every solve run the blocked, parallel basis work (basis.go), with parts
// of the given width so that small operators are cut into many parts, and returns the undo.
func blockedOn(parts int) func() {
	m, pm, p := blockedMin, parallelMin, partRows
	blockedMin, parallelMin, partRows = 1, 1, parts
	return func() { blockedMin, parallelMin, partRows = m, pm, p }
}

// TestBlockedBasisAgainstDense runs the solver tests that check pairs against a dense
// eigendecomposition (or a known spectrum), the Krylov–Schur relation through expansions and
// thick restarts, and the steady-state allocations again, with the blocked basis work cut
// into parts of 64 (≥ 3 parts for every operator): the same references and tolerances.
func TestBlockedBasisAgainstDense(t *testing.T) {
	defer blockedOn(64)()
	for _, c := range []struct {
		name string
		f    func(*testing.T)
	}{
		{"GOE", TestLanczosGOE},
		{"HessianSpectrum", TestLanczosHessianSpectrum},
		{"RepeatedAndClustered", TestLanczosRepeatedAndClustered},
		{"BlockMultiplicity", TestLanczosBlockMultiplicity},
		{"NegativeDominant", TestLanczosNegativeDominant},
		{"KAtLeastDim", TestLanczosKAtLeastDim},
		{"Diagonal", TestLanczosDiagonal},
		{"InvariantSubspaces", TestLanczosInvariantSubspaces},
		{"EstimateResiduals", TestLanczosEstimateResiduals},
		{"KrylovSchurRelation", TestKrylovSchurRelation},
		{"RefineWarmVsCold", TestRefineWarmVsCold},
		{"RefineReordered", TestRefineReordered},
		{"RefineBlock", TestRefineBlock},
		{"EigensolverMatchesRefine", TestEigensolverMatchesRefine},
		{"EigensolverOwnership", TestEigensolverOwnership},
		{"EigensolverAllocs", TestEigensolverAllocs},
	} {
		if c.name == "EigensolverAllocs" && raceEnabled {
			continue // the race detector's bookkeeping of the sweeps' synchronisation allocates
		}
		t.Run(c.name, c.f)
	}
}

// TestBlockedOrthogonalize checks one blocked CGS2 against its definition: w loses its
// components along the basis to rounding (‖Qᵀw‖ ≤ 1e-15‖w‖ after, ‖QᵀQ − I‖ of [Q w/‖w‖]),
// the coefficients and norms agree with the serial CGS2 (loops of dots and axpys), including
// a w so nearly in span(Q) that a third pass runs.
func TestBlockedOrthogonalize(t *testing.T) {
	defer blockedOn(96)()
	rnd := rand.New(rand.NewPCG(81, 1))
	n, nq := 1000, 23 // 11 parts, the last short
	ks := newKrylovSchur(diagOp(make([]float64, n)), EigOptions{K: 10, MaxBasis: 30, Seed: 81}, "test")
	for i := range nq {
		for r := range ks.q[i] {
			ks.q[i][r] = rnd.NormFloat64()
		}
	}
	orthonormalized(ks.q[:nq])
	for _, near := range []float64{1, 1e-9} {
		w := ks.q[nq]
		for r := range w {
			w[r] = near * rnd.NormFloat64()
		}
		for i := range nq {
			floats.AddScaled(w, float64(i+1), ks.q[i])
		}
		want := slices.Clone(w)
		wantH := make([]float64, nq)
		wantBefore, wantAfter := orthogonalize(want, ks.q[:nq], wantH, make([]float64, nq))
		h := make([]float64, nq)
		before, after := ks.orthogonalize(w, nq, h)
		if math.Abs(before-wantBefore) > 1e-14*wantBefore || math.Abs(after-wantAfter) > 1e-12*wantBefore {
			t.Errorf("near %g: norms %v, %v; serial %v, %v", near, before, after, wantBefore, wantAfter)
		}
		for i := range h {
			if math.Abs(h[i]-wantH[i]) > 1e-13*wantBefore {
				t.Errorf("near %g: h[%d] = %v, serial %v", near, i, h[i], wantH[i])
			}
		}
		for r := range w {
			if math.Abs(w[r]-want[r]) > 1e-13*wantBefore {
				t.Fatalf("near %g: w[%d] = %v, serial %v", near, r, w[r], want[r])
			}
		}
		floats.Scale(1/after, w)
		if e := orthonormalityError(ks.q[:nq+1]); e > 1e-14 {
			t.Errorf("near %g: ‖[Q w]ᵀ[Q w] − I‖max = %.3g", near, e)
		}
	}
}

// TestBlockedBitsAcrossCores checks that a solve with blocked basis work (47 parts of 64, so
// the goroutines' ranges differ with their number) gives the same bits on 1, 2 and 3 cores:
// values, vectors, residuals, products. Thick restarts (MaxBasis 12) runs the rotation.
func TestBlockedBitsAcrossCores(t *testing.T) {
	defer blockedOn(64)()
	lam, a := shuffledHessianDiag(82)
	opt := EigOptions{K: 8, Tol: 1e-9, MaxBasis: 12, Seed: 82}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var want EigResult
	for _, procs := range []int{1, 2, 3} {
		runtime.GOMAXPROCS(procs)
		r, err := Lanczos(a, opt)
		if err != nil {
			t.Fatal(err)
		}
		if r.Restarts == 0 {
			t.Fatal("no thick restart: the rotation is not tested")
		}
		if procs == 1 {
			want = r
			// The reference: the largest entries of the diagonal.
			checkPairs(t, r, nil, nil, lam[:8], 1e-12, 0)
			continue
		}
		sameBits(t, fmt.Sprintf("GOMAXPROCS=%d", procs), "on one core", r, want)
	}
}

// TestDeferredRestartSameBits checks that a thick restart whose rotation waits for the next
// product and is made part by part in its first sweep (restart, sweepRestart) gives the bits
// of the rotation made at once (rotate), then the expansion: values, vectors, residuals,
// products and restarts, for the arrow of many couplings (the update sweep follows each
// part's rotation) and for a few (K = 2, MaxBasis 4: the rows update follows it), with the
// basis work on every core in parts of 64, and serially on the default parts.
func TestDeferredRestartSameBits(t *testing.T) {
	lam, a := shuffledHessianDiag(85)
	for _, c := range []struct {
		name  string
		parts int // 0: the default
		opt   EigOptions
	}{
		{"arrow/parts of 64", 64, EigOptions{K: 8, Tol: 1e-10, MaxBasis: 10, Seed: 85}},
		{"arrow/default parts (serial: n < parallelMin)", 0, EigOptions{K: 8, Tol: 1e-10, MaxBasis: 10, Seed: 85}},
		{"few couplings/parts of 64", 64, EigOptions{K: 2, Tol: 1e-9, MaxBasis: 4, Seed: 85}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.parts > 0 {
				defer blockedOn(c.parts)()
			}
			solve := func(deferred bool) EigResult {
				defer func(d bool) { deferRestarts = d }(deferRestarts)
				deferRestarts = deferred
				r, err := Lanczos(a, c.opt)
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			want, got := solve(false), solve(true)
			t.Logf("%d restarts, %d products", want.Restarts, want.Products)
			if want.Restarts < 2 {
				t.Fatalf("%d thick restarts: the deferred rotation is not tested", want.Restarts)
			}
			sameBits(t, "deferred", "rotated at once", got, want)
			// The reference: the largest entries of the diagonal.
			checkPairs(t, got, nil, nil, lam[:c.opt.K], 1e-9, 0)
		})
	}
}

// TestFullPassGuessSameBits checks that the guess of subtractKnown, whether the full pass
// follows, changes no bits: a solve that guesses yes at every expansion (dots made early and
// often not used) and one that guesses no (the full pass makes its own dots) give the bits
// of the solve that guesses with fullPassLikely, on the parts of 64 (every core) and on the
// default ones (serially). fullPassLikely must have guessed both ways.
func TestFullPassGuessSameBits(t *testing.T) {
	lam, a := shuffledHessianDiag(86)
	opt := EigOptions{K: 6, Tol: 1e-11, MaxBasis: 10, Seed: 86}
	for _, parts := range []int{64, 0} {
		t.Run(fmt.Sprintf("parts=%d", parts), func(t *testing.T) {
			if parts > 0 {
				defer blockedOn(parts)()
			}
			solve := func(guess func(*krylovSchur, int, float64) bool) (EigResult, int) {
				defer func(g func(*krylovSchur, int, float64) bool) { guessFullPass = g }(guessFullPass)
				guessFullPass = guess
				var s Eigensolver
				var r EigResult
				if err := s.solve(&r, a, nil, opt, "Lanczos"); err != nil {
					t.Fatal(err)
				}
				return r, s.ks.fullPasses
			}
			var yes, no int
			want, passes := solve(func(ks *krylovSchur, j int, beta float64) bool {
				g := ks.fullPassLikely(j, beta)
				if g {
					yes++
				} else {
					no++
				}
				return g
			})
			t.Logf("%d full passes, %d restarts, %d products; guessed %d yes, %d no", passes, want.Restarts, want.Products, yes, no)
			if yes == 0 || no == 0 || want.Restarts == 0 {
				t.Fatalf("guessed %d yes, %d no; %d restarts: the guess is not tested both ways", yes, no, want.Restarts)
			}
			for name, guess := range map[string]func(*krylovSchur, int, float64) bool{
				"yes": func(*krylovSchur, int, float64) bool { return true },
				"no":  func(*krylovSchur, int, float64) bool { return false },
			} {
				got, _ := solve(guess)
				sameBits(t, "guess "+name, "with fullPassLikely", got, want)
			}
			checkPairs(t, want, nil, nil, lam[:opt.K], 1e-10, 0)
		})
	}
}

// shuffledHessianDiag returns a Hessian-like spectrum of 3000 values, descending, and the
// diagonal operator with those values in a random order, both drawn from the seed.
func shuffledHessianDiag(seed uint64) ([]float64, diagOp) {
	rnd := rand.New(rand.NewPCG(seed, 1))
	lam := hessianSpectrum(3000, 8, 10, 30, 0.9, 0.5, 0.2, rnd)
	a := make(diagOp, len(lam))
	copy(a, lam)
	rnd.Shuffle(len(a), func(i, j int) { a[i], a[j] = a[j], a[i] })
	return lam, a
}

// sameBits fails the test unless got (a solve described by what) and want (by ref) have the
// same products, restarts, values, residuals and vectors, bit for bit.
func sameBits(t *testing.T, what, ref string, got, want EigResult) {
	t.Helper()
	if got.Products != want.Products || got.Restarts != want.Restarts ||
		!slices.Equal(got.Values, want.Values) || !slices.Equal(got.Residuals, want.Residuals) {
		t.Fatalf("%s: %d products, %d restarts, values %v, residuals %v; %s: %d, %d, %v, %v", what,
			got.Products, got.Restarts, got.Values, got.Residuals, ref, want.Products, want.Restarts, want.Values, want.Residuals)
	}
	for i := range got.Vectors {
		if !slices.Equal(got.Vectors[i], want.Vectors[i]) {
			t.Fatalf("%s: vector %d differs from the solve %s", what, i, ref)
		}
	}
}

// BenchmarkOrthogonalize times one CGS2 of a vector against a basis of 30 orthonormal
// vectors of length P = 778 (the demo net: 187 kB, in L2), 118 282 (the MNIST bench net; the
// basis is 28 MB) and 199 210 (the song net, 48 MB): serial (loops of gonum dots and axpys)
// and blocked (basis.go).
func BenchmarkOrthogonalize(b *testing.B) {
	for _, n := range []int{778, 118_282, 199_210} {
		rnd := rand.New(rand.NewPCG(83, 1))
		nq := 30
		ks := newKrylovSchur(diagOp(make([]float64, n)), EigOptions{K: 10, MaxBasis: 40, Seed: 83}, "bench")
		for i := range nq + 1 {
			for r := range ks.q[i] {
				ks.q[i][r] = rnd.NormFloat64()
			}
		}
		orthonormalized(ks.q[:nq])
		w0 := slices.Clone(ks.q[nq])
		h := make([]float64, nq)
		for _, mode := range []string{"serial", "blocked"} {
			b.Run(fmt.Sprintf("P=%d/%s", n, mode), func(b *testing.B) {
				if mode == "blocked" {
					defer blockedOn(partRows)()
				} else {
					m := blockedMin
					blockedMin = n + 1
					defer func() { blockedMin = m }()
				}
				for b.Loop() {
					copy(ks.q[nq], w0)
					ks.orthogonalize(ks.q[nq], nq, h)
				}
				b.ReportMetric(float64(3*nq*n*8)/b.Elapsed().Seconds()*float64(b.N)/1e9, "GB/s")
			})
		}
	}
}

// TestOrthogonalizeAx checks the p = 1 orthogonalisation against its definition on a
// constructed w = A x: orthogonal to the basis to rounding after, the coefficients those of
// w along the basis (known by construction), ‖A x‖ returned as before. The couplings given
// are right (one nonzero: the Lanczos case), dense (a thick restart's arrow, past
// sparseCoupling: the sweep), or wrong (zero while w has large components along the basis:
// the full pass removes nearly all of w, so DGKS's criterion must call the second pass).
func TestOrthogonalizeAx(t *testing.T) {
	for _, parts := range []int{partRows, 96} {
		func() {
			defer blockedOn(parts)()
			rnd := rand.New(rand.NewPCG(85, 1))
			n, j := 1000, 17
			ks := newKrylovSchur(diagOp(make([]float64, n)), EigOptions{K: 10, MaxBasis: 30, Seed: 85}, "test")
			for i := range j + 1 {
				for r := range ks.q[i] {
					ks.q[i][r] = rnd.NormFloat64()
				}
			}
			orthonormalized(ks.q[:j+1])
			for _, tc := range []struct {
				name   string
				couple func(i int) float64 // the coefficient of qᵢ in w, i < j
				given  func(i int) float64 // the coupling orthogonalizeAx is told
				near   float64             // the size of w's part outside the basis
			}{
				{"lanczos", func(i int) float64 { return b2f(i == j-1) * 0.7 }, func(i int) float64 { return b2f(i == j-1) * 0.7 }, 1},
				{"arrow", func(i int) float64 { return float64(i+1) / 10 }, func(i int) float64 { return float64(i+1) / 10 }, 1},
				{"wrong", func(i int) float64 { return float64(i + 1) }, func(int) float64 { return 0 }, 1e-6},
			} {
				// The part outside the basis: random, made orthogonal to it by the serial CGS2.
				w := ks.q[j+1]
				for r := range w {
					w[r] = rnd.NormFloat64()
				}
				_, out := orthogonalize(w, ks.q[:j+1], make([]float64, j+1), make([]float64, j+1))
				floats.Scale(tc.near/out, w)
				const alpha = 2.5
				wantH := make([]float64, j+1)
				for i := range j {
					wantH[i] = tc.couple(i)
					floats.AddScaled(w, wantH[i], ks.q[i])
				}
				wantH[j] = alpha
				floats.AddScaled(w, alpha, ks.q[j])
				norm := floats.Norm(w, 2)
				c := make([]float64, 30)
				for i := range j {
					c[i] = tc.given(i)
				}
				h := make([]float64, j+1)
				before, after := ks.orthogonalizeAx(w, j, c, h)
				// before is √(Σ_c ‖w_c‖²) over the parts, norm gonum's scaled norm: a
				// sum of n = 1000 squares differs by n·ε/2 ≈ 6·10⁻¹⁴ at worst, √n·ε
				// ≈ 4·10⁻¹⁵ typically.
				if math.Abs(before-norm) > 2e-14*norm {
					t.Errorf("%s, parts of %d: before %v, want ‖A x‖ = %v", tc.name, parts, before, norm)
				}
				for i := range h {
					if math.Abs(h[i]-wantH[i]) > 1e-13*norm {
						t.Errorf("%s, parts of %d: h[%d] = %v, want %v", tc.name, parts, i, h[i], wantH[i])
					}
				}
				if math.Abs(after-floats.Norm(w, 2)) > 1e-14*after {
					t.Errorf("%s, parts of %d: after %v, ‖w‖ %v", tc.name, parts, after, floats.Norm(w, 2))
				}
				floats.Scale(1/after, w)
				if e := orthonormalityError(ks.q[:j+2]); e > 1e-14 {
					t.Errorf("%s, parts of %d: ‖[Q w]ᵀ[Q w] − I‖max = %.3g", tc.name, parts, e)
				}
			}
		}()
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// BenchmarkRotate times one thick-restart rotation Q_j ← Q_j S_l of the MNIST bench net's
// basis (P = 118 282, j = m = 40, l = 25 kept: 38 MB read, 24 MB written), through the
// blocked path (basis.go) on every core, and reports the bytes moved per second and the
// flop rate. Three bases (3 × 38 MB) are rotated in turn, so that each comes from memory,
// not from the L3 cache, as in a solve, where products run between rotations; until
// 2026-12-07 it rotated one basis again and again, and its figures were 20–50% above the
// rotations' speed inside the MNIST benchmark.
func BenchmarkRotate(b *testing.B) {
	n, j, l := 118_282, 40, 25
	rnd := rand.New(rand.NewPCG(84, 1))
	var kss []*krylovSchur
	for range 3 {
		ks := newKrylovSchur(diagOp(make([]float64, n)), EigOptions{K: 10, MaxBasis: j, Seed: 84}, "bench")
		for i := range j {
			for r := range ks.q[i] {
				ks.q[i][r] = rnd.NormFloat64()
			}
		}
		s := orthonormalized(goeRows(j, rnd))
		ks.s = ks.s[:j*j]
		for r := range j {
			for c := range j {
				ks.s[r*j+c] = s[c][r]
			}
		}
		kss = append(kss, ks)
	}
	i := 0
	for b.Loop() {
		ks := kss[i%len(kss)]
		i++
		ks.j = j
		ks.rotateBlocked(l)
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64((j+l)*n*8)/sec/1e9, "GB/s")
	b.ReportMetric(float64(2*j*l*n)/sec/1e9, "GFLOP/s")
}

// goeRows returns k random vectors of length k.
func goeRows(k int, rnd *rand.Rand) [][]float64 {
	v := make([][]float64, k)
	for i := range v {
		v[i] = make([]float64, k)
		for r := range v[i] {
			v[i][r] = rnd.NormFloat64()
		}
	}
	return v
}
