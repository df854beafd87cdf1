package serve

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/charmbracelet/log"

	"sharpflat/lab"
	"sharpflat/lab/lesson"
	"sharpflat/lab/train"
)

// classroom is the one engine every session of a classroom server watches. It starts paused
// at step 0 (at the lesson's first step, with a lesson) and is held, training nothing, while
// no controller is connected (with no controllers file: while nobody is connected), so a
// class does not join mid-run. If it panics, it is rebuilt from the configuration after a
// pause and the sessions move to the new engine (changed is closed and replaced): the server
// and its sessions go on.
type classroom struct {
	cfg    train.Config
	lesson *lesson.Lesson
	steer  bool // the server has controllers: they alone release the hold
	log    *log.Logger
	hooks  *hooks

	mu          sync.Mutex
	e           *lab.Engine
	changed     chan struct{}
	controllers int // sessions connected, by role
	viewers     int

	// When the class last showed life (unix nanoseconds, hooks.now), which keeps its
	// watchers from being idle (see session.idleSince): keyed is a controller's last key
	// (without controllers: anyone's), progress the engine's last step or refresh progress.
	keyed    atomic.Int64
	progress atomic.Int64

	done chan struct{} // closed when run returns
}

// restartPause is how long a crashed classroom engine waits before it is rebuilt.
const restartPause = time.Second

func newClassroom(cfg train.Config, les *lesson.Lesson, steer bool, l *log.Logger, h *hooks) (*classroom, error) {
	c := &classroom{cfg: cfg, lesson: les, steer: steer, log: l, hooks: h, changed: make(chan struct{}), done: make(chan struct{})}
	now := c.now()
	c.touchKey(now)
	c.progress.Store(now.UnixNano())
	e, err := c.newEngine()
	if err != nil {
		return nil, err
	}
	c.e = e
	return c, nil
}

// newEngine builds the classroom's engine: paused at its start and held until the first
// controller arrives (c.mu held, or before the classroom is shared).
func (c *classroom) newEngine() (*lab.Engine, error) {
	// With controllers it waits for one to start it; without, it trains while anyone
	// watches (nobody could start it).
	e, err := lab.New(c.cfg, lab.Options{StartPaused: c.steer, Lesson: c.lesson})
	if err != nil {
		return nil, err
	}
	e.Hold(!c.released())
	return e, nil
}

// released reports whether the engine may train: a controller is connected (or, without a
// controllers file, anyone is). c.mu held.
func (c *classroom) released() bool {
	if c.steer {
		return c.controllers > 0
	}
	return c.controllers+c.viewers > 0
}

// join counts a session in (as a controller or a viewer) and releases the hold when it is
// the first who may; the returned function counts it out again (once) and holds the engine
// when the last one has gone.
func (c *classroom) join(controller bool) (leave func()) {
	count := func(d int) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if controller {
			c.controllers += d
		} else {
			c.viewers += d
		}
		c.e.Hold(!c.released())
	}
	count(+1)
	var once sync.Once
	return func() { once.Do(func() { count(-1) }) }
}

// watching is how many viewers are connected (what a controller sees).
func (c *classroom) watching() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.viewers
}

// now is the clock of the idle timeout (hooks.now in tests).
func (c *classroom) now() time.Time {
	if c.hooks != nil && c.hooks.now != nil {
		return c.hooks.now()
	}
	return time.Now()
}

// touchKey records a key that is the class's life (see session.touch).
func (c *classroom) touchKey(now time.Time) { c.keyed.Store(now.UnixNano()) }

// lastKey is when the class last had such a key.
func (c *classroom) lastKey() time.Time { return time.Unix(0, c.keyed.Load()) }

// lastProgress is when the engine last made progress.
func (c *classroom) lastProgress() time.Time { return time.Unix(0, c.progress.Load()) }

// watch records the engine's progress until sub ends: a snapshot with
// a step (or a refresh's progress) not seen before. A held or paused engine publishes none.
func (c *classroom) watch(sub *lab.Subscription) {
	step, refreshing := -1, -1
	for snap := range sub.C() {
		if snap.Step != step || snap.Refreshing != refreshing {
			if step >= 0 {
				c.progress.Store(c.now().UnixNano())
			}
			step, refreshing = snap.Step, snap.Refreshing
		}
	}
}

// current returns the engine and a channel closed when it is replaced.
func (c *classroom) current() (*lab.Engine, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.e, c.changed
}

// run trains until ctx ends, rebuilding the engine after a panic.
func (c *classroom) run(ctx context.Context) {
	defer close(c.done)
	for {
		e, _ := c.current()
		if c.hooks.engineStarted != nil {
			c.hooks.engineStarted("classroom", e)
		}
		started := time.Now()
		sub := e.Subscribe()
		go c.watch(sub)
		crashed := c.runOnce(ctx, e)
		sub.Cancel()
		c.log.Debug("engine stopped", "steps", e.Step(), "ran", time.Since(started).Round(time.Millisecond))
		if !crashed || ctx.Err() != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(restartPause):
		}
		c.mu.Lock()
		ne, err := c.newEngine()
		if err != nil {
			c.mu.Unlock()
			c.log.Error("classroom engine could not be rebuilt", "err", err)
			return
		}
		c.e = ne
		close(c.changed)
		c.changed = make(chan struct{})
		c.mu.Unlock()
		c.log.Info("classroom engine rebuilt")
	}
}

func (c *classroom) runOnce(ctx context.Context, e *lab.Engine) (crashed bool) {
	defer func() {
		if v := recover(); v != nil {
			crashed = true
			c.log.Error("classroom engine panicked; rebuilding it", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		}
	}()
	// Without a Recorder, Run fails only by a panic (recovered by lab, returned with the
	// stack).
	if err := e.Run(ctx); err != nil {
		c.log.Error("classroom engine stopped by an error; rebuilding it", "err", err.Error())
		return true
	}
	return false
}
