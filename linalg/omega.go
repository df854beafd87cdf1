package linalg

import "math"

// Partial reorthogonalisation (Simon 1984; Larsen's PROPACK; Wu and Simon's TRLan for thick
// restarts): for p = 1 an expansion reads the basis only when the loss of orthogonality it
// would cause is about to exceed reorthTol. Without the full Gram–Schmidt pass, w = A x −
// α x − Σ cᵢ qᵢ is orthogonal to the basis only as far as rounding allows, and that loss
// grows (mostly along converged Ritz vectors: Paige's theorem). Its size is tracked, not
// measured: the matrix W ≈ QᵀQ − I (the estimates ω) follows from the relation
//
//	A Q_j = Q_j T_j + β q_{j+1} e_jᵀ + F   (F: rounding)
//
// multiplied by q_kᵀ and by Q's transposes: for the new vector q_{j+1} = w/β and k < j,
//
//	β ω_{j+1,k} = Σ_{i≤j} ω_{j,i} T_{ik} − Σ_{i≤j} T_{ji} ω_{i,k} ± noise,
//
// which is Simon's three-term recurrence when T is tridiagonal and covers the arrow a thick
// restart leaves (T's column k has its nonzeros in rows ≤ max(k+1, l) ≤ j, l the vectors
// kept, so the sums are whole). The noise, the part of ω that rounding adds each step, is
// added with the sign of what it is added to: noiseScale·ε‖A‖/β, ‖A‖ estimated by the
// largest ‖T eⱼ‖ seen.
//
// noiseScale is 16, eight times Simon's 2, chosen by measuring: after every expansion of
// TestPartialReorth's solves, every |qᵢᵀq_k| above 10⁻¹⁵ against its estimate. With 2 the
// true loss reached 5.1 times the estimate (a Hessian-like operator early in the run, while
// T's columns under-estimate ‖A‖), with 4 2.6 times, with 8 1.3 times, with 16 at most 0.64
// of it. PROPACK's
// √n·ε/2 would be safe as well, but at this threshold it asks for a full pass at every step
// of the MNIST benchmark (its β ≈ 0.05·‖A‖); 16 costs 57 full passes in 131 expansions
// there, 2 cost 46.
//
// If some |ω_{j+1,k}| exceeds the threshold (reorthTol), the expansion makes the full pass
// and the DGKS second pass if needed (basis.go), and ω_{j+1,·} is reset to the noise level.
// So does the first expansion after every rotation of the basis: a rotation rotates W with it
// (W ← SᵀWS, exact if W were the true QᵀQ − I), but on that step the rotated estimates fell
// below the true loss on the MNIST benchmark.
//
// reorthMax is the largest |ω| an expansion lets pass without the full pass: 10⁻¹³, not
// Simon's √ε. Semi-orthogonality (√ε) already makes the Ritz values as accurate as full
// reorthogonalisation, but the Ritz vectors are combinations of the basis and inherit its
// orthogonality, and the full-pass coefficients left out of T put an error of about |ω|·β
// into the relation, which the residual estimates do not see. At 10⁻¹³ both stay below the
// 10⁻¹² the lab promises, and the threshold costs few passes: ω grows geometrically once a
// Ritz pair converges, so the MNIST benchmark makes 46 full passes in 131 expansions at
// 10⁻¹³, 38 at ε^(3/4) ≈ 1.8·10⁻¹² and 59 at 10⁻¹⁴ (with noiseScale 2; BENCHMARKS.md). A
// tolerance below 10⁻¹¹
// lowers the threshold with it (reorthTol), so that the relation's error stays a hundredth of
// the residuals asked for.
const reorthMax = 1e-13

// reorthTol returns the threshold on |ω| for a solve to tolerance tol.
func reorthTol(tol float64) float64 { return min(reorthMax, tol/100) }

// eps is the unit roundoff of float64.
const eps = 0x1p-53

// noiseScale is the factor of ε‖A‖/β in the noise of one step (see above).
const noiseScale = 16

// partialReorth reports whether this solve tracks ω and skips full passes: p = 1 on the
// blocked path (every solve the lab makes). Blocks of p > 1 keep CGS2.
func (ks *krylovSchur) partialReorth() bool { return ks.p == 1 && ks.blocked() }

// omegaStride is the row length of ks.omega: the basis and the pending direction.
func (ks *krylovSchur) omegaStride() int { return ks.m + ks.p }

// omegaNoise returns the noise noiseScale·ε‖A‖/β of one step, ‖A‖ estimated by normT.
func (ks *krylovSchur) omegaNoise(beta float64) float64 {
	return noiseScale * eps * ks.normT / beta
}

// omegaReset records that vector i was orthogonalised in full against q[:i]: its estimates
// are the noise level of one step. beta is its norm before normalisation.
func (ks *krylovSchur) omegaReset(i int, beta float64) {
	st := ks.omegaStride()
	row := ks.omega[i*st : i*st+i]
	v := eps
	if beta > 0 && ks.normT > 0 {
		v = ks.omegaNoise(beta)
	}
	for k := range row {
		row[k] = v
		ks.omega[k*st+i] = v
	}
	ks.omega[i*st+i] = 0
}

