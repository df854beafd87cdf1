package lab

import "fmt"

// checkpoint is everything needed to continue training from a step exactly as if the steps
// after it had not happened: θ, the optimizer, the minibatch order and RNG, the basis.
type checkpoint struct {
	step    int
	why     string
	theta   []float64
	opt     *optimizer
	rng     []byte // PCG state
	perm    []int
	pos     int
	basis   eigenspace
	fresh   bool
	refresh int
	history *History
}

// maxCheckpoints bounds the memory kept for rollback.
const maxCheckpoints = 8

// keep stores a checkpoint of the current state.
func (e *Engine) keep(why string) {
	st, err := e.pcg.MarshalBinary()
	if err != nil {
		panic(err) // PCG's MarshalBinary cannot fail
	}
	cp := checkpoint{
		step: e.step, why: why, theta: append([]float64(nil), e.theta...), opt: e.opt.clone(),
		rng: st, perm: append([]int(nil), e.perm...), pos: e.pos, basis: e.basis,
		fresh: e.wantFresh, refresh: e.refreshes, history: e.history.Copy(),
	}
	if len(e.checkpts) > 0 && e.checkpts[len(e.checkpts)-1].step == e.step {
		e.checkpts[len(e.checkpts)-1] = cp
	} else {
		e.checkpts = append(e.checkpts, cp)
	}
	if len(e.checkpts) > maxCheckpoints {
		// Keep the oldest (the start) and the newest.
		e.checkpts = append(e.checkpts[:1], e.checkpts[2:]...)
	}
	if why == "manual" {
		e.event("checkpoint", fmt.Sprintf("checkpoint at step %d", e.step))
	}
}

// rollbackIndex is the checkpoint Rollback returns to: the newest one older than the current
// step, or the oldest if none is older; -1 when there are none.
func (e *Engine) rollbackIndex() int {
	i := len(e.checkpts) - 1
	for i > 0 && e.checkpts[i].step >= e.step {
		i--
	}
	return i
}

// rollback restores the newest checkpoint older than the current step and pauses.
func (e *Engine) rollback() {
	i := e.rollbackIndex()
	if i < 0 {
		e.event("error", "no checkpoint to roll back to")
		return
	}
	cp := e.checkpts[i]
	from := e.step
	e.step = cp.step
	copy(e.theta, cp.theta)
	e.opt = cp.opt.clone()
	if e.opt.kind != e.cfg.Optimizer { // switched since: the settings in force win
		e.opt = newOptimizer(e.cfg.Optimizer, len(e.theta))
	}
	if err := e.pcg.UnmarshalBinary(cp.rng); err != nil {
		panic(err)
	}
	e.perm, e.pos = append([]int(nil), cp.perm...), cp.pos
	if cp.perm == nil {
		e.perm = nil
	}
	e.basis, e.wantFresh, e.refreshes = cp.basis, cp.fresh, cp.refresh
	e.history = cp.history.Copy()
	e.checkpts = e.checkpts[:i+1]
	e.state = Paused
	e.event("rollback", fmt.Sprintf("rolled back from step %d to the %s checkpoint at step %d (paused)", from, cp.why, cp.step))
}
