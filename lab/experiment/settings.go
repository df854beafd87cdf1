package experiment

// The settings an experiment puts over its preset, typed: each one assigns a field of
// train.Config in code (a misspelt field or a value of the wrong type fails to compile), and
// carries the name of that field's setting so that a value the user gives for it wins.

import "sharpflat/lab/train"

// Setting is one setting of train.Config that an experiment fixes over its preset unless the
// user gives it.
type Setting struct {
	// Field is the name of the train.Config setting it assigns (train.FieldByName): a value
	// given for it by the user wins over the experiment's.
	Field string
	set   func(*train.Config)
}

// Apply assigns the setting in c.
func (s Setting) Apply(c *train.Config) { s.set(c) }

// RefreshEvery sets T, the steps between refreshes of the eigenspace.
func RefreshEvery(t int) Setting {
	return Setting{"refresh", func(c *train.Config) { c.RefreshEvery = t }}
}

// EnergyEvery sets the refreshes between curvature-energy estimates (0: never).
func EnergyEvery(n int) Setting {
	return Setting{"energy-every", func(c *train.Config) { c.EnergyEvery = n }}
}

// EvalEvery sets the steps between full-train and test evaluations.
func EvalEvery(n int) Setting {
	return Setting{"eval-every", func(c *train.Config) { c.EvalEvery = n }}
}

// HutchSamples sets the Hutchinson probes of an energy estimate.
func HutchSamples(n int) Setting {
	return Setting{"hutch-samples", func(c *train.Config) { c.HutchSamples = n }}
}

// HessianSet sets the examples of the Hessian set (0: all up to 2048).
func HessianSet(n int) Setting {
	return Setting{"hessian-set", func(c *train.Config) { c.HessianSet = n }}
}

// Examples sets the number of examples generated.
func Examples(n int) Setting {
	return Setting{"n", func(c *train.Config) { c.N = n }}
}

// Hidden sets the widths of the hidden layers.
func Hidden(widths ...int) Setting {
	return Setting{"hidden", func(c *train.Config) { c.Hidden = append([]int(nil), widths...) }}
}

// K sets the size of the Dominant subspace.
func K(k int) Setting {
	return Setting{"k", func(c *train.Config) { c.K = k }}
}

// Settings returns the settings the experiment puts over its preset unless given, in the
// order they apply: its Config, then (quick) its QuickConfig, whose settings replace those
// of the same field.
func (x *Experiment) Settings(quick bool) []Setting {
	var out []Setting
	add := func(s Setting) {
		for i := range out {
			if out[i].Field == s.Field {
				out[i] = s
				return
			}
		}
		out = append(out, s)
	}
	for _, s := range x.Config {
		add(s)
	}
	if quick {
		for _, s := range x.QuickConfig {
			add(s)
		}
	}
	return out
}

// ApplySettings puts the experiment's settings over c, but for those whose field given
// reports as set by the user (given may be nil: none is).
func (x *Experiment) ApplySettings(c *train.Config, quick bool, given func(field string) bool) {
	for _, s := range x.Settings(quick) {
		if given == nil || !given(s.Field) {
			s.Apply(c)
		}
	}
}

// BatchSharpnessEvery sets the steps between estimates of the batch sharpness and the
// update's batch curvature (0: never).
func BatchSharpnessEvery(n int) Setting {
	return Setting{"batch-sharpness-every", func(c *train.Config) { c.BatchSharpnessEvery = n }}
}

// BatchSharpnessBatches sets the fresh minibatches of a batch-sharpness estimate (0: 32).
func BatchSharpnessBatches(m int) Setting {
	return Setting{"batch-sharpness-batches", func(c *train.Config) { c.BatchSharpnessBatches = m }}
}
