package lab

import (
	"time"
)

// Event is a line of the event log (and of events.jsonl).
type Event struct {
	Step int       `json:"step"`
	Time time.Time `json:"time"`
	Kind string    `json:"kind"` // command, refresh, divergence, rollback, checkpoint, error
	Text string    `json:"text"`
}

// maxEvents bounds the event log kept in memory (all events still reach the Recorder).
const maxEvents = 200

func (e *Engine) event(kind, text string) {
	ev := Event{Step: e.step, Time: time.Now(), Kind: kind, Text: text}
	e.events = append(e.events, ev)
	if len(e.events) > maxEvents {
		e.events = append(e.events[:0], e.events[len(e.events)-maxEvents:]...)
	}
	if e.opts.Recorder != nil {
		_ = e.opts.Recorder.Event(ev) // a failing event write shows up on the next Record
	}
	e.version++
}

// Snapshot is an immutable copy of the engine's state for display. Nothing in it points into
// the engine.
type Snapshot struct {
	Preset  string
	Data    string // description of the data set
	Arch    string // e.g. "20-16-16-10 tanh"
	Loss    string
	P       int
	Config  Config // the settings in force
	State   State
	Step    int
	Rate    float64 // steps per second, recent
	Last    Metrics // the latest step (zero before the first)
	History *History
	Events  []Event // the newest events, oldest first
	Sent    time.Time

	// The eigenspace in use.
	Spectrum    []float64 // λ₁ … λ_k
	Residuals   []float64
	BasisStep   int // step at which it was computed (-1: none yet)
	BasisHVPs   int
	BasisMS     float64
	Converged   bool
	GGN, Func   []float64   // vᵢᵀGvᵢ, vᵢᵀFvᵢ from the latest split
	SplitStep   int         // -1: no split yet
	Energy      [3]Estimate // E_H, E_G, E_F from the latest estimate (NaN before the first)
	EnergyStep  int         // -1: no estimate yet
	Checkpoints []int       // steps of the checkpoints available for rollback
	RollbackTo  int         // the step Rollback returns to (-1: none)
	Threshold   float64
}

// snapshotEvents is how many events a snapshot carries.
const snapshotEvents = 50

func (e *Engine) snapshot() Snapshot {
	b := &e.basis
	s := Snapshot{
		Preset: e.cfg.Preset, Data: e.dataDesc, Arch: e.model.String(), Loss: e.model.Loss.String(),
		P: e.model.NumParams(), Config: e.cfg, State: e.state, Step: e.step, Rate: e.rate.perSec(),
		Last: e.last, History: e.history.Copy(), Sent: time.Now(),
		Spectrum: append([]float64(nil), b.values...), Residuals: append([]float64(nil), b.residuals...),
		BasisStep: -1, BasisHVPs: b.products, BasisMS: b.ms, Converged: b.converged,
		GGN: append([]float64(nil), b.ggn...), Func: append([]float64(nil), b.fun...), SplitStep: b.splitStep,
		Energy: b.energy, EnergyStep: b.energyStep, Threshold: e.cfg.StabilityThreshold(),
	}
	s.Config.Hidden = append([]int(nil), e.cfg.Hidden...)
	s.Last.Spectrum = append([]float64(nil), e.last.Spectrum...)
	s.Last.Residuals = append([]float64(nil), e.last.Residuals...)
	s.Last.GGNRayleigh = append([]float64(nil), e.last.GGNRayleigh...)
	s.Last.FuncRayleigh = append([]float64(nil), e.last.FuncRayleigh...)
	if len(b.vectors) > 0 {
		s.BasisStep = b.step
	}
	n := min(len(e.events), snapshotEvents)
	s.Events = append([]Event(nil), e.events[len(e.events)-n:]...)
	for _, c := range e.checkpts {
		s.Checkpoints = append(s.Checkpoints, c.step)
	}
	s.RollbackTo = -1
	if i := e.rollbackIndex(); i >= 0 {
		s.RollbackTo = e.checkpts[i].step
	}
	return s
}

// Subscription receives coalesced snapshots: at most MaxHz a second, the latest wins, and a
// slow reader never slows the engine.
type Subscription struct {
	c       chan Snapshot
	last    time.Time
	version uint64 // engine version of the last snapshot sent
	e       *Engine
}

// MaxHz is the most snapshots a second a subscriber gets.
const MaxHz = 20

// C delivers snapshots; it is closed after the engine stops (the final snapshot is delivered
// first) or when the subscription is cancelled.
func (s *Subscription) C() <-chan Snapshot { return s.c }

// Subscribe registers a new subscriber; the current state is delivered at once.
func (e *Engine) Subscribe() *Subscription {
	s := &Subscription{c: make(chan Snapshot, 1), e: e}
	e.subMu.Lock()
	select {
	case <-e.done:
		close(s.c)
		e.subMu.Unlock()
		return s
	default:
	}
	e.subs[s] = struct{}{}
	e.subMu.Unlock()
	e.wake()
	return s
}

// wake makes a paused engine publish: a no-op command, dropped if the queue is full (then the
// engine is awake anyway).
func (e *Engine) wake() {
	select {
	case e.cmds <- func() {}:
	default:
	}
}

// Cancel ends the subscription and closes C.
func (s *Subscription) Cancel() {
	s.e.subMu.Lock()
	defer s.e.subMu.Unlock()
	if _, ok := s.e.subs[s]; ok {
		delete(s.e.subs, s)
		close(s.c)
	}
}

// publish sends a snapshot to every subscriber that has not seen the current version and
// whose rate allows it. It reports whether a subscriber was held back by its rate, so that a
// paused engine knows to come back.
func (e *Engine) publish() (pending bool) {
	now := time.Now()
	final := e.state == Stopped
	e.subMu.Lock()
	defer e.subMu.Unlock()
	var snap *Snapshot
	for s := range e.subs {
		if !final && s.version == e.version && !s.last.IsZero() {
			continue
		}
		if !final && now.Sub(s.last) < time.Second/MaxHz {
			pending = true
			continue
		}
		if snap == nil {
			v := e.snapshot()
			snap = &v
		}
		s.last, s.version = now, e.version
		offer(s.c, *snap)
		if final {
			close(s.c)
			delete(e.subs, s)
		}
	}
	return pending
}

// offer puts v in the one-slot channel, replacing what the reader has not taken yet.
// Only the engine sends, so the second send cannot block.
func offer(c chan Snapshot, v Snapshot) {
	select {
	case c <- v:
	default:
		select {
		case <-c:
		default:
		}
		c <- v
	}
}

// rateMeter is an exponentially weighted steps-per-second over about the last second.
type rateMeter struct {
	last time.Time
	rate float64
}

func (r *rateMeter) tick(now time.Time) {
	if !r.last.IsZero() {
		dt := now.Sub(r.last).Seconds()
		if dt > 0 {
			inst := 1 / dt
			w := min(1, dt) // time constant ≈ 1 s
			if r.rate == 0 {
				r.rate = inst
			} else {
				r.rate += w * (inst - r.rate)
			}
		}
	}
	r.last = now
}

func (r *rateMeter) perSec() float64 {
	if !r.last.IsZero() && time.Since(r.last) > 2*time.Second {
		return 0 // paused or stalled
	}
	return r.rate
}
