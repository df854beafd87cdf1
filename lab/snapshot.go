package lab

import (
	"slices"
	"sync/atomic"
	"time"

	"sharpflat/lab/train"
)

// Snapshot is an immutable copy of the engine's state for display. Nothing in it points into
// the engine.
type Snapshot struct {
	train.State // settings, step, latest metrics, the basis in use (without vectors), divergence

	Run RunState
	// Refreshing is the Hessian-vector products spent so far by a refresh in progress that
	// has run longer than a quarter second (0: none): a long refresh publishes snapshots as
	// it goes.
	Refreshing int
	History    *History
	Events     []train.Event // the newest events, oldest first
	Sent       time.Time
	// Held says the engine does not train whatever Run says (Hold: a classroom waiting for
	// its teacher).
	Held bool
	// Lesson is the lesson being played (nil: none).
	Lesson *LessonView
	// Picture is what the network has learned, painted at most PictureHz a second while a
	// subscriber wants it (nil otherwise, or for regression data).
	Picture *Picture
	// Race is the race in progress (nil: none). State and History above are then its
	// focused arm's.
	Race *RaceView
	// Density is the Hessian's spectral density: the latest computed and the job's state.
	Density DensityState
	// Seq is the sequence number of the latest command the engine has applied (see
	// Engine.Seq): a screen that sent a command with a number trusts its own request over
	// the snapshot's settings until a snapshot echoes that number.
	Seq uint64
}

// snapshotEvents is how many events a snapshot carries.
const snapshotEvents = 50

// snapshot is the one place that builds a Snapshot.
func (e *Engine) snapshot() Snapshot {
	n := min(len(e.events), snapshotEvents)
	refreshing := 0
	if e.longStep() {
		refreshing = e.products
	}
	h := e.history.Copy()
	race := e.raceView()
	if race != nil {
		race.Arms[race.Focus].History = h // immutable: the focused arm's copy serves both
	}
	return Snapshot{
		State:      e.t.State(),
		Run:        e.state,
		Refreshing: refreshing,
		History:    h,
		Events:     slices.Clone(e.events[len(e.events)-n:]),
		Sent:       time.Now(),
		Held:       e.held,
		Lesson:     e.lessonView(),
		Picture:    e.picture,
		Race:       race,
		Density:    e.densityState(),
		Seq:        e.applied,
	}
}

// Subscription receives coalesced snapshots: at most MaxHz a second, the latest wins, and a
// slow reader never slows the engine.
type Subscription struct {
	picture atomic.Bool // WantPicture
	density atomic.Bool // WantDensity
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
	// Make a paused engine publish.
	select {
	case e.wake <- struct{}{}:
	default:
	}
	return s
}

// WantPicture asks for (or stops asking for) the picture of what the network learned in
// the snapshots: the engine paints it only while someone shows it.
func (s *Subscription) WantPicture(on bool) {
	s.picture.Store(on)
	select {
	case s.e.wake <- struct{}{}: // a paused engine paints at once
	default:
	}
}

// WantsPicture reports whether the subscriber asks for the picture.
func (s *Subscription) WantsPicture() bool { return s.picture.Load() }

// PictureHz is how often a second the engine paints the picture while training.
const PictureHz = 4

// paint renders the picture if a subscriber wants one and the last is out of date (called
// under subMu, on the engine's goroutine). It reports whether the picture is out of date but
// had to wait for its rate, so that a paused engine comes back to paint it.
func (e *Engine) paint(now time.Time) (later bool) {
	want := false
	for s := range e.subs {
		want = want || s.picture.Load()
	}
	if !want {
		if e.picture != nil {
			e.picture = nil
			e.version++
		}
		return false
	}
	if e.picture != nil && e.picture.Step == e.t.StepCount() && e.paintedFor == e.t {
		return false
	}
	if e.picture != nil && now.Sub(e.paintedAt) < time.Second/PictureHz && e.paintedFor == e.t {
		return true
	}
	if e.painter == nil {
		e.painter = NewPainter()
	}
	e.picture, e.paintedAt, e.paintedFor = e.painter.Paint(e.t), now, e.t
	e.version++
	return false
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
	if !final {
		pending = e.paint(now)
	}
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
