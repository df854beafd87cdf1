package train

import (
	"bufio"
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
)

// Checkpoint is everything needed to continue training from a step exactly as if the steps
// after it had not happened: the settings, θ, the optimizer, the minibatch order and RNG, the
// eigenspace and its schedule, and the reference losses. Resuming from it (Restore, or
// Rollback to it) gives the same metrics, bit for bit, as going on without it.
type Checkpoint struct {
	Why       Why
	Config    Config
	Step      int
	Theta     []float64
	Opt       optimizerState
	RNG       []byte // PCG state of the minibatch order
	Perm      []int
	Pos       int
	Basis     Eigenspace
	Pending   bool
	Refreshes int
	RefLoss   float64
	LastTrain float64
	BestTrain float64
}

// Why is why a checkpoint was taken: it decides which checkpoint Rollback prefers and how
// the lab names it. Its text (String, MarshalText) is the word checkpoint files have always
// stored.
type Why string

// The reasons a checkpoint is taken.
const (
	WhyStart  Why = "start"  // the first state of a run (or the state it was restored to)
	WhyAuto   Why = "auto"   // kept every keep_every steps for rollback
	WhyManual Why = "manual" // the user's checkpoint, which Rollback prefers
	WhyResume Why = "resume" // a run directory's resume checkpoint
	WhySwitch Why = "switch" // an experiment's warm-up, from which its arms start
	WhyLesson Why = "lesson" // the start of a lesson step, to step back to
	WhyRace   Why = "race"   // the state a race's arms fork from
)

// whys lists the reasons, for ParseWhy's message.
var whys = []Why{WhyStart, WhyAuto, WhyManual, WhyResume, WhySwitch, WhyLesson, WhyRace}

// ParseWhy reads a reason from its word.
func ParseWhy(s string) (Why, error) {
	if w := Why(s); slices.Contains(whys, w) {
		return w, nil
	}
	words := make([]string, len(whys))
	for i, w := range whys {
		words[i] = string(w)
	}
	return "", fmt.Errorf("unknown checkpoint reason %q (allowed: %s)", s, strings.Join(words, ", "))
}

// String is the reason's word.
func (w Why) String() string { return string(w) }

// MarshalText writes the reason's word; an unknown reason is an error.
func (w Why) MarshalText() ([]byte, error) {
	if _, err := ParseWhy(string(w)); err != nil {
		return nil, err
	}
	return []byte(w), nil
}

// UnmarshalText reads a reason's word.
func (w *Why) UnmarshalText(b []byte) error {
	v, err := ParseWhy(string(b))
	if err != nil {
		return err
	}
	*w = v
	return nil
}

// Name words the reason for people: "your checkpoint", "the automatic checkpoint", "the
// start".
func (w Why) Name() string {
	switch w {
	case WhyManual:
		return "your checkpoint"
	case WhyAuto:
		return "the automatic checkpoint"
	case WhyStart:
		return "the start"
	case "":
		return "the checkpoint"
	}
	return "the " + string(w) + " checkpoint"
}

// maxCheckpoints bounds the memory kept for rollback.
const maxCheckpoints = 8

// Save returns a checkpoint of the current state (a deep copy). An unknown reason is a
// programming error.
func (t *Trainer) Save(why Why) *Checkpoint {
	if _, err := ParseWhy(string(why)); err != nil {
		panic("train: Save: " + err.Error())
	}
	st, err := t.pcg.MarshalBinary()
	if err != nil {
		panic(err) // PCG's MarshalBinary cannot fail
	}
	return &Checkpoint{
		Why: why, Config: t.Config(), Step: t.step, Theta: slices.Clone(t.theta), Opt: t.opt.clone(),
		RNG: st, Perm: slices.Clone(t.perm), Pos: t.pos, Basis: t.basis, Pending: t.pending,
		Refreshes: t.refreshes, RefLoss: t.refLoss, LastTrain: t.lastTrain, BestTrain: t.bestTrain,
	}
}

// keep adds a checkpoint of the current state to the ring Rollback uses.
func (t *Trainer) keep(why Why) {
	cp := t.Save(why)
	if n := len(t.checkpts); n > 0 && t.checkpts[n-1].Step == t.step {
		t.checkpts[n-1] = cp
	} else {
		t.checkpts = append(t.checkpts, cp)
	}
	if len(t.checkpts) > maxCheckpoints {
		// Keep the oldest (the start), the newest, and the user's newest checkpoint: drop
		// the oldest of the others.
		mine := t.manualIndex(math.MaxInt)
		drop := 1
		if drop == mine {
			drop++
		}
		t.checkpts = append(t.checkpts[:drop], t.checkpts[drop+1:]...)
	}
}

