package tui

import "fmt"

// page is what the screen shows besides the charts; ? walks through them.
type page int

const (
	pageNone     page = iota // the charts, the short help in the footer
	pageKeys                 // every key, in the footer
	pageGlossary             // "What am I looking at": every symbol on screen, in words
	numPages
)

// term is one entry of the glossary: the symbol as the screen writes it, what it means in
// words a student understands, and its formula (docs/SCIENCE.md, DESIGN.md §1).
type term struct {
	sym, words, formula string
}

// glossary defines every symbol and abbreviation the lab's screen uses, in the order a
// student meets them: the update, the curvature, the charts, the bookkeeping.
var glossary = []term{
	{"header", "the top line: the preset the lab started from (demo, moons, mnist, …), the network, P, the loss and the data set; on the right the step, the speed and the state: ▶ running, ‖ paused, ■ stopped.", ""},
	{"20-16-16-10 tanh", "the network: the widths of its layers from input to output (here 20 inputs, two hidden layers of 16, 10 outputs, one a class) and the activation between them (tanh, relu).", "f(x; θ)"},
	{"cross-entropy, MSE", "the loss ℓ of one example: cross-entropy (softmax over the classes) or MSE (half the squared error, summed over the outputs).", "ℓ(f(x;θ), y)"},
	{"gaussian, moons, …", "the data set: a mixture of Gaussians, two moons, spirals, circles, xor, a teacher network, MNIST digits, or a CSV file; its train and test sizes.", ""},
	{"step, x axis", "one update of θ. Every chart's horizontal axis counts steps since the start; the header's step is its right end (small screens leave out the tick labels).", ""},
	{"θ, P", "the network's parameters, all weights and biases as one vector; P is how many there are.", "θ ∈ ℝᴾ"},
	{"loss", "how wrong the network is, averaged over examples: train (the whole training set), test (held-out data), batch (the minibatch of this step).", "L_X(θ) = mean over x∈X of ℓ(f(x;θ), y)"},
	{"log scale", "the loss chart always, the sharpness chart when λ₁ runs far above the edge (its legend then says log): equal distances are equal factors, 0.1 to 1 as 1 to 10.", ""},
	{"test acc", "the share of test examples classified correctly.", ""},
	{"g, ∇L", "g is the gradient of the minibatch loss (what the step uses); ∇L the gradient of the full training loss.", "g = ∇L_B(θ), ∇L = ∇L_D(θ)"},
	{"η", "the learning rate: how far each step goes along the update d.", "θ ← θ − η·d"},
	{"β, m", "momentum: the step keeps β of the previous one (m toggles 0 ↔ 0.9).", "heavy ball"},
	{"batch", "examples in each minibatch (full batch: all of them).", ""},
	{"H", "the Hessian: how the gradient changes when θ moves, i.e. the curvature of the loss (on the Hessian set S).", "H = ∇²L_S(θ)"},
	{"λᵢ, vᵢ", "the eigenvalues and eigenvectors of H, largest first: along vᵢ the loss curves like ½·λᵢ·t². Computed exactly by Lanczos from Hessian-vector products.", "H vᵢ = λᵢ vᵢ, λ₁ ≥ λ₂ ≥ …"},
	{"sharpness λ₁", "the largest eigenvalue: the curvature of the sharpest direction.", "λ₁ = max over ‖v‖=1 of vᵀHv"},
	{"k", "how many of the sharpest directions form the Dominant subspace (k/K change it).", ""},
	{"Dominant", "the subspace of the top-k eigenvectors v₁…v_k: the sharp directions.", "P_dom = V Vᵀ, V = [v₁ … v_k]"},
	{"Bulk", "everything orthogonal to the Dominant subspace: the many flat directions.", "P_bulk = I − V Vᵀ"},
	{"λₖ₊₁", "the largest eigenvalue outside the Dominant subspace: the sharpest direction of the Bulk, the curvature Bulk-SGD moves along.", "λ_(k+1)"},
	{"w_dom, w_bulk", "how much of the gradient's Dominant and Bulk parts the update keeps.", "d = w_dom·P_dom g + w_bulk·P_bulk g"},
	{"α", "the slider Dom ◀──●──▶ Bulk: one knob (●) that walks from Dom-SGD (0) through SGD (½, ┼ when α is elsewhere; ━ the way from it) to Bulk-SGD (1).", "w_dom = min(1, 2(1−α)), w_bulk = min(1, 2α)"},
	{"SGD", "plain stochastic gradient descent: the whole gradient.", "(w_dom, w_bulk) = (1, 1)"},
	{"Dom-SGD", "only the gradient's part in the sharp directions. Song, Ahn & Yun: the loss stalls.", "(1, 0)"},
	{"Bulk-SGD", "only the part in the flat directions. It trains like SGD, and can take larger η.", "(0, 1)"},
	{"damped-Bulk Dom", "between Dom-SGD and SGD: all of the Dominant part, some of the Bulk part (α < ½).", "(1, w_bulk < 1)"},
	{"damped-Dom Bulk", "between SGD and Bulk-SGD: all of the Bulk part, some of the Dominant part (α > ½).", "(w_dom < 1, 1)"},
	{"Dom-damped", "SGD that slows only the sharp directions above the edge, each just enough to be felt at c times the edge (c = 1 unless set), and keeps the rest of the gradient: below the edge it is SGD. Its mark is Damped (Dmp0.5 for c = 0.5).", "w_dom,i = min(1, c·(2/η)/λᵢ), w_bulk = 1"},
	{"2/η (the edge)", "gradient descent on a curvature λ overshoots and grows when λ > 2/η: the edge of stability. With momentum the edge is (2+2β)/η; Adam has none.", "stable along v while η·λ < 2"},
	{"↑", "after 2/η: the edge lies above the top of the sharpness chart (a line that far up would flatten the curves), so its value is written instead.", ""},
	{"felt", "the curvature the current update actually moves along: λ₁ for SGD and Dom-SGD, λₖ₊₁ for Bulk-SGD (it never steps along v₁…v_k), min(λ₁, c·2/η) or λₖ₊₁ for Dom-damped. This, not λ₁, is what must stay below 2/η. Under a minibatch, when λ_d is measured, felt is λ_d: full-batch λ₁ is the wrong gauge for SGD, since a minibatch step feels its own batch's curvature.", "max(w_dom·λ₁, w_bulk·λₖ₊₁), or λ_d"},
	{"!", "after a value: above the edge along a direction the update moves, so steps there grow; 1.2× edge! is 1.2 times the edge. λ₁ above 2/η is harmless under Bulk-SGD.", "felt > 2/η"},
	{"% of the edge", "the felt curvature as a share of the edge; near 100% is the edge of stability.", "felt ÷ (2/η)"},
	{"noise σ", "setup (S, --noise): how far the points of a generated data set scatter around their shape. The default is the set's own (moons 0.1, spirals 0.05, circles 0.05, xor 0.25, teacher 0.1, gaussian 1, each class's spread around its mean); 0 puts every point exactly on its curve. Not for MNIST or a CSV file.", "x + σ·ε, ε ~ N(0, I)"},
	{"features", "setup (S, --features): what the network reads of each 2-D point: any of x₁, x₂, x₁², x₂², x₁x₂, sin x₁, sin x₂ (default x₁, x₂). With x₁x₂ a linear model separates xor; with x₁², x₂² it separates the circles. The pictures stay over the (x₁, x₂) plane. Only for 2-D data.", "input = (φ₁(x), …, φ_m(x))"},
	{"weight decay, wd", "L2 weight decay λ (--weight-decay): pulls every weight and bias toward zero a little each step, as if (λ/2)‖θ‖² were added to the loss (the update acts on g + λθ, so Dom-SGD and Bulk-SGD project the pull too: Dom-SGD barely shrinks θ). That term curves by λ in every direction, so every eigenvalue of the Hessian is λ higher: the bulk moves from about 0 to about λ (no direction stays flat), and \"λ₁ +wd\" or \"λ₁ incl. wd 0.01\" says the chart's values have it in. The edge 2/η stays where it is: a step is stable along vᵢ while η·(λᵢ of the data + λ) < 2, so the data's own curvature meets the edge at 2/η − λ, a little earlier than without decay. G takes the λ, F does not; the losses shown stay the data loss, without the penalty.", "minimise L + (λ/2)‖θ‖²: g + λθ, H + λI"},
	{"λ_B", "batch sharpness: the curvature a minibatch step feels along its own gradient, averaged over fresh minibatches (each one costs an HVP). Under SGD this, not λ₁, settles at 2/η (Andreyev & Beneventano 2024).", "E_B[g_BᵀH_Bg_B/‖g_B‖²]"},
	{"λ_d", "the same along the update in force d_B: P_bulk g_B for Bulk-SGD, P_dom g_B for Dom-SGD, g_B for SGD (the blend for α). Under a minibatch, when it is measured, the felt note uses it.", "E_B[d_BᵀH_Bd_B/‖d_B‖²]"},
	{"χ", "alignment: the share of a gradient that lies in the Dominant subspace (1: all of it). g dots are each step's minibatch gradient, ∇L the full gradient.", "χ = ‖P_dom g‖ / ‖g‖"},
	{"random √(k/P)", "what χ would be for a random direction: the baseline χ is compared with.", "√(k/P)"},
	{"T", "the refresh period: the eigenspace is recomputed every T steps (manual: only when you press e). Between refreshes the update uses the old, stale basis.", ""},
	{"basis @N", "the eigenspace in use was computed at step N; \"n steps ago\" is its age.", ""},
	{"stale", "a dotted curve: a value of an old basis, not measured since (T manual or large).", "age > T"},
	{"HVP", "a Hessian-vector product Hv, computed exactly (Pearlmutter's trick) at the cost of about two gradients; a refresh costs tens of them: (61 HVPs, 40 ms) is the last refresh's cost in products and milliseconds.", "Hv"},
	{"spectrum λ₁…λₖ", "the eigenvalues of the basis in use, as bars, largest first; λₖ₊₁ under them (░) is the top of the Bulk. … n more, down to λₖ: the rows that did not fit.", ""},
	{"density", "s switches the spectrum panel to the whole spectrum of H, all P eigenvalues, where the bars show only the top k. Each column's height is how densely the eigenvalues lie at its λ, on a log scale over log₁₀P + 1 decades (the bulk holds almost all of them, an outlier about 1/P of them, so an outlier's column is short). Marks under it: ◆ the outliers among λ₁…λ_k, ◇ the others of the basis, ░ λₖ₊₁ (inside the bulk when k is larger than the number of outliers), ╎ the edge 2/η (or 2/η … off the axis, when it lies far to the right). The last line: the step it was computed at and its cost (probes × steps, seconds, HVPs); computing… while one runs; e recomputes it with the eigenspace.", "φ(λ) ≈ (1/n_v) Σᵢ Σⱼ wᵢⱼ N(λ; θᵢⱼ, σ²)"},
	{"the bulk", "most eigenvalues, piled near zero — the flat directions (on both sides: small negative curvatures are directions along which the loss bends down a little).", ""},
	{"outliers ◆", "the few eigenvalues standing apart above the bulk — the Dominant directions, about as many as the classes (Sagun et al. 2017, Papyan 2019). Counted from the exact λ₁…λₖ₊₁: the largest ratio λᵢ/λᵢ₊₁, when it is at least 2, separates them from the bulk (values below λ₁/1000 count as the bulk's zero).", "λᵢ/λᵢ₊₁ ≥ 2 at the largest gap"},
	{"SLQ", "stochastic Lanczos quadrature, how the density is computed: random ±1 probe vectors, m Lanczos steps (m HVPs) from each, and each run's Gauss quadrature (its Ritz values θ with weights w), averaged over the probes and smoothed by a Gaussian of width σ. It is estimated, from random probes, unlike λ₁…λ_k, which are exact: 10 probes × 80 steps cost 800 HVPs.", "Ubaru, Chen & Saad 2017"},
	{"symlog axis", "the density's λ axis: linear within ±c around 0 and logarithmic beyond, one decade a tick (0, 0.1, 1, 10, 100, 1e3, and -0.1, -1, … on the negative side), so that the bulk near 0 and outliers decades above it fit on one line. c is the median |λ| of the estimate (half the spectrum lies within ±c), at least σ.", "sign(λ)·log10(1 + |λ|/c)"},
	{"residual", "how exactly an eigenpair was computed: small is exact. residual ≤ r: the largest of the k.", "‖H vᵢ − λᵢ vᵢ‖"},
	{"G, F", "the Hessian splits into Gauss–Newton G (curvature from the loss around the outputs) and functional F (curvature of the network itself).", "H = G + F, G = mean JᵀH_ℓJ"},
	{"Gᵢ, Fᵢ", "each sharp eigenvalue's split, a row λᵢ = Gᵢ + Fᵢ with the λᵢ of the basis the split was measured on (a split is measured on some refreshes only; \"of @N\" says its basis is older than the one in use). Bars: █ G, ▓ F>0 (positive F), ░ F<0 (negative F, over the end of G).", "λᵢ = vᵢᵀGvᵢ + vᵢᵀFvᵢ"},
	{"G share", "the part of the curvature along vᵢ that comes from G, as a share of the sizes of both parts: never above 100% (Gᵢ/λᵢ would be, whenever Fᵢ < 0).", "|Gᵢ| / (|Gᵢ| + |Fᵢ|)"},
	{"energy in V", "the share of a matrix's total (squared) curvature that lies in the Dominant subspace, ± its statistical error (Hutchinson's estimator).", "E_A = ‖VᵀAV‖²_F / ‖A‖²_F"},
	{"overlap", "how much the Dominant subspace stayed the same since the last refresh (1: identical).", "‖V_oldᵀV_new‖²_F / k"},
	{"marks ┊", "a dotted vertical line on a chart where something changed: the update (Dom, SGD, Bulk, α, Damped), a rollback ↶, a divergence ✗.", ""},
	{"race", "f forks arms from this point that train side by side on the same minibatches, each with its own θ, optimizer and eigenspace: △ Dom-SGD, ◇ SGD, □ Bulk-SGD by default, ○ ☆ ◁ for more (F chooses up to 6). Every chart draws each arm with its glyph, ┊race marks the fork, and later marks carry their arm's glyph. The keys act on the focus, the arm the header names and ▸ marks in the arms' table (tab moves it; A: every arm); f again or esc ends the race and the lab goes on with the focused arm. It is the paper's comparison, live: from one point, Dom-SGD stalls while Bulk-SGD keeps up with SGD.", ""},
	{"checkpoint", "a saved state that u returns to: yours (c makes one; u prefers it), the start, and automatic ones the lab keeps every few steps. \"checkpoints 0, 100, …\" lists those kept; ckpt in the events marks yours.", ""},
	{"decision regions", "v: what the network learned, for 2-D data: each cell takes the colour of the class the network predicts there, pale where it is unsure (its probability near 1/C), strong where it is sure; without colour each class its own glyphs, denser the surer (░▒▓█ class 0, ⠂⠪⠿⣿ class 1, -=≡▤ class 2), blank on the boundary. ● ▲ … are training points of each class (on a foreign region: misclassified), ○ △ … test points (x shows them); % right counts the points drawn. Other data: the test points on their top two principal components.", "confidence = the largest softmax probability"},
	{"what each neuron computes", "V: every hidden unit's output over the input plane, layer by layer (L1·3 is unit 3 of hidden layer 1), the outputs last: orange where positive, blue where negative, pale near 0 (without colour █▓▒░ for +, =-:. for −). ‖w‖ is the norm of the unit's outgoing weights: how much the next layer listens to it. ←/→ page through wide layers while V shows. Other data: each unit's mean activation per class.", "hᵢ(x) = act(Wᵢ hᵢ₋₁(x) + bᵢ)"},
	{"events", "the log's kinds: set (a setting changed), eigen (the eigenspace was refreshed, on request or on schedule), ckpt (your checkpoint), rollback (rolled back to your checkpoint or an automatic one), ERROR.", ""},
	{"DIVERGED", "the loss became NaN/∞ or blew up: training pauses; u rolls back, r resets.", ""},
	{"steps/s", "training speed, including the eigenspace refreshes.", ""},
}

