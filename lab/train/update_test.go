package train

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// orthonormal returns k orthonormal vectors of length p (the Q of a seeded random matrix).
func orthonormal(p, k int, seed uint64) [][]float64 {
	rng := rand.New(rand.NewPCG(seed, 1))
	a := mat.NewDense(p, k, nil)
	for i := range p {
		for j := range k {
			a.Set(i, j, rng.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(a)
	var q mat.Dense
	qr.QTo(&q)
	v := make([][]float64, k)
	for j := range k {
		v[j] = mat.Col(nil, j, &q)
	}
	return v
}

// denseDirection is the reference: the P×P matrix M = Σᵢ wᵢ vᵢvᵢᵀ + (I − V Vᵀ) formed
// entry by entry, times g.
func denseDirection(v [][]float64, w, g []float64) []float64 {
	p := len(g)
	m := mat.NewDense(p, p, nil)
	for r := range p {
		m.Set(r, r, 1)
	}
	for i, vi := range v {
		for r := range p {
			for c := range p {
				m.Set(r, c, m.At(r, c)+(w[i]-1)*vi[r]*vi[c])
			}
		}
	}
	var d mat.VecDense
	d.MulVec(m, mat.NewVecDense(p, append([]float64(nil), g...)))
	return d.RawVector().Data
}

// denseChi is ‖V Vᵀ g‖/‖g‖ with the projection formed as a matrix.
func denseChi(v [][]float64, g []float64) float64 {
	zero := make([]float64, len(v))
	pb := denseDirection(v, zero, g) // (I − V Vᵀ) g
	var nd, ng float64
	for i := range g {
		nd += (g[i] - pb[i]) * (g[i] - pb[i])
		ng += g[i] * g[i]
	}
	return math.Sqrt(nd / ng)
}

// Dom-damped against the dense reference: λ = (50, 25, 5) at η = 0.1 (edge 2/η = 20) gives,
// by hand, w = (20/50, 20/25, 1) = (0.4, 0.8, 1); with momentum β = 0.9 the edge is
// (2+2β)/η = 38 and w = (38/50, 1, 1) = (0.76, 1, 1); with c = 0.5 at 2/η, c·edge = 10 and
// w = (0.2, 0.4, 1).
func TestDomDampedDirection(t *testing.T) {
	const p = 9
	v := orthonormal(p, 3, 7)
	rng := rand.New(rand.NewPCG(3, 4))
	g := make([]float64, p)
	for i := range g {
		g[i] = rng.NormFloat64()
	}
	values := []float64{50, 25, 5}
	for _, tc := range []struct {
		name     string
		c, mom   float64
		wantW    []float64
		wantEdge float64
	}{
		{"c 1", 1, 0, []float64{0.4, 0.8, 1}, 20},
		{"momentum", 1, 0.9, []float64{0.76, 1, 1}, 38},
		{"c 0.5", 0.5, 0, []float64{0.2, 0.4, 1}, 20},
	} {
		cfg := Config{LR: 0.1, Momentum: tc.mom}
		edge := cfg.StabilityThreshold()
		if math.Abs(edge-tc.wantEdge) > 1e-12 {
			t.Fatalf("%s: edge %v, want %v", tc.name, edge, tc.wantEdge)
		}
		r := DomDamped{C: tc.c}
		want := denseDirection(v, tc.wantW, g)
		got := make([]float64, p)
		chi := r.Direction(got, g, Subspace{Vectors: v, Values: values, Edge: edge})
		worst := 0.0
		for i := range got {
			worst = math.Max(worst, math.Abs(got[i]-want[i]))
		}
		if worst > 1e-12 {
			t.Errorf("%s: worst difference from the dense direction %.3g", tc.name, worst)
		}
		if wc := denseChi(v, g); math.Abs(chi-wc) > 1e-12 {
			t.Errorf("%s: χ %v, want ‖P_dom g‖/‖g‖ = %v", tc.name, chi, wc)
		}
		// dst may be g.
		in := append([]float64(nil), g...)
		r.Direction(in, in, Subspace{Vectors: v, Values: values, Edge: edge})
		for i := range in {
			if math.Abs(in[i]-want[i]) > 1e-12 {
				t.Fatalf("%s: in place, d[%d] = %v, want %v", tc.name, i, in[i], want[i])
			}
		}
		if wd, wb := r.Weights(values[0], edge); math.Abs(wd-tc.wantW[0]) > 1e-15 || wb != 1 {
			t.Errorf("%s: weights (%v, %v), want (%v, 1)", tc.name, wd, wb, tc.wantW[0])
		}
	}
	// Below the edge it is SGD, bit for bit; without a basis d = g.
	sgd, dd := make([]float64, p), make([]float64, p)
	Blend{1, 1}.Direction(sgd, g, Subspace{Vectors: v, Values: values, Edge: 20})
	DomDamped{C: 10}.Direction(dd, g, Subspace{Vectors: v, Values: values, Edge: 20})
	for i := range sgd {
		if sgd[i] != dd[i] || sgd[i] != g[i] {
			t.Fatalf("c·edge = 200 above λ₁: d[%d] = %v, SGD %v, g %v", i, dd[i], sgd[i], g[i])
		}
	}
	if chi := (DomDamped{C: 1}).Direction(dd, g, Subspace{Edge: 20}); chi != 0 || dd[0] != g[0] {
		t.Errorf("no basis: χ %v, d₀ %v, want 0 and g₀ %v", chi, dd[0], g[0])
	}
}

// The felt curvature against its definition, max over i of w_dom,i·λᵢ and λ_{k+1}, taken
// over a whole spectrum by hand.
func TestDomDampedFelt(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		values     []float64
		next, edge float64
		c          float64
		want       float64
		bulk       bool
	}{
		{[]float64{50, 25, 5}, 3, 20, 1, 20, false},   // w·λ = (20, 20, 5): felt at the edge
		{[]float64{50, 25, 5}, 30, 20, 1, 30, true},   // the Bulk's top is above it
		{[]float64{15, 12, 5}, 3, 20, 1, 15, false},   // below the edge: SGD, λ₁
		{[]float64{50, 25, 5}, 3, 20, 0.5, 10, false}, // c·edge = 10
		{[]float64{50, 25, 5}, 3, nan, 1, 50, false},  // no edge: nothing is damped
		{[]float64{50, 25, 5}, nan, 20, 1, nan, false},
	} {
		r := DomDamped{C: tc.c}
		ref := tc.next
		for _, l := range tc.values {
			ref = math.Max(ref, r.weight(l, tc.edge)*l)
		}
		if math.IsNaN(tc.next) {
			ref = nan
		}
		if !(ref == tc.want || math.IsNaN(ref) && math.IsNaN(tc.want)) {
			t.Fatalf("reference for %+v: %v, want %v", tc, ref, tc.want)
		}
		got := r.Felt(Curvatures{Top: tc.values[0], Next: tc.next, Edge: tc.edge})
		if !(got.V == tc.want || math.IsNaN(got.V) && math.IsNaN(tc.want)) || got.Bulk != tc.bulk {
			t.Errorf("Felt(%+v) = %+v, want %v (bulk %v)", tc, got, tc.want, tc.bulk)
		}
		if !math.IsNaN(got.V) {
			l := tc.values[0]
			if got.Bulk {
				l = tc.next
			}
			if math.Abs(got.Weight*l-got.V) > 1e-12 {
				t.Errorf("%+v: weight %v × λ %v ≠ felt %v", tc, got.Weight, l, got.V)
			}
		}
	}
}

// The blend's felt curvature names the term that decides it, never one of weight 0.
func TestBlendFeltTerm(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		b          Blend
		top, next  float64
		v, w       float64
		bulk       bool
		wantNaNOut bool
	}{
		{Blend{1, 1}, 10, 2, 10, 1, false, false},
		{Blend{0, 1}, 10, 2, 2, 1, true, false},
		{Blend{0, 1}, 10, -1, -1, 1, true, false}, // a negative top of the Bulk still decides
		{Blend{0.5, 1}, 10, 2, 5, 0.5, false, false},
		{Blend{0.1, 1}, 10, 2, 2, 1, true, false},
		{Blend{1, 0}, 10, nan, 10, 1, false, false},
		{Blend{1, 1}, 10, nan, nan, 1, false, true},
	} {
		got := tc.b.Felt(Curvatures{Top: tc.top, Next: tc.next, Edge: 20})
		if math.IsNaN(got.V) != tc.wantNaNOut || (!tc.wantNaNOut && got.V != tc.v) || got.Bulk != tc.bulk || got.Weight != tc.w {
			t.Errorf("%+v.Felt(%v, %v) = %+v, want %v, weight %v, bulk %v", tc.b, tc.top, tc.next, got, tc.v, tc.w, tc.bulk)
		}
		if want := Felt(tc.b.Dom, tc.b.Bulk, tc.top, tc.next); !(got.V == want || math.IsNaN(got.V) && math.IsNaN(want)) {
			t.Errorf("%+v: V %v, Felt %v", tc.b, got.V, want)
		}
	}
}

// Names, labels and the forms ParseRule reads back.
func TestRuleNames(t *testing.T) {
	for _, tc := range []struct {
		r                   Rule
		name, label, string string
	}{
		{Blend{1, 1}, "SGD", "SGD", "sgd"},
		{Blend{1, 0}, "Dom-SGD", "Dom", "dom"},
		{Blend{0, 1}, "Bulk-SGD", "Bulk", "bulk"},
		{Blend{1, 0.5}, "α = 0.25", "α 0.25", "alpha=0.25"},
		{Blend{0.5, 1}, "α = 0.75", "α 0.75", "alpha=0.75"},
		{Blend{0.5, 2}, "(0.50, 2.00)", "w0.5,2", "w=0.5/2"},
		{Blend{2, 0.5}, "(2.00, 0.50)", "w2,0.5", "w=2/0.5"},
		{DomDamped{C: 1}, "Dom-damped", "Damped", "dom-damped"},
		{DomDamped{C: 0.5}, "Dom-damped c = 0.5", "Dmp0.5", "dom-damped=0.5"},
		{DomDamped{C: 0.125}, "Dom-damped c = 0.125", "Dmp0.1", "dom-damped=0.125"},
	} {
		if got := tc.r.Name(); got != tc.name {
			t.Errorf("%+v: name %q, want %q", tc.r, got, tc.name)
		}
		if got := tc.r.Label(); got != tc.label || len([]rune(got)) > 6 {
			t.Errorf("%+v: label %q, want %q (≤ 6 runes)", tc.r, got, tc.label)
		}
		if got := tc.r.String(); got != tc.string {
			t.Errorf("%+v: string %q, want %q", tc.r, got, tc.string)
		}
		back, err := ParseRule(tc.r.String())
		if err != nil || back != tc.r {
			t.Errorf("ParseRule(%q) = %+v, %v; want %+v", tc.r.String(), back, err, tc.r)
		}
	}
	// UpdateName is the blend's name.
	if got := UpdateName(1, 0.5); got != "α = 0.25" {
		t.Errorf("UpdateName(1, 0.5) = %q", got)
	}
}

// Every blend's String reads back to the same weights, bit for bit: random weights, and
// random slider positions (whose weights 1 − (1 − α) may not give α back exactly).
func TestParseRuleRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for i := range 2000 {
		var b Blend
		if i%2 == 0 {
			b = Blend{10 * rng.Float64(), 10 * rng.Float64()}
		} else {
			b.Dom, b.Bulk = Weights(rng.Float64())
		}
		back, err := ParseRule(b.String())
		if err != nil || back != b {
			t.Fatalf("%+v → %q → %+v, %v", b, b.String(), back, err)
		}
	}
	for _, in := range []string{"dom-damped=3.25", " SGD ", "alpha = 0.5", "w=1/1"} {
		r, err := ParseRule(in)
		if err != nil {
			t.Fatalf("ParseRule(%q): %v", in, err)
		}
		if back, err := ParseRule(r.String()); err != nil || back != r {
			t.Errorf("%q → %q → %+v, %v", in, r.String(), back, err)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"", "want dom, sgd, bulk"},
		{"fast", `"fast": want dom, sgd, bulk`},
		{"dom=1", "want dom, sgd, bulk"},
		{"alpha", "want dom, sgd, bulk"},
		{"alpha=2", `α "2", want a number in [0, 1]`},
		{"alpha=x", `α "x"`},
		{"w=1", "want w=D/B"},
		{"w=11/1", `w_dom "11", want a number in [0, 10]`},
		{"w=1/-1", `w_bulk "-1"`},
		{"dom-damped=0", `c "0", want a number in (0, 100]`},
		{"dom-damped=NaN", `c "nan"`},
	} {
		if _, err := ParseRule(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseRule(%q): %v, want an error containing %q", tc.in, err, tc.want)
		}
	}
}

