package train

// The update rule: how a step turns the minibatch gradient g into the direction d that the
// optimizer steps along, given the Dominant basis. A rule is a type that knows its direction,
// its name, its short label and the curvature it feels, so adding one is adding one type
// (rule_domdamped.go is the example). The weighted blend of the two projections, Blend,
// holds SGD, Dom-SGD, Bulk-SGD and everything on the α slider.

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Rule is an update rule d = d(g; V, λ, edge).
type Rule interface {
	// Direction stores d in dst (length P, may be g) for the minibatch gradient g and returns
	// χ = ‖P_dom g‖/‖g‖ of g (0 for g = 0; 0 without a basis).
	Direction(dst, g []float64, s Subspace) float64

	// Weights are the weights d puts on v₁ (the sharpest direction, curvature top) and on the
	// Bulk, given the stability threshold edge: what metrics.jsonl records as w_dom and
	// w_bulk, and from which a reader of the files works out the felt curvature
	// (Blend{w_dom, w_bulk}.Felt is the rule's own Felt).
	Weights(top, edge float64) (wDom, wBulk float64)

	// Felt is the curvature the update moves along, to hold against the edge.
	Felt(c Curvatures) FeltCurvature

	// Name is how the lab and the event log name the update: "SGD", "Dom-SGD", "Bulk-SGD",
	// "α = 0.25", "(0.50, 1.00)", "Dom-damped".
	Name() string
	// Label is the name in at most 6 runes, for a mark on a chart's time axis: "Dom", "SGD",
	// "Bulk", "α 0.30", "w2,0.5", "Damped".
	Label() string
	// Detail says in the event log's words what the name leaves out: "w_dom 1.00, w_bulk 0.50".
	Detail() string
	// String is the rule as ParseRule reads it: "dom", "alpha=0.25", "w=2/0.5", "dom-damped".
	String() string
}

// Subspace is what a rule sees of the state: the Dominant basis in use and the stability
// threshold of the configuration.
type Subspace struct {
	Vectors [][]float64 // V = [v₁ … v_k], orthonormal, each of length P (nil: no basis yet)
	Values  []float64   // λ₁ ≥ … ≥ λ_k, one per vector
	Edge    float64     // Config.StabilityThreshold: 2/η, (2+2β)/η with momentum, NaN for Adam
}

// Curvatures are what the felt curvature is worked out from.
type Curvatures struct {
	Top  float64 // λ₁ of the basis in use (NaN: none yet)
	Next float64 // λ_{k+1}, the top of the Bulk (NaN: not measured)
	Edge float64 // the stability threshold, as in Subspace
}

// FeltCurvature is the curvature an update moves along, V = Weight·λ, and which eigenvalue λ
// decides: λ₁ (the Dominant term) or, when Bulk, λ_{k+1}. V is NaN when a term that counts
// is not measured; the deciding term is then the Dominant one.
type FeltCurvature struct {
	V      float64
	Bulk   bool
	Weight float64
}

// Blend is the two-weight update
//
//	d = w_dom · P_dom g + w_bulk · P_bulk g
//
// SGD is (1, 1), Dom-SGD (1, 0), Bulk-SGD (0, 1); the slider α walks between them
// (Weights). It is the rule the Config's w_dom and w_bulk describe.
type Blend struct{ Dom, Bulk float64 }

// Direction computes d = w_dom P_dom g + w_bulk P_bulk g without forming P×P matrices.
func (b Blend) Direction(dst, g []float64, s Subspace) float64 {
	return direction(dst, g, s.Vectors, b.Dom, b.Bulk)
}

// Weights are the blend's own, whatever the curvature.
func (b Blend) Weights(top, edge float64) (wDom, wBulk float64) { return b.Dom, b.Bulk }

// Felt is max(w_dom·λ₁, w_bulk·λ_{k+1}) (the package's Felt), with the term that decides it. A
// term whose weight is 0 never decides.
func (b Blend) Felt(c Curvatures) FeltCurvature {
	v := Felt(b.Dom, b.Bulk, c.Top, c.Next)
	dom, bulk := b.Dom*c.Top, b.Bulk*c.Next
	switch {
	case math.IsNaN(v), b.Bulk == 0, b.Dom != 0 && (math.IsNaN(bulk) || dom >= bulk):
		return FeltCurvature{V: v, Weight: b.Dom}
	}
	return FeltCurvature{V: v, Bulk: true, Weight: b.Bulk}
}

