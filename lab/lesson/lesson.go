// Package lesson reads lesson files: guided walks through the lab that a teacher writes and
// shares. A lesson is an ordered list of steps; each step has a caption, actions on the
// engine (settings, pause, reset, …), a condition to move on, and claims about what the
// screen will show, which the tests check by running the lesson headless.
//
// The format is TOML (docs/LESSONS.md):
//
//	title   = "Edge of stability"
//	summary = "Full-batch GD: λ₁ rises to 2/η and stays there."
//	preset  = "eos"
//	seed    = 1
//
//	[[step]]
//	title   = "Train"
//	caption = "…Markdown…"
//	do      = { lr = 0.4, alpha = 0.5 }
//	until   = { steps = 600 }
//	expect  = [ { metric = "sharpness/edge", above = 0.95 } ]
//
// The engine plays a lesson (sharpflat/lab); this package only reads it and says what its
// conditions mean.
package lesson

// Lesson is a parsed lesson file.
type Lesson struct {
	Name    string // the file's base name without .toml ("edge-of-stability")
	File    string // the name given to Parse (the path given to Load), for messages "FILE:LINE"
	Title   string // required
	Summary string // one line for lists
	Preset  string // the preset the lesson starts from (required)
	Seed    uint64 // 0: the preset's seed
	Steps   []Step // at least one
}

// Views are the values of a step's show: what the spectrum panel draws (the density of the
// whole spectrum, the top-k bars), or the fine decision picture or the neurons view (every
// hidden unit over the input plane) that the screen opens in its place.
var Views = []string{"density", "bars", "neurons", "picture"}

// Step is one page of a lesson.
type Step struct {
	Title   string
	Caption string // Markdown: paragraphs, **bold**, *italic*, `code`, "- " lists
	// Show switches the lab's spectrum panel to one of Views when the step begins ("": as the
	// user left it): the density of the whole spectrum, the top-k bars, the decision picture
	// or the neurons. The screen does it (the engine has nothing to show), and the user may
	// switch back.
	Show   string
	Do     Actions
	Until  Until
	Expect []Expect
	Line   int // line of the step's [[step]] header, for messages
}

// Actions are what a step does to the engine when it begins, applied in this order:
// preset, seed/reset and the setup (one fresh start), the end of a race, rollback, the
// settings, recompute, checkpoint, the start of a race. A nil field leaves the setting as it
// is.
//
// A race lasts from the step that starts it to the step that ends it (race = [], or another
// race), or to a fresh start (preset, seed, reset, a setup key). While it runs, a step may not change the
// settings, roll back, recompute or checkpoint (the arms' specs say how they differ; end the
// race first), and its conditions and claims may name its arms ("train_loss@bulk"); a metric
// without an arm is the focused arm's, the lab's run.
type Actions struct {
	Preset string  // load this preset (a fresh start)
	Seed   *uint64 // reset with this seed
	Reset  bool    // a fresh start with the current settings and seed
	// Setup changes the network or the data (hidden, act, loss, data, n, test_frac,
	// weight_decay, noise, features: SetupKeys) for a fresh start, on the preset's or the
	// current configuration, in the order written.
	Setup      []Setting
	Rollback   bool     // back to the checkpoint the lab's u would choose (the newest made by hand, else the newest automatic one)
	Alpha      *float64 // the slider: 0 Dom-SGD, 0.5 SGD, 1 Bulk-SGD
	WDom       *float64 // or the weights directly (0…10)
	WBulk      *float64
	LR         *float64 // η > 0
	Momentum   *float64 // β in [0, 1)
	Batch      *int     // 0: full batch
	K          *int     // the Dominant subspace size ≥ 1
	Refresh    *int     // T: refresh the eigenspace every T steps (0: only on request)
	Recompute  bool     // refresh the eigenspace now (explicit residuals, the G/F split)
	Checkpoint bool     // keep the state for a later rollback
	Pause      bool     // do not train during this step, whatever Until says
	// Race starts a race of these arms (at most MaxArms, each as CanonicalArm writes it:
	// "dom", "bulk:lr*2") from the state the other actions made; a race running before
	// ends first, keeping its focused arm. Empty (race = []): end the race only. Nil: a
	// race running goes on.
	Race []string
}

// Fresh reports whether the actions begin a fresh run: a preset, a seed, a reset or a setup
// key.
func (a Actions) Fresh() bool { return a.Preset != "" || a.Seed != nil || a.Reset || len(a.Setup) > 0 }

// Until is the condition to move on. A step with Steps or Metric trains until it holds and
// then pauses, waiting for the user (or goes on by itself with Auto); a step with neither
// does not train and waits for the user (space or →).
type Until struct {
	Steps    int      // train this many steps (rounds, in a race)
	Metric   string   // or train until this metric (see Metrics; "name@arm" in a race) …
	Above    *float64 // … rises above this value
	Below    *float64 // … or falls below it
	MaxSteps int      // a metric condition gives up after this many steps (default DefaultMaxSteps)
	Auto     bool     // when it holds, go on to the next step without waiting
}

// DefaultMaxSteps bounds a step that waits for a metric.
const DefaultMaxSteps = 5000

// Trains reports whether a step with this condition trains.
func (u Until) Trains() bool { return u.Steps > 0 || u.Metric != "" }

// Expect is a claim a step's caption makes about the screen, checked at the step's end (and,
// with Throughout, at every step on the way). Exactly one of the relations is set.
type Expect struct {
	Metric string   // a metric (see Metrics), or "name@arm": the metric of an arm of the race
	Above  *float64 // the value at the step's end is above this
	Below  *float64 // … below this
	// AboveMetric and BelowMetric compare with another metric (or an arm's) instead of a
	// number: the value at the step's end is above (below) that metric's then.
	AboveMetric, BelowMetric string
	Throughout               bool     // Above/Below hold at every measured training step of the step
	FallsBy                  *float64 // the value falls by at least this fraction of its value at the step's start
	RisesBy                  *float64 // … rises by at least this fraction
	Within                   *float64 // |relative change| over the step is at most this fraction
	Line                     int      // line of the claim, for messages
}