// The update setting: a blend goes into w_dom and w_bulk, another rule into Update; config.json
// of a blend has no "update" (and its fingerprint is the one of before); a bad rule and
// Dom-damped with Adam are refused.
func TestUpdateSetting(t *testing.T) {
	c := small()
	fp := c.Fingerprint()
	c.SetRule(Blend{0, 1})
	if c.WDom != 0 || c.WBulk != 1 || c.Update != "" || c.Rule() != (Blend{0, 1}) {
		t.Errorf("SetRule(Bulk-SGD): w_dom %v, w_bulk %v, update %q", c.WDom, c.WBulk, c.Update)
	}
	raw, _ := json.Marshal(c)
	if strings.Contains(string(raw), `"update"`) {
		t.Errorf("a blend's config.json names update: %s", raw)
	}
	c.WDom, c.WBulk = 1, 1
	if c.Alpha() != 0.5 {
		t.Errorf("SGD at α = %v", c.Alpha())
	}
	if c.Fingerprint() != fp {
		t.Error("the fingerprint of a blend changed")
	}
	var spec RuleSpec
	if err := spec.UnmarshalText([]byte("Dom-Damped=0.5")); err != nil || spec != "dom-damped=0.5" {
		t.Fatalf("RuleSpec: %q, %v", spec, err)
	}
	c.Update = spec
	if c.Rule() != (DomDamped{C: 0.5}) || c.Validate() != nil {
		t.Errorf("update dom-damped=0.5: rule %+v, %v", c.Rule(), c.Validate())
	}
	if a := c.Alpha(); !math.IsNaN(a) {
		t.Errorf("Dom-damped on the slider at α = %v", a)
	}
	raw, _ = json.Marshal(c)
	if !strings.Contains(string(raw), `"update":"dom-damped=0.5"`) {
		t.Errorf("config.json: %s", raw)
	}
	back, err := ParseConfig(raw)
	if err != nil || back.Rule() != c.Rule() {
		t.Errorf("config.json round trip: %+v, %v", back.Rule(), err)
	}
	if err := spec.UnmarshalText([]byte("fast")); err == nil {
		t.Error("update fast accepted")
	}
	c.Optimizer = Adam
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "Adam does not have") {
		t.Errorf("dom-damped with Adam: %v", err)
	}
	c.Optimizer, c.Update = SGD, "bogus"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), `update: update rule "bogus"`) {
		t.Errorf("a bogus update: %v", err)
	}
	if _, err := ParseConfig([]byte(`{"preset": "demo", "update": "dom-damped=-1"}`)); err == nil {
		t.Error(`{"update": "dom-damped=-1"} accepted`)
	}
	// A JSON config may write a blend as a rule.
	got, err := ParseConfig([]byte(`{"preset": "demo", "update": "alpha=0.25"}`))
	if err != nil || got.WDom != 1 || got.WBulk != 0.5 || got.Update != "" {
		t.Errorf(`{"update": "alpha=0.25"}: %v %v %q, %v`, got.WDom, got.WBulk, got.Update, err)
	}
}