// Name: "SGD", "Dom-SGD", "Bulk-SGD", or "α = 0.25" on the slider's path, else
// "(w_dom, w_bulk)".
func (b Blend) Name() string {
	switch {
	case b.Dom == 1 && b.Bulk == 1:
		return "SGD"
	case b.Dom == 1 && b.Bulk == 0:
		return "Dom-SGD"
	case b.Dom == 0 && b.Bulk == 1:
		return "Bulk-SGD"
	}
	if a := AlphaOf(b.Dom, b.Bulk); !math.IsNaN(a) {
		return fmt.Sprintf("α = %.2f", a)
	}
	return fmt.Sprintf("(%.2f, %.2f)", b.Dom, b.Bulk)
}

// Label: "Dom", "SGD", "Bulk" for Dom-SGD, SGD, Bulk-SGD; "α 0.30" elsewhere on the slider's
// path; "w2,0.5" (the weights) off it, rounded to fit 6 runes.
func (b Blend) Label() string {
	switch {
	case b.Dom == 1 && b.Bulk == 0:
		return "Dom"
	case b.Dom == 1 && b.Bulk == 1:
		return "SGD"
	case b.Dom == 0 && b.Bulk == 1:
		return "Bulk"
	}
	if a := AlphaOf(b.Dom, b.Bulk); !math.IsNaN(a) {
		return fmt.Sprintf("α %.2f", a)
	}
	// The exact weights if they fit, else rounded to 2, then 1 significant digits.
	for _, digits := range []int{0, 2, 1} {
		f := func(x float64) string {
			if digits > 0 && x != 0 {
				dec := max(0, digits-1-int(math.Floor(math.Log10(math.Abs(x)))))
				p := math.Pow10(dec)
				x = math.Round(x*p) / p
			}
			return strconv.FormatFloat(x, 'f', -1, 64)
		}
		for _, l := range []string{"w" + f(b.Dom) + "," + f(b.Bulk), f(b.Dom) + "," + f(b.Bulk)} {
			if utf8.RuneCountInString(l) <= 6 {
				return l
			}
		}
	}
	return "w≠"
}

// Detail: "w_dom 1.00, w_bulk 0.50".
func (b Blend) Detail() string { return fmt.Sprintf("w_dom %.2f, w_bulk %.2f", b.Dom, b.Bulk) }

// String: "dom", "sgd", "bulk", "alpha=A" when that gives back these weights exactly, else
// "w=D/B" with every digit needed to read the same weights back.
func (b Blend) String() string {
	switch {
	case b.Dom == 1 && b.Bulk == 0:
		return "dom"
	case b.Dom == 1 && b.Bulk == 1:
		return "sgd"
	case b.Dom == 0 && b.Bulk == 1:
		return "bulk"
	}
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	if a := AlphaOf(b.Dom, b.Bulk); !math.IsNaN(a) {
		if d, bu := Weights(a); d == b.Dom && bu == b.Bulk {
			return "alpha=" + g(a)
		}
	}
	return "w=" + g(b.Dom) + "/" + g(b.Bulk)
}

// SameRule reports whether a and b are the same update: equal weights for two blends, the
// same String otherwise.
func SameRule(a, b Rule) bool {
	ab, aok := a.(Blend)
	bb, bok := b.(Blend)
	if aok && bok {
		return ab == bb
	}
	return a.String() == b.String()
}

