package lesson

// Races in lessons: a step's do.race names the arms that fork from the state the step's other
// actions made and train in lockstep on the same minibatches; a metric may name an arm
// ("train_loss@bulk"), and a claim may compare two metrics ("train_loss@bulk" below
// "train_loss@dom"). An arm is written as the lab writes it (lab.ParseArm, which this
// package cannot import): RULE[:lr*X][:k=N][:m=B], the rule as train.ParseRule reads it.

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"sharpflat/lab/train"
)

// MaxArms is the most arms a race has (lab.MaxArms).
const MaxArms = 6

// maxArmK is the largest subspace size an arm may set (lab.MaxK).
const maxArmK = 100

// CanonicalArm checks one arm of a race and returns it in the form lab's ArmSpec.String
// writes: the rule as train's Rule.String names it ("alpha=0.5" is "sgd"), then lr*X (left
// out when X is 1), k=N and m=B in this order. The engine names an arm by this form, so
// claims, conditions and the engine's arms match however the lesson spelled them.
func CanonicalArm(s string) (string, error) {
	parts := strings.Split(strings.TrimSpace(s), ":")
	name := strings.ToLower(strings.TrimSpace(parts[0]))
	if name == "" {
		return "", errors.New("no update rule: want dom, sgd, bulk, alpha=A, w=D/B or dom-damped, then :lr*X, :k=N or :m=B")
	}
	rule, err := train.ParseRule(name)
	if err != nil {
		return "", err
	}
	var (
		scale = 1.0
		k     int
		m     float64
		setM  bool
		seen  = map[string]bool{}
	)
	for _, p := range parts[1:] {
		p = strings.TrimSpace(p)
		key, val, ok := strings.Cut(p, "=")
		if strings.HasPrefix(p, "lr*") {
			key, val, ok = "lr*", p[3:], true
		}
		switch {
		case ok && seen[key]:
			return "", fmt.Errorf("%q is given twice", key)
		case !ok:
			return "", fmt.Errorf("%q: want lr*X, k=N or m=B after the rule", p)
		}
		seen[key] = true
		switch key {
		case "lr*":
			x, err := strconv.ParseFloat(val, 64)
			if err != nil || !(x > 0) || math.IsInf(x, 0) || x > 100 {
				return "", fmt.Errorf("lr*%s: want a multiplier of η in (0, 100]", val)
			}
			scale = x
		case "k":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > maxArmK {
				return "", fmt.Errorf("k=%s: want a whole number from 1 to %d", val, maxArmK)
			}
			k = n
		case "m":
			b, err := strconv.ParseFloat(val, 64)
			if err != nil || b < 0 || b > 0.999 {
				return "", fmt.Errorf("m=%s: want a momentum β in [0, 0.999]", val)
			}
			m, setM = b, true
		default:
			return "", fmt.Errorf("%q: want lr*X, k=N or m=B after the rule", p)
		}
	}
	out := rule.String()
	if scale != 1 {
		out += ":lr*" + strconv.FormatFloat(scale, 'g', -1, 64)
	}
	if k > 0 {
		out += ":k=" + strconv.Itoa(k)
	}
	if setM {
		out += ":m=" + strconv.FormatFloat(m, 'g', -1, 64)
	}
	return out, nil
}

// SplitArm cuts a metric reference into the metric and the arm it names: "train_loss@bulk"
// is ("train_loss", "bulk"); a plain metric has no arm ("").
func SplitArm(ref string) (metric, arm string) {
	metric, arm, _ = strings.Cut(ref, "@")
	return metric, arm
}

// ArmRef is a metric of one arm, as conditions and claims name it ("train_loss@bulk").
func ArmRef(metric, arm string) string { return metric + "@" + arm }
