package lab

import "sharpflat/lab/train"

// RaceView is a race as a snapshot shows it: the arms that fork from one state and train in
// lockstep on the same minibatches (see Engine.Race). A snapshot of a race also carries the
// focused arm in its own State and History, so that whatever draws one run draws the focused
// arm unchanged; the other arms are drawn over it from Arms.
type RaceView struct {
	Arms  []ArmView
	Focus int  // index in Arms of the arm the keys act on
	All   bool // keys act on every arm (A)
	At    int  // the step the race forked at
	// Base is the settings in force where the race forked, before any arm's spec: what a
	// command that races again starts from (y).
	Base train.Config
}

// ArmView is one arm of a race in a snapshot. Nothing in it points into the engine.
type ArmView struct {
	Spec  ArmSpec
	Name  string // short, for legends: "Dom", "SGD", "Bulk", "α 0.25", …
	State train.State
	// Run is Running while the race runs, Paused with the race, or Diverged for an arm that
	// diverged and stopped alone (marked ✗) while the others go on.
	Run     RunState
	History *History
}

// ArmSpec says how an arm of a race differs from the state it forks from. Its text form (see
// ParseArm, String) is RULE[:lr*X][:k=N][:m=B], e.g. "bulk", "alpha=0.25", "w=0.5/1",
// "sgd:lr*2", "bulk:k=20:m=0.9"; a race is a comma-separated list of them ("dom,sgd,bulk").
type ArmSpec struct {
	Rule        string  // the update rule, as train.ParseRule reads it ("dom", "sgd", "bulk", …)
	LRScale     float64 // multiplies η (0 means 1)
	K           int     // the Dominant subspace's size (0: unchanged)
	Momentum    float64 // β, when SetMomentum
	SetMomentum bool
}
