package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/log"
	"github.com/muesli/termenv"

	"sharpflat/lab"
	"sharpflat/tui"
)

// session is one client's session running the lab, whichever door it came through. Its
// goroutines: the door's handler (which becomes the supervisor), the bubbletea program, the
// input pump, the engine (per-session mode), and bubbletea's own; every one of them ends
// when the session does.
type session struct {
	srv        *Server
	peer       peer
	id         identity
	log        *log.Logger
	start      time.Time
	door       string      // "ssh", "web"
	mayControl func() bool // whether the session steers a classroom (asked when it joins)
	role       string      // "own lab", "controller", "viewer"

	ctl     chan tea.Msg     // supervisor → model
	done    chan struct{}    // closed when the session ends
	crash   chan string      // a panic in the UI or the engine
	lastKey atomic.Int64     // unix nanoseconds of the last key press (srv.now)
	tick    <-chan time.Time // the supervisor's checks of the idle timeout and the session length

	out      *deadlineWriter
	in       *inputPump
	renderer *lipgloss.Renderer
	styles   bannerStyles

	engine *engineRun // per-session mode, once started (the handler's goroutine only)

	mu      sync.Mutex
	closers []func()
}

// engineRun is a session's own engine while it runs.
type engineRun struct {
	e        *lab.Engine
	cancel   context.CancelFunc
	done     <-chan struct{} // closed when Run has returned
	started  time.Time
	canceled time.Time // the first cancel
	stopped  time.Time // when Run returned (written before done is closed)
}

// run is the session's life: a renderer for the client's terminal, the program, the lab
// (now, or after the queue), the supervisor, and the cleanup.
func (se *session) run() {
	s := se.srv
	wt := s.cfg.WriteTimeout
	if h := s.cfg.hooks.writeTimeout; h != nil && h(se.id.user) > 0 {
		wt = h(se.id.user)
	}
	se.out = newDeadlineWriter(se.peer, wt, func() {
		se.log.Warn("limit hit: write timeout (the client stopped reading); closing its connection", "timeout", wt)
		se.peer.cut()
	})
	se.in = newInputPump(se.peer, se.done)
	var doneOnce sync.Once
	closeDone := func() { doneOnce.Do(func() { close(se.done) }) }
	defer closeDone() // also on a panic: the pump and the model's reader must end
	var stopTick func()
	se.tick, stopTick = s.ticker(se.done)
	defer stopTick()

	// Per-session mode: a slot for an engine of our own, now or after the queue.
	var (
		ready   <-chan struct{}
		pos     <-chan int
		changed <-chan struct{}
	)
	if s.class == nil {
		tk, lerr := s.slots.enter()
		if lerr != nil {
			se.log.Warn("limit hit: "+lerr.limit, "max", lerr.max, "engines", s.cfg.MaxEngines)
			fmt.Fprintf(se.out, "sharpflat: %s\r\n", lerr.msg)
			se.out.stop()
			se.peer.exit(1)
			return
		}
		defer se.leaveSlot(tk)
		ready, pos = tk.ready, tk.pos
	}

	// The session's renderer: the colour profile from the client's TERM (and COLORTERM,
	// NO_COLOR, ... if the client sent them), the background from the terminal itself.
	dark, known := se.in.queryDarkBackground(se.out, s.cfg.hooks.bgTimeout)
	env := append(se.peer.environ(), "TERM="+se.peer.term())
	se.renderer = lipgloss.NewRenderer(se.out, termenv.WithEnvironment(sshEnviron(env)), termenv.WithUnsafe(), termenv.WithColorCache(true))
	se.renderer.SetHasDarkBackground(dark)
	se.styles = newBannerStyles(se.renderer)

	size := se.peer.size()
	se.send(tea.WindowSizeMsg{Width: size.Width, Height: size.Height})
	if s.class != nil {
		var e *lab.Engine
		e, changed = s.class.current()
		ro := se.mayControl == nil || !se.mayControl()
		se.role = map[bool]string{true: "viewer", false: "controller"}[ro]
		defer s.class.join(!ro)() // counted out however the session ends
		var m tea.Model
		if err := se.safely("screen", func() { m = se.labModel(e, ro) }); err != nil {
			fmt.Fprintf(se.out, "sharpflat: %v\r\n", err)
			se.out.stop()
			se.peer.exit(1)
			return
		}
		se.send(startLabMsg{m})
	} else {
		se.role = "own lab"
	}
	se.log.Info("session start", "door", se.door, "role", se.role, "term", logUser(se.peer.term()), "size", fmt.Sprintf("%dx%d", size.Width, size.Height),
		"dark", dark, "bg_known", known, "profile", profileName(se.renderer.ColorProfile()))

	model := newSessionModel(se)
	p := tea.NewProgram(model,
		tea.WithInput(se.in), tea.WithOutput(se.out), tea.WithAltScreen(),
		tea.WithoutSignalHandler(), tea.WithFilter(filterMsg), tea.WithFPS(s.cfg.FPS))
	progDone := make(chan struct{})
	var (
		final    tea.Model
		panicked atomic.Bool // bubbletea caught a panic in one of the lab's commands
	)
	go func() {
		defer close(progDone)
		defer func() {
			if v := recover(); v != nil {
				se.crashed("program", v)
			}
		}()
		var err error
		final, err = p.Run()
		if errors.Is(err, tea.ErrProgramPanic) {
			panicked.Store(true)
		}
	}()

	reason := se.supervise(p, progDone, ready, pos, changed)

	// Cleanup: stop the engine first (a disconnect must stop it within a second: the
	// supervisor cancelled it as soon as the client left), then the subscriptions, then say
	// goodbye if anyone is still listening.
	stopTook := se.stopEngine()
	se.closeAll()
	if fm, ok := final.(*sessionModel); ok && fm.reason != "" && reason == "" {
		reason = fm.reason
	}
	if panicked.Load() && reason == "" {
		se.log.Error("panic in a session's command (caught by bubbletea): ended it")
		reason = "internal error; please reconnect"
	}
	if reason == "" {
		reason = "you left"
	}
	gone := se.out.failed.Load()
	select {
	case <-se.peer.gone():
		gone = true
	default:
	}
	if !gone {
		fmt.Fprintf(se.out, "\r\nsharpflat: session ended: %s\r\n", reason)
	}
	se.out.stop()
	closeDone()
	kv := []any{"role", se.role, "reason", reason, "duration", s.now().Sub(se.start).Round(time.Millisecond),
		"frames", se.out.frames.Load(), "bytes_out", se.out.bytes.Load(), "bytes_in", se.in.bytesIn.Load(), "keys_dropped", se.in.dropped()}
	if stopTook > 0 {
		kv = append(kv, "engine_stop", stopTook.Round(time.Millisecond))
	}
	se.log.Info("session end", kv...)
	se.peer.exit(0)
}