// glossaryLines lays the glossary out for a w-column screen: each line is the term column
// (empty on continuation lines) and the text.
func glossaryLines(w int) (symW int, lines [][2]string) {
	symW = 0
	for _, t := range glossary {
		symW = max(symW, len([]rune(t.sym)))
	}
	symW = min(symW, 16)
	tw := w - symW - 2
	if tw < 20 {
		symW, tw = 0, w
	}
	for _, t := range glossary {
		text := t.words
		if t.formula != "" {
			text += "  [" + t.formula + "]"
		}
		parts := wrapText(text, tw, 8)
		sym := t.sym
		if symW == 0 {
			lines = append(lines, [2]string{"", sym})
			sym = ""
		}
		for i, p := range parts {
			s := ""
			if i == 0 {
				s = sym
			}
			lines = append(lines, [2]string{s, p})
		}
	}
	return symW, lines
}

// glossaryView draws the glossary page into the charts area, from line m.glossaryTop.
func (m Model) glossaryView(a area) {
	title := "What am I looking at  (↑/↓ scroll · ? or esc back to the charts)"
	a.text(0, 0, truncate(title, a.w), inkTitle)
	symW, lines := glossaryLines(a.w)
	rows := a.h - 1
	if len(lines) > rows {
		rows-- // the last line says how much more there is
	}
	top := min(m.glossaryTop, max(0, len(lines)-rows))
	for i := 0; i < rows && top+i < len(lines); i++ {
		l := lines[top+i]
		y := 1 + i
		if l[0] != "" {
			a.text(0, y, l[0], inkTitle)
		}
		x := 0
		if symW > 0 {
			x = symW + 2
		}
		a.text(x, y, l[1], inkNone)
	}
	if rest := len(lines) - top - rows; rest > 0 && rows > 0 {
		a.text(0, a.h-1, fmt.Sprintf("↓ %d more lines", rest), inkLabel)
	}
}