// Apply logs each change with its fields, and the text as before.
func TestApplyChangeFields(t *testing.T) {
	tr, _ := run(t, small(), 1)
	tr.TakeEvents()
	nan := math.NaN()
	for _, tc := range []struct {
		change   func(c *Config)
		setting  string
		old, new float64
		from, to string
		text     string
	}{
		{func(c *Config) { c.LR = 0.05 }, "lr", 0.1, 0.05, "0.1", "0.05", "η = 0.05 (2/η = 40)"},
		{func(c *Config) { c.K = 6 }, "k", 4, 6, "4", "6", "k = 6"},
		{func(c *Config) { c.Batch = 64 }, "batch", 32, 64, "32", "64", "batch 64"},
		{func(c *Config) { c.RefreshEvery = 0 }, "refresh", 1, 0, "1", "0", "eigenspace refresh only on request (T manual)"},
		{func(c *Config) { c.Momentum = 0.5 }, "momentum", 0, 0.5, "0", "0.5", "momentum β = 0.5"},
		{func(c *Config) { c.WDom, c.WBulk = 0, 1 }, "update", nan, nan, "sgd", "bulk", "update Bulk-SGD (w_dom 0.00, w_bulk 1.00)"},
		{func(c *Config) { c.SetRule(DomDamped{C: 1}) }, "update", nan, nan, "bulk", "dom-damped", "update Dom-damped (w_dom,i = min(1, 1·edge/λᵢ), w_bulk 1)"},
		{func(c *Config) { c.SetRule(Blend{0, 1}) }, "update", nan, nan, "dom-damped", "bulk", "update Bulk-SGD (w_dom 0.00, w_bulk 1.00)"},
		{func(c *Config) { c.Optimizer = Adam }, "optimizer", nan, nan, "sgd", "adam", "optimizer adam"},
	} {
		c := tr.Config()
		tc.change(&c)
		if err := tr.Apply(c); err != nil {
			t.Fatalf("%s: %v", tc.setting, err)
		}
		ev := tr.TakeEvents()
		if len(ev) != 1 || ev[0].Change == nil {
			t.Fatalf("%s: events %+v", tc.setting, ev)
		}
		ch := ev[0].Change
		same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
		if ch.Setting != tc.setting || !same(ch.Old, tc.old) || !same(ch.New, tc.new) || ch.From != tc.from || ch.To != tc.to {
			t.Errorf("change %+v, want %s %v → %v (%q → %q)", *ch, tc.setting, tc.old, tc.new, tc.from, tc.to)
		}
		if ev[0].Text != tc.text || ev[0].Kind != EventCommand {
			t.Errorf("%s: text %q, want %q", tc.setting, ev[0].Text, tc.text)
		}
		raw, _ := json.Marshal(ev[0])
		if strings.Contains(string(raw), "Change") || strings.Contains(string(raw), "setting") {
			t.Errorf("the change reached events.jsonl: %s", raw)
		}
	}
	// Setting the rule it already has is no change.
	c := tr.Config()
	c.Optimizer = SGD
	tr.Apply(c)
	tr.TakeEvents()
	c.SetRule(Blend{0, 1})
	if err := tr.Apply(c); err != nil {
		t.Fatal(err)
	}
	if ev := tr.TakeEvents(); len(ev) != 0 {
		t.Errorf("no change logged %+v", ev)
	}
}