// engineStopWait is how long a session's end waits for its engine to return. An engine
// that takes longer keeps its slot until it has returned (MaxEngines counts engines, not
// sessions).
const engineStopWait = 5 * time.Second

// startEngine builds and starts this session's own engine (se.engine).
func (se *session) startEngine() error {
	e, err := lab.New(se.srv.cfg.Lab, lab.Options{Lesson: se.srv.cfg.Lesson})
	if err != nil {
		return err
	}
	m := se.labModel(e, false) // subscribes before the engine runs: nothing to undo if it fails
	if h := se.srv.cfg.hooks.engineStarted; h != nil {
		h(se.id.user, e)
	}
	ctx, cancel := context.WithCancel(context.Background())
	dn := make(chan struct{})
	started := time.Now()
	r := &engineRun{e: e, cancel: cancel, done: dn, started: started}
	go func() {
		defer close(dn)
		defer func() { r.stopped = time.Now() }()
		defer func() {
			if v := recover(); v != nil {
				se.crashed("engine", v)
			}
		}()
		// Without a Recorder, Run fails only by a panic, which lab recovers and returns
		// (with the stack): the session ends as for any crash.
		if err := e.Run(ctx); err != nil {
			se.log.Error("engine stopped by an error", "err", err.Error())
			se.signalCrash("engine")
		}
	}()
	se.engine = r
	se.send(startLabMsg{m})
	return nil
}

// cancelEngine asks the session's engine to stop, without waiting (the supervisor calls it
// the moment the client is gone: nobody waits for the program's end to stop training).
func (se *session) cancelEngine() {
	if r := se.engine; r != nil && r.canceled.IsZero() {
		r.canceled = time.Now()
		r.cancel()
	}
}

