package lab

import "sharpflat/lab/train"

// SetRule puts the update rule r in force from the next step boundary (train.Config.SetRule:
// a blend sets w_dom and w_bulk, any other rule train.Config.Update). It shares the key
// "weights" with SetAlpha and SetWeights, so the latest of the three wins, and like them it
// marks the time axis with the rule's label (┊Damped) when the update changes.
func (e *Engine) SetRule(r train.Rule) {
	e.setting("weights", func(c *train.Config) { c.SetRule(r) })
}