// Dom-damped trains: the step's update is the dense reference direction for the basis in use
// (θ before − θ after = η d with plain SGD), χ is still ‖P_dom g‖/‖g‖, the line records the
// weight on v₁, and the loss falls.
func TestDomDampedTrains(t *testing.T) {
	c := small()
	c.Batch, c.RefreshEvery, c.LR, c.EvalEvery = 0, 0, 4, 1 // full batch, one basis, a large η
	c.SetRule(DomDamped{C: 1})
	tr, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	first := steps(t, tr, 1)[0] // refreshes the basis
	b := tr.Basis()
	edge := c.StabilityThreshold()
	if b.Values[0] <= edge {
		t.Fatalf("λ₁ %.4g at or below the edge %.4g: nothing to damp, pick a larger η", b.Values[0], edge)
	}
	for range 3 {
		th := tr.Theta()
		bound, err := tr.Model().Bind(th, &tr.train)
		if err != nil {
			t.Fatal(err)
		}
		g := bound.Grad()
		w := make([]float64, len(b.Values))
		for i, l := range b.Values {
			w[i] = math.Min(1, edge/l)
		}
		want := denseDirection(b.Vectors, w, g)
		m := steps(t, tr, 1)[0]
		after := tr.Theta()
		worst, scale := 0.0, 0.0
		for i := range th {
			worst = math.Max(worst, math.Abs((th[i]-after[i])/c.LR-want[i]))
			scale = math.Max(scale, math.Abs(want[i]))
		}
		if worst > 1e-9*scale {
			t.Errorf("step %d: worst difference from the dense direction %.3g (scale %.3g)", m.Step, worst, scale)
		}
		if wc := denseChi(b.Vectors, g); math.Abs(float64(m.ChiGrad)-wc) > 1e-12 {
			t.Errorf("step %d: χ %v, want %v", m.Step, m.ChiGrad, wc)
		}
		if m.WDom != edge/b.Values[0] || m.WBulk != 1 {
			t.Errorf("step %d: recorded weights (%v, %v), want (%v, 1)", m.Step, m.WDom, m.WBulk, edge/b.Values[0])
		}
	}
	last := steps(t, tr, 60)
	l0, l1 := float64(first.TrainLoss), float64(last[len(last)-1].TrainLoss)
	t.Logf("Dom-damped at η = %g (edge %.3g, λ₁ %.3g): train loss %.4f → %.4f", c.LR, edge, b.Values[0], l0, l1)
	if !(l1 < 0.9*l0) {
		t.Errorf("train loss %.4f after 64 steps, want below 0.9 × %.4f", l1, l0)
	}
}

func ExampleParseRule() {
	for _, s := range []string{"bulk", "alpha=0.25", "w=2/0.5", "dom-damped", "dom-damped=0.5"} {
		r, err := ParseRule(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%-15s %-20s %-7s %s\n", r, r.Name(), r.Label(), r.Detail())
	}
	_, err := ParseRule("alpha=2")
	fmt.Println(err)
	// Output:
	// bulk            Bulk-SGD             Bulk    w_dom 0.00, w_bulk 1.00
	// alpha=0.25      α = 0.25             α 0.25  w_dom 1.00, w_bulk 0.50
	// w=2/0.5         (2.00, 0.50)         w2,0.5  w_dom 2.00, w_bulk 0.50
	// dom-damped      Dom-damped           Damped  w_dom,i = min(1, 1·edge/λᵢ), w_bulk 1
	// dom-damped=0.5  Dom-damped c = 0.5   Dmp0.5  w_dom,i = min(1, 0.5·edge/λᵢ), w_bulk 1
	// update rule "alpha=2": α "2", want a number in [0, 1]
}