// ParseRule reads an update rule:
//
//	dom, sgd, bulk         Dom-SGD (1, 0), SGD (1, 1), Bulk-SGD (0, 1)
//	alpha=A                the slider at A ∈ [0, 1] (Weights)
//	w=D/B                  the blend (w_dom, w_bulk) = (D, B), each in [0, 10]
//	dom-damped[=C]         DomDamped with c = C > 0 (default 1)
func ParseRule(s string) (Rule, error) {
	const want = "want dom, sgd, bulk, alpha=A (A in [0, 1]), w=D/B (weights in [0, 10]), dom-damped or dom-damped=C (C > 0)"
	in := strings.ToLower(strings.TrimSpace(s))
	name, arg, hasArg := strings.Cut(in, "=")
	name, arg = strings.TrimSpace(name), strings.TrimSpace(arg)
	num := func(what, x string, ok func(float64) bool, rng string) (float64, error) {
		v, err := strconv.ParseFloat(x, 64)
		if err != nil || !ok(v) {
			return 0, fmt.Errorf("update rule %q: %s %q, want a number %s", s, what, x, rng)
		}
		return v, nil
	}
	switch {
	case !hasArg && name == "dom":
		return Blend{1, 0}, nil
	case !hasArg && name == "sgd":
		return Blend{1, 1}, nil
	case !hasArg && name == "bulk":
		return Blend{0, 1}, nil
	case hasArg && name == "alpha":
		a, err := num("α", arg, func(v float64) bool { return v >= 0 && v <= 1 }, "in [0, 1]")
		if err != nil {
			return nil, err
		}
		d, b := Weights(a)
		return Blend{d, b}, nil
	case hasArg && name == "w":
		ds, bs, ok := strings.Cut(arg, "/")
		if !ok {
			return nil, fmt.Errorf("update rule %q: want w=D/B, the weights w_dom and w_bulk, e.g. w=1/0.5", s)
		}
		in := func(v float64) bool { return v >= 0 && v <= 10 }
		d, err := num("w_dom", strings.TrimSpace(ds), in, "in [0, 10]")
		if err != nil {
			return nil, err
		}
		b, err := num("w_bulk", strings.TrimSpace(bs), in, "in [0, 10]")
		if err != nil {
			return nil, err
		}
		return Blend{d, b}, nil
	case name == "dom-damped":
		if !hasArg {
			return DomDamped{C: 1}, nil
		}
		c, err := num("c", arg, func(v float64) bool { return v > 0 && v <= MaxDamping }, fmt.Sprintf("in (0, %g]", float64(MaxDamping)))
		if err != nil {
			return nil, err
		}
		return DomDamped{C: c}, nil
	}
	return nil, fmt.Errorf("update rule %q: %s", s, want)
}

// RuleSpec is a non-blend update rule as config.json and the --update flag write it
// (Rule.String); empty for the blend of w_dom and w_bulk. It is checked when read.
type RuleSpec string

// MarshalText writes the rule.
func (r RuleSpec) MarshalText() ([]byte, error) { return []byte(r), nil }

// UnmarshalText reads any form ParseRule reads, and keeps it in the rule's own form.
func (r *RuleSpec) UnmarshalText(b []byte) error {
	if strings.TrimSpace(string(b)) == "" {
		*r = ""
		return nil
	}
	rule, err := ParseRule(string(b))
	if err != nil {
		return err
	}
	*r = RuleSpec(rule.String())
	return nil
}

// Rule is the update rule in force: the one Update names, or else the blend (w_dom, w_bulk).
// An Update that does not parse (Validate says so) counts as the blend.
func (c *Config) Rule() Rule {
	if c.Update != "" {
		if r, err := ParseRule(string(c.Update)); err == nil {
			return r
		}
	}
	return Blend{c.WDom, c.WBulk}
}

// SetRule puts r in force: a Blend sets w_dom and w_bulk and clears Update, any other rule
// is written to Update (w_dom and w_bulk keep their values and do not count).
func (c *Config) SetRule(r Rule) {
	if b, ok := r.(Blend); ok {
		c.WDom, c.WBulk, c.Update = b.Dom, b.Bulk, ""
		return
	}
	c.Update = RuleSpec(r.String())
}

// normalizeRule moves a blend written in Update ("sgd", "alpha=0.3") into w_dom and w_bulk,
// so that Update holds only what the two weights cannot say.
func (c *Config) normalizeRule() {
	if c.Update == "" {
		return
	}
	if r, err := ParseRule(string(c.Update)); err == nil {
		c.SetRule(r)
	}
}
