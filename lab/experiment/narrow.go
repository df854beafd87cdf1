package experiment

// A report made while some arms are still running (experiment NAME --report) covers the
// finished part of the sweep: each experiment narrows its sweep to the values whose arms are
// all finished.

import (
	"errors"
	"slices"
)

var errNothingFinished = errors.New("no complete set of arms is finished yet")

// finishedPairs narrows two swept lists (for example losses × seeds) to the values whose
// every combination is finished: the rows that have any finished pair, then the columns
// finished in all of them (or, if none, the first such row alone).
func finishedPairs[A, B any](as []A, bs []B, done func(a A, b B) bool) ([]A, []B, error) {
	var rows []A
	for _, a := range as {
		if slices.ContainsFunc(bs, func(b B) bool { return done(a, b) }) {
			rows = append(rows, a)
		}
	}
	if len(rows) == 0 {
		return nil, nil, errNothingFinished
	}
	cols := func(rs []A) []B {
		var out []B
		for _, b := range bs {
			if !slices.ContainsFunc(rs, func(a A) bool { return !done(a, b) }) {
				out = append(out, b)
			}
		}
		return out
	}
	if c := cols(rows); len(c) > 0 {
		return rows, c, nil
	}
	return rows[:1], cols(rows[:1]), nil
}

// finishedValues keeps the values whose arms are all finished.
func finishedValues[A any](as []A, done func(a A) bool) ([]A, error) {
	var out []A
	for _, a := range as {
		if done(a) {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, errNothingFinished
	}
	return out, nil
}

// allFinished reports whether every named arm of group g is finished.
func (r *Results) allFinished(g string, arms ...string) bool {
	for _, a := range arms {
		if r.Find(g, a) == nil {
			return false
		}
	}
	return true
}
