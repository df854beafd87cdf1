package lab

// The text form of a race's arms: ParseArm, ParseRace and ArmSpec.String (the grammar is in
// ArmSpec's doc), and what an arm's spec does to the settings it forks from.

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"sharpflat/lab/train"
)

// MaxArms is the most arms a race has.
const MaxArms = 6

// DefaultRace is the race `f` starts: Dom-SGD, SGD and Bulk-SGD from the same point.
var DefaultRace = []ArmSpec{{Rule: "dom"}, {Rule: "sgd"}, {Rule: "bulk"}}

// ParseArm reads one arm: RULE[:lr*X][:k=N][:m=B] (see ArmSpec).
func ParseArm(s string) (ArmSpec, error) {
	parts := strings.Split(strings.TrimSpace(s), ":")
	a := ArmSpec{Rule: strings.ToLower(strings.TrimSpace(parts[0]))}
	if a.Rule == "" {
		return a, errors.New("no update rule: want dom, sgd, bulk, alpha=A, w=D/B or dom-damped")
	}
	r, err := train.ParseRule(a.Rule)
	if err != nil {
		return a, err
	}
	a.Rule = r.String()
	seen := map[string]bool{}
	for _, p := range parts[1:] {
		p = strings.TrimSpace(p)
		key, val, ok := strings.Cut(p, "=")
		if strings.HasPrefix(p, "lr*") {
			key, val, ok = "lr*", p[3:], true
		}
		if !ok || seen[key] {
			if seen[key] {
				return a, fmt.Errorf("%q is given twice", key)
			}
			return a, fmt.Errorf("%q: want lr*X, k=N or m=B after the rule", p)
		}
		seen[key] = true
		switch key {
		case "lr*":
			x, err := strconv.ParseFloat(val, 64)
			if err != nil || !(x > 0) || math.IsInf(x, 0) || x > 100 {
				return a, fmt.Errorf("lr*%s: want a multiplier of η in (0, 100]", val)
			}
			a.LRScale = x
		case "k":
			k, err := strconv.Atoi(val)
			if err != nil || k < 1 || k > MaxK {
				return a, fmt.Errorf("k=%s: want a whole number from 1 to %d", val, MaxK)
			}
			a.K = k
		case "m":
			b, err := strconv.ParseFloat(val, 64)
			if err != nil || b < 0 || b > 0.999 {
				return a, fmt.Errorf("m=%s: want a momentum β in [0, 0.999]", val)
			}
			a.Momentum, a.SetMomentum = b, true
		default:
			return a, fmt.Errorf("%q: want lr*X, k=N or m=B after the rule", p)
		}
	}
	return a, nil
}

// ParseRace reads a comma-separated list of arms ("dom,sgd,bulk"), at most MaxArms and none
// twice. An error names the offending arm by its place and text.
func ParseRace(s string) ([]ArmSpec, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("no arms: want a comma-separated list such as dom,sgd,bulk")
	}
	fields := strings.Split(s, ",")
	if len(fields) > MaxArms {
		return nil, fmt.Errorf("%d arms: a race has 2 to %d, e.g. dom,sgd,bulk", len(fields), MaxArms)
	}
	var specs []ArmSpec
	for i, f := range fields {
		a, err := ParseArm(f)
		if err != nil {
			return nil, fmt.Errorf("arm %d (%q): %w", i+1, strings.TrimSpace(f), err)
		}
		for j, b := range specs {
			if b.String() == a.String() {
				return nil, fmt.Errorf("arm %d (%q) is arm %d again", i+1, strings.TrimSpace(f), j+1)
			}
		}
		specs = append(specs, a)
	}
	if len(specs) < 2 {
		return nil, fmt.Errorf("1 arm: a race has 2 to %d, e.g. dom,sgd,bulk", MaxArms)
	}
	return specs, nil
}

// String is the arm as ParseArm reads it.
func (a ArmSpec) String() string {
	s := a.Rule
	if a.LRScale != 0 && a.LRScale != 1 {
		s += ":lr*" + strconv.FormatFloat(a.LRScale, 'g', -1, 64)
	}
	if a.K > 0 {
		s += ":k=" + strconv.Itoa(a.K)
	}
	if a.SetMomentum {
		s += ":m=" + strconv.FormatFloat(a.Momentum, 'g', -1, 64)
	}
	return s
}

// FormatRace is a race as ParseRace reads it.
func FormatRace(specs []ArmSpec) string {
	var parts []string
	for _, a := range specs {
		parts = append(parts, a.String())
	}
	return strings.Join(parts, ",")
}

// apply puts the arm's settings into c (the settings of the state it forks from).
func (a ArmSpec) apply(c *train.Config, numParams int) error {
	r, err := train.ParseRule(a.Rule)
	if err != nil {
		return err
	}
	c.SetRule(r)
	if a.LRScale != 0 {
		c.LR *= a.LRScale
	}
	if a.K > 0 {
		c.K = min(a.K, numParams-1)
	}
	if a.SetMomentum {
		c.Momentum = a.Momentum
	}
	return nil
}

// name is the arm's short name for legends: the update's label ("Dom", "SGD", "α 0.25"),
// then what else differs ("Bulk η×2", "SGD k20", "Dom β0.9").
func (a ArmSpec) name() string {
	r, err := train.ParseRule(a.Rule)
	if err != nil {
		return a.Rule
	}
	s := r.Label()
	if a.LRScale != 0 && a.LRScale != 1 {
		s += " η×" + strconv.FormatFloat(a.LRScale, 'g', -1, 64)
	}
	if a.K > 0 {
		s += " k" + strconv.Itoa(a.K)
	}
	if a.SetMomentum {
		s += " β" + strconv.FormatFloat(a.Momentum, 'g', -1, 64)
	}
	return s
}