// omegaNext computes the estimates ω_{j+1,·} of the new vector q_{j+1} = w/β, w the rest of
// A q_j after the recurrence (T's column j is set), and stores them if all are at most
// reorthTol(tol). It reports whether it stored them: false means the full pass is needed.
func (ks *krylovSchur) omegaNext(j int, beta float64) bool {
	if !(beta > 0) {
		return false
	}
	ks.normT = ks.omegaNormT(j, beta)
	if !(ks.omegaCompute(j, beta, ks.normT) <= reorthTol(ks.tol)) {
		return false
	}
	next := ks.omegaNew[:j+1]
	i := j + 1
	st := ks.omegaStride()
	copy(ks.omega[i*st:i*st+i], next)
	for k, v := range next {
		ks.omega[k*st+i] = v
	}
	ks.omega[i*st+i] = 0
	return true
}

// fullPassLikely reports whether omegaNext would ask for the full pass if β came out as given
// (an estimate made before w is known). It changes nothing but omegaNew. For β = 0 (or NaN)
// it reports true. A wrong guess costs a sweep's time, never bits: the guess only decides
// whether the full pass's dots are made early, in the same sweep as the known couplings.
func (ks *krylovSchur) fullPassLikely(j int, beta float64) bool {
	if !(beta > 0) {
		return true
	}
	return !(ks.omegaCompute(j, beta, ks.omegaNormT(j, beta)) <= reorthTol(ks.tol))
}

// omegaNormT returns the estimate of ‖A‖ with T's column j and β: ‖A q_j‖ ≥ ‖T e_j‖ (with β),
// summed without overflow.
func (ks *krylovSchur) omegaNormT(j int, beta float64) float64 {
	m := ks.m
	col := beta
	for i := 0; i <= j; i++ {
		col = math.Hypot(col, ks.t[i*m+j])
	}
	return max(ks.normT, col)
}

// omegaCompute computes the estimates ω_{j+1,·} for β > 0 and ‖A‖ ≈ normT into
// omegaNew[:j+1] and returns the largest |ω|: +Inf if one is NaN, NaN if the noise is. It
// stops at the first estimate above reorthTol(tol), which it returns, for omegaNext needs no
// more. Either way a NaN or an infinity asks for the full pass. The noise is omegaNoise's
// with the given normT (fullPassLikely's is not stored).
func (ks *krylovSchur) omegaCompute(j int, beta, normT float64) float64 {
	m, st := ks.m, ks.omegaStride()
	noise := noiseScale * eps * normT / beta
	tau := reorthTol(ks.tol)
	if noise > tau {
		return noise
	}
	worst := noise
	next := ks.omegaNew[:j+1]
	wj := ks.omega[j*st : j*st+j+1] // ω_{j,i}, i ≤ j (ω_{j,j} = 0)
	for k := 0; k < j; k++ {
		var s float64
		for i := 0; i <= j; i++ {
			s += wj[i]*ks.t[i*m+k] - ks.t[j*m+i]*ks.omega[i*st+k]
		}
		s += math.Copysign(noise*beta, s)
		next[k] = s / beta
		a := math.Abs(next[k])
		if math.IsNaN(a) {
			return math.Inf(1)
		}
		worst = max(worst, a)
		if a > tau {
			return a
		}
	}
	next[j] = noise
	return worst
}

// omegaRotate rotates the estimates with the basis: Q_j → Q_j S_l, and the pending direction
// from index j to l. ritz must have been called for the current j.
func (ks *krylovSchur) omegaRotate(l int) {
	j, st := ks.j, ks.omegaStride()
	// R = W S_l (j×l), then W' = S_lᵀ R; the pending rows are R's rows j…j+np−1 of
	// W[j+r, :j] S_l.
	r := ks.omegaScratch[:(j+ks.np)*l]
	for a := 0; a < j+ks.np; a++ {
		for b := 0; b < l; b++ {
			var s float64
			for c := 0; c < j; c++ {
				s += ks.omega[a*st+c] * ks.s[c*j+b]
			}
			r[a*l+b] = s
		}
	}
	for a := 0; a < l; a++ {
		for b := a; b < l; b++ {
			var s float64
			for c := 0; c < j; c++ {
				s += ks.s[c*j+a] * r[c*l+b]
			}
			ks.omega[a*st+b], ks.omega[b*st+a] = s, s
		}
		ks.omega[a*st+a] = 0
	}
	for p := 0; p < ks.np; p++ {
		i := l + p
		for b := 0; b < l; b++ {
			v := r[(j+p)*l+b]
			ks.omega[i*st+b], ks.omega[b*st+i] = v, v
		}
		ks.omega[i*st+i] = 0
	}
}