// manualIndex is the index of the newest checkpoint the user made (WhyManual) at or
// before step, -1 if none.
func (t *Trainer) manualIndex(step int) int {
	for i := len(t.checkpts) - 1; i >= 0; i-- {
		if cp := t.checkpts[i]; cp.Why == WhyManual && cp.Step <= step {
			return i
		}
	}
	return -1
}

// Checkpoint keeps the current state for a later Rollback: the user's checkpoint, which
// Rollback prefers to the automatic ones. It is refused after a divergence (there is nothing
// worth keeping: roll back first).
func (t *Trainer) Checkpoint() {
	if t.diverged != nil {
		t.event(EventError, "no checkpoint of a diverged state: roll back (u) or reset first")
		return
	}
	t.keep(WhyManual)
	t.event(EventCheckpoint, fmt.Sprintf("checkpoint at step %d", t.step))
}

// Kept returns the checkpoints kept for rollback, oldest first. A checkpoint is never changed
// once made, so the slice may be kept and given back to SetKept.
func (t *Trainer) Kept() []*Checkpoint { return slices.Clone(t.checkpts) }

// SetKept replaces the checkpoints kept for rollback (by ones Kept returned, of a trainer
// with the same network): a trainer restored to an earlier state gets back the rollback
// targets it had then.
func (t *Trainer) SetKept(cps []*Checkpoint) { t.checkpts = slices.Clone(cps) }

// Checkpoints returns the steps of the checkpoints kept for rollback, oldest first.
func (t *Trainer) Checkpoints() []int {
	s := make([]int, len(t.checkpts))
	for i, cp := range t.checkpts {
		s[i] = cp.Step
	}
	return s
}

// rollbackIndex is the checkpoint Rollback returns to: the newest one the user made at or
// before the current step (at the current step it restores what was kept there); failing
// that the newest one older than the current step, or the oldest if none is older; -1 when
// there are none. Checkpoints are never made after a divergence, so after one this is a
// state from before it.
func (t *Trainer) rollbackIndex() int {
	if i := t.manualIndex(t.step); i >= 0 {
		return i
	}
	i := len(t.checkpts) - 1
	for i > 0 && t.checkpts[i].Step >= t.step {
		i--
	}
	return i
}

// RollbackTarget is the step Rollback would return to (-1: none).
func (t *Trainer) RollbackTarget() int {
	if i := t.rollbackIndex(); i >= 0 {
		return t.checkpts[i].Step
	}
	return -1
}

// RollbackWhy is the word of the Why of the checkpoint Rollback would return to: "manual"
// (the user's), "auto", "start", or what a restored checkpoint says; "" when there is none.
// (A string while State.RollbackWhy is one.)
func (t *Trainer) RollbackWhy() string {
	if i := t.rollbackIndex(); i >= 0 {
		return t.checkpts[i].Why.String()
	}
	return ""
}

// CheckpointName words a checkpoint's Why, given by its word, for people (Why.Name).
func CheckpointName(why string) string { return Why(why).Name() }

// Rollback restores the checkpoint of rollbackIndex (the user's newest at or before the
// current step, else the newest older than it, else the oldest) and clears a divergence. The settings in force stay as they are, except
// the optimizer state, which restarts if the optimizer has changed since.
func (t *Trainer) Rollback() error {
	i := t.rollbackIndex()
	if i < 0 {
		t.event(EventError, "no checkpoint to roll back to")
		return errors.New("no checkpoint to roll back to")
	}
	cp := t.checkpts[i]
	from := t.step
	t.load(cp)
	if t.opt.Kind != t.cfg.Optimizer { // switched since: the settings in force win
		t.opt = newOptimizerState(t.cfg.Optimizer, len(t.theta))
	}
	t.checkpts = t.checkpts[:i+1]
	t.event(EventRollback, fmt.Sprintf("rolled back from step %d to %s at step %d", from, cp.Why.Name(), cp.Step))
	return nil
}

// load puts the training state of cp in place (not its settings).
func (t *Trainer) load(cp *Checkpoint) {
	t.step = cp.Step
	copy(t.theta, cp.Theta)
	t.opt = cp.Opt.clone()
	if err := t.pcg.UnmarshalBinary(cp.RNG); err != nil {
		panic(err)
	}
	t.perm, t.pos = slices.Clone(cp.Perm), cp.Pos
	t.basis, t.pending, t.refreshes = cp.Basis, cp.Pending, cp.Refreshes
	t.refLoss, t.lastTrain, t.bestTrain = cp.RefLoss, cp.LastTrain, cp.BestTrain
	t.diverged = nil
}

