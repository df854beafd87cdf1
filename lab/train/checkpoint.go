package train

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
)

// Checkpoint is everything needed to continue training from a step exactly as if the steps
// after it had not happened: the settings, θ, the optimizer, the minibatch order and RNG, the
// eigenspace and its schedule, and the reference losses. Resuming from it (Restore, or
// Rollback to it) gives the same metrics, bit for bit, as going on without it.
type Checkpoint struct {
	Why       string // "start", "auto", "manual", or the caller's word
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

// maxCheckpoints bounds the memory kept for rollback.
const maxCheckpoints = 8

// Save returns a checkpoint of the current state (a deep copy).
func (t *Trainer) Save(why string) *Checkpoint {
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
func (t *Trainer) keep(why string) {
	cp := t.Save(why)
	if n := len(t.checkpts); n > 0 && t.checkpts[n-1].Step == t.step {
		t.checkpts[n-1] = cp
	} else {
		t.checkpts = append(t.checkpts, cp)
	}
	if len(t.checkpts) > maxCheckpoints {
		// Keep the oldest (the start) and the newest.
		t.checkpts = append(t.checkpts[:1], t.checkpts[2:]...)
	}
}

// Checkpoint keeps the current state for a later Rollback.
func (t *Trainer) Checkpoint() {
	t.keep("manual")
	t.event(EventCheckpoint, fmt.Sprintf("checkpoint at step %d", t.step))
}

// Checkpoints returns the steps of the checkpoints kept for rollback, oldest first.
func (t *Trainer) Checkpoints() []int {
	s := make([]int, len(t.checkpts))
	for i, cp := range t.checkpts {
		s[i] = cp.Step
	}
	return s
}

// rollbackIndex is the checkpoint Rollback returns to: the newest one older than the current
// step, or the oldest if none is older; -1 when there are none.
func (t *Trainer) rollbackIndex() int {
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

// Rollback restores the newest checkpoint older than the current step (the newest of all if
// none is older) and clears a divergence. The settings in force stay as they are, except
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
	t.event(EventRollback, fmt.Sprintf("rolled back from step %d to the %s checkpoint at step %d", from, cp.Why, cp.Step))
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
	t.checkpts = []*Checkpoint{cp}
	return t, nil
}

// checkpointMagic starts a checkpoint file; the digit is the format version.
const checkpointMagic = "sharpflat checkpoint 1\n"

// WriteTo writes the checkpoint in a binary form that keeps every number exactly.
func (cp *Checkpoint) WriteTo(w io.Writer) (int64, error) {
	var b bytes.Buffer
	b.WriteString(checkpointMagic)
	if err := gob.NewEncoder(&b).Encode(cp); err != nil {
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
	var cp Checkpoint
	if err := gob.NewDecoder(r).Decode(&cp); err != nil {
		return nil, fmt.Errorf("checkpoint: %v", err)
	}
	return &cp, nil
}

// newPCG returns the PCG of a config's minibatch order.
func newPCG(seed uint64) *rand.PCG { return rand.NewPCG(seed, 0xba7c4) }
