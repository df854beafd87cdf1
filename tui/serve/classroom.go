package serve

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/charmbracelet/log"

	"sharpflat/lab"
	"sharpflat/lab/train"
)

// classroom is the one engine every session of a classroom server watches. It trains from
// Start until the server stops. If it panics, it is rebuilt from the configuration after a
// pause and the sessions move to the new engine (changed is closed and replaced): the server
// and its sessions go on.
type classroom struct {
	cfg   train.Config
	log   *log.Logger
	hooks *hooks

	mu      sync.Mutex
	e       *lab.Engine
	changed chan struct{}

	done chan struct{} // closed when run returns
}

// restartPause is how long a crashed classroom engine waits before it is rebuilt.
const restartPause = time.Second

func newClassroom(cfg train.Config, l *log.Logger, h *hooks) (*classroom, error) {
	e, err := lab.New(cfg, lab.Options{})
	if err != nil {
		return nil, err
	}
	return &classroom{cfg: cfg, log: l, hooks: h, e: e, changed: make(chan struct{}), done: make(chan struct{})}, nil
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
		crashed := c.runOnce(ctx, e)
		c.log.Debug("engine stopped", "steps", e.Step(), "ran", time.Since(started).Round(time.Millisecond))
		if !crashed || ctx.Err() != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(restartPause):
		}
		ne, err := lab.New(c.cfg, lab.Options{})
		if err != nil {
			c.log.Error("classroom engine could not be rebuilt", "err", err)
			return
		}
		c.mu.Lock()
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