// Restore builds a Trainer from a checkpoint (for example one read from a file): the
// checkpoint's settings, data and network, and its training state. Training on from it gives
// the same metrics as the run it was taken from. The checkpoint is the rollback target.
func Restore(cp *Checkpoint) (*Trainer, error) {
	t, err := New(cp.Config)
	if err != nil {
		return nil, err
	}
	if len(cp.Theta) != len(t.theta) || len(cp.Opt.Buf) != len(t.theta) {
		return nil, fmt.Errorf("checkpoint holds %d parameters, its network %s has %d", len(cp.Theta), t.model, len(t.theta))
	}
	t.load(cp)
	if t.basis.NextVector == nil { // a checkpoint from before λ_{k+1} was kept, or without it
		t.basis.Next = math.NaN()
	}
	t.checkpts = []*Checkpoint{cp}
	return t, nil
}

// checkpointMagic starts a checkpoint file; the digit is the format version.
const checkpointMagic = "sharpflat checkpoint 1\n"

// checkpointFile is a Checkpoint as its file holds it (gob): the same fields, with Why as a
// plain string, as it has always been written. A Why of its own type would change the bytes
// (gob encodes a TextMarshaler as one) and refuse the files written before.
type checkpointFile[C any] struct {
	Why       string
	Config    C
	Step      int
	Theta     []float64
	Opt       optimizerState
	RNG       []byte
	Perm      []int
	Pos       int
	Basis     Eigenspace
	Pending   bool
	Refreshes int
	RefLoss   float64
	LastTrain float64
	BestTrain float64
}

// WriteTo writes the checkpoint in a binary form that keeps every number exactly.
func (cp *Checkpoint) WriteTo(w io.Writer) (int64, error) {
	why, err := cp.Why.MarshalText()
	if err != nil {
		return 0, err
	}
	// gob names a struct type by its bare name in the stream: the file's type is
	// "Checkpoint", as it was when the Checkpoint itself was encoded.
	// and its Config's is "Config" (checkpoint_config.go).
	type Config configV1
	type Checkpoint checkpointFile[Config]
	var conf configV1
	later := splitConfig(&cp.Config, &conf)
	f := Checkpoint{Why: string(why), Config: Config(conf), Step: cp.Step, Theta: cp.Theta, Opt: cp.Opt, RNG: cp.RNG,
		Perm: cp.Perm, Pos: cp.Pos, Basis: cp.Basis, Pending: cp.Pending, Refreshes: cp.Refreshes,
		RefLoss: cp.RefLoss, LastTrain: cp.LastTrain, BestTrain: cp.BestTrain}
	var b bytes.Buffer
	b.WriteString(checkpointMagic)
	if err := gob.NewEncoder(&b).Encode(&f); err != nil {
		return 0, err
	}
	if err := writeLater(&b, later); err != nil {
		return 0, err
	}
	return b.WriteTo(w)
}

// ReadCheckpoint reads what WriteTo wrote.
func ReadCheckpoint(r io.Reader) (*Checkpoint, error) {
	head := make([]byte, len(checkpointMagic))
	if _, err := io.ReadFull(r, head); err != nil || string(head) != checkpointMagic {
		return nil, errors.New("not a sharpflat checkpoint (or from another version)")
	}
	type Config configV1
	type Checkpoint checkpointFile[Config]
	var f Checkpoint
	br := bufio.NewReader(r)
	if err := gob.NewDecoder(br).Decode(&f); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	later, err := readLater(br)
	if err != nil {
		return nil, err
	}
	v1 := configV1(f.Config)
	conf, err := joinConfig(&v1, later)
	if err != nil {
		return nil, err
	}
	return checkpointFile[Config](f).checkpoint(conf)
}

// checkpoint is the Checkpoint the file holds.
func (f checkpointFile[C]) checkpoint(conf Config) (*Checkpoint, error) {
	why, err := ParseWhy(f.Why)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	return &Checkpoint{Why: why, Config: conf, Step: f.Step, Theta: f.Theta, Opt: f.Opt, RNG: f.RNG,
		Perm: f.Perm, Pos: f.Pos, Basis: f.Basis, Pending: f.Pending, Refreshes: f.Refreshes,
		RefLoss: f.RefLoss, LastTrain: f.LastTrain, BestTrain: f.BestTrain}, nil
}

// newPCG returns the PCG of a config's minibatch order.
func newPCG(seed uint64) *rand.PCG { return rand.NewPCG(seed, 0xba7c4) }

// StartFrom replaces the seeded initial θ by theta (weights trained elsewhere, say), before
// the first step: the start checkpoint is taken again from it. theta must have the
// network's length and be finite.
func (t *Trainer) StartFrom(theta []float64) error {
	if t.step != 0 {
		return fmt.Errorf("StartFrom after %d steps: only a new run can start from given weights", t.step)
	}
	if len(theta) != len(t.theta) {
		return fmt.Errorf("%d parameters given, the network %s has %d", len(theta), t.model, len(t.theta))
	}
	for i, v := range theta {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("θ[%d] is %v", i, v)
		}
	}
	copy(t.theta, theta)
	t.checkpts = nil
	t.keep(WhyStart)
	return nil
}
