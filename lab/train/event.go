package train

import (
	"fmt"
	"time"
)

// EventKind says what an event is about.
type EventKind int

const (
	EventCommand    EventKind = iota // a setting changed, or pause/resume/reset
	EventRefresh                     // an eigenspace refresh worth telling (asked for, or not converged)
	EventDivergence                  // training diverged; Event.Divergence has the numbers
	EventRollback                    // θ went back to a checkpoint
	EventCheckpoint                  // a checkpoint was taken by hand
	EventError                       // something failed; training may go on
)

var eventKindNames = [...]string{"command", "refresh", "divergence", "rollback", "checkpoint", "error"}

func (k EventKind) String() string {
	if k >= 0 && int(k) < len(eventKindNames) {
		return eventKindNames[k]
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// MarshalText writes the kind's name, as events.jsonl stores it.
func (k EventKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a kind's name.
func (k *EventKind) UnmarshalText(b []byte) error {
	for i, n := range eventKindNames {
		if string(b) == n {
			*k = EventKind(i)
			return nil
		}
	}
	return fmt.Errorf("unknown event kind %q", b)
}

// Event is a line of the event log (and of events.jsonl). Text is for people; the fields of a
// divergence are in Divergence, those of a setting's change in Change.
type Event struct {
	Step       int         `json:"step"`
	Time       time.Time   `json:"time"`
	Kind       EventKind   `json:"kind"`
	Text       string      `json:"text"`
	Divergence *Divergence `json:"divergence,omitempty"`
	// Change is set on the EventCommand events of Trainer.Apply. It lives in memory only:
	// events.jsonl keeps the lines it had before settings carried fields (its readers, and
	// runs written before, know Text alone), so code that needs the change reads it here.
	Change *Change `json:"-"`
}

// Change is one setting that Trainer.Apply changed, as fields.
type Change struct {
	// Setting is the flag name of what changed: "optimizer", "batch", "lr", "momentum",
	// "update" (the rule, whichever of w_dom, w_bulk and update changed it), "k", "refresh",
	// "hessian-set".
	Setting string
	// Old and New are the values of a numeric setting; NaN for a choice (optimizer, update).
	Old, New float64
	// From and To are the values as the flag writes them: "0.05", "adam", "none" and, for
	// the update, Rule.String ("sgd", "alpha=0.25", "dom-damped").
	From, To string
}

// Divergence is what was measured at the step where training diverged.
type Divergence struct {
	Step          int    `json:"step"`
	Loss          Num    `json:"loss"`           // the minibatch loss of the step (may be ±Inf or NaN)
	Sharpness     Num    `json:"sharpness"`      // λ₁ of the basis in use
	Threshold     Num    `json:"threshold"`      // the stability threshold 2/η or (2+2β)/η
	ThresholdName string `json:"threshold_name"` // "2/η" or "(2+2β)/η"
	Reason        string `json:"reason"`         // "non-finite loss", "loss above 20× the initial", "non-finite θ"
}

// Summary is the divergence in one line: "diverged at step 412: loss 3.1e+02, λ₁ 45.2, 2/η 20".
func (d *Divergence) Summary() string {
	return fmt.Sprintf("diverged at step %d: loss %.4g, λ₁ %.4g, %s %.4g", d.Step, float64(d.Loss),
		float64(d.Sharpness), d.ThresholdName, float64(d.Threshold))
}