// stopEngine cancels the session's engine (if not yet), waits at most engineStopWait for it
// to return, and says how long it took from the first cancel (0 without an engine).
func (se *session) stopEngine() time.Duration {
	r := se.engine
	if r == nil {
		return 0
	}
	se.cancelEngine()
	wait := se.srv.cfg.hooks.stopWait
	t := time.NewTimer(wait - time.Since(r.canceled))
	defer t.Stop()
	select {
	case <-r.done:
	case <-t.C:
		se.log.Error("engine did not stop in time: it keeps its slot until it does", "waited", wait)
	}
	select {
	case <-r.done:
		d := max(r.stopped.Sub(r.canceled), time.Nanosecond)
		se.log.Debug("engine stopped", "steps", r.e.Step(), "ran", r.stopped.Sub(r.started).Round(time.Millisecond), "took", d.Round(time.Millisecond))
		return d
	default:
		return max(time.Since(r.canceled), time.Nanosecond)
	}
}

// leaveSlot gives the session's engine slot back: at once if its engine has returned (or
// never started), else when it does, so that engines never outnumber MaxEngines.
func (se *session) leaveSlot(tk *ticket) {
	r := se.engine
	if r == nil {
		se.srv.slots.leave(tk)
		return
	}
	select {
	case <-r.done:
		se.srv.slots.leave(tk)
	default:
		se.cancelEngine() // already, unless the session ended by a panic
		go func() {
			<-r.done
			se.log.Warn("engine stopped late: its slot is free again", "took", r.stopped.Sub(r.canceled).Round(time.Millisecond))
			se.srv.slots.leave(tk)
		}()
	}
}

// labModel is the lab's model on e, drawn with the session's renderer.
func (se *session) labModel(e *lab.Engine, readOnly bool) tea.Model {
	opts := tui.Options{ReadOnly: readOnly, NoWrite: true, Clipboard: se.out} // y copies to the client's terminal
	if c := se.srv.class; c != nil && !readOnly {
		opts.Watching = c.watching
	}
	m := tui.New(e, se.renderer, opts)
	se.mu.Lock()
	se.closers = append(se.closers, m.Close)
	se.mu.Unlock()
	return m
}

// closeAll ends the subscriptions of every lab model of the session.
func (se *session) closeAll() {
	se.mu.Lock()
	defer se.mu.Unlock()
	for _, c := range se.closers {
		c()
	}
	se.closers = nil
}

// send gives the model a message without ever blocking the supervisor; false if the
// model is not keeping up (then the caller decides).
func (se *session) send(msg tea.Msg) bool {
	select {
	case se.ctl <- msg:
		return true
	default:
		return false
	}
}

// waitCtl is the re-armed command that delivers the supervisor's messages.
func (se *session) waitCtl() tea.Cmd {
	return func() tea.Msg {
		select {
		case m := <-se.ctl:
			return ctlMsg{m}
		case <-se.done:
			return nil
		}
	}
}

// touch records a key press (the idle timer counts from it). In a classroom with
// controllers a controller's key is the class's life too (its watchers are not idle); in
// the open classroom, where nobody controls and everyone watches, anyone's is.
func (se *session) touch() {
	now := se.srv.now()
	se.lastKey.Store(now.UnixNano())
	if c := se.srv.class; c != nil && (se.role == "controller" || !c.steer) {
		c.touchKey(now)
	}
}

// crashed logs a panic of the UI or the engine and asks the supervisor to end the session.
func (se *session) crashed(where string, v any) {
	se.log.Error("panic in a session: ending it", "where", where, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	se.signalCrash(where)
}

// safely runs f, turning a panic into an error (logged with its stack).
func (se *session) safely(what string, f func()) (err error) {
	defer func() {
		if v := recover(); v != nil {
			se.log.Error("panic in a session", "where", what, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			err = fmt.Errorf("internal error (%s)", what)
		}
	}()
	f()
	return nil
}

func (se *session) signalCrash(where string) {
	select {
	case se.crash <- where:
	default:
	}
}

func profileName(p termenv.Profile) string {
	return [...]string{"truecolor", "ansi256", "ansi", "ascii"}[p]
}

var _ io.Writer = (*deadlineWriter)(nil)
