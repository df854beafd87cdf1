package serve

import (
	"fmt"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// resizeEvery is the most often a session passes a new window size on.
const resizeEvery = 50 * time.Millisecond

// supervise runs beside the program until it ends: it forwards window sizes, starts the lab
// when a queued session gets its slot, moves classroom sessions to a rebuilt engine, and
// enforces the idle timeout, the session length, the server's shutdown, and the end of a
// session whose UI or engine panicked or whose client left. It returns the reason the
// server ended the session ("" if the user quit).
func (se *session) supervise(p *tea.Program, progDone <-chan struct{},
	ready <-chan struct{}, pos <-chan int, changed <-chan struct{}) (reason string) {
	cfg := &se.srv.cfg
	var (
		killTimer <-chan time.Time // after asking the program to end: kill it if it has not
		stopAt    time.Time        // the server is stopping (srv.now)
		stopTimer <-chan time.Time
		stopping  = se.srv.stopCh
		notice    string
		gone      = se.peer.gone()
		winch     = se.peer.resized()
		eof       = se.in.eof
		engineDn  <-chan struct{}
		size      *tea.WindowSizeMsg // the latest size, not yet passed on
		sizeTimer <-chan time.Time
	)
	end := func(why string) {
		if reason != "" {
			return
		}
		reason = why
		if !se.send(endMsg{why}) {
			p.Kill()
		}
		killTimer = time.After(2 * time.Second)
	}
	for {
		select {
		case <-progDone:
			return reason
		case w, ok := <-winch:
			if !ok {
				winch = nil
				continue
			}
			// Coalesced: a client resizing (or pretending to) a thousand times a second
			// costs at most twenty frames.
			size = &tea.WindowSizeMsg{Width: w.Width, Height: w.Height}
			if sizeTimer == nil {
				sizeTimer = time.After(resizeEvery)
			}
		case <-sizeTimer:
			sizeTimer = nil
			if size != nil && se.send(*size) {
				size = nil
			}
		case <-ready:
			ready, pos = nil, nil
			var err error
			if perr := se.safely("engine", func() { err = se.startEngine() }); perr != nil {
				err = perr
			}
			if err != nil {
				se.log.Error("engine could not start", "err", err)
				end("the lab could not start: " + err.Error())
				continue
			}
			engineDn = se.engine.done
		case n := <-pos:
			se.send(queueMsg{n})
		case <-engineDn:
			engineDn = nil // stopped by itself; a panic arrives on crash
		case <-changed:
			e, ch := se.srv.class.current()
			changed = ch
			var m tea.Model
			if err := se.safely("screen", func() { m = se.labModel(e, se.role == "viewer") }); err != nil {
				end(err.Error() + "; please reconnect")
				continue
			}
			se.send(swapLabMsg{m})
			se.send(flashMsg{"the shared lab restarted after an internal error"})
		case what := <-se.crash:
			end("internal error (" + what + "); please reconnect")
		case <-gone:
			gone, eof = nil, nil
			reason = "the client disconnected"
			se.cancelEngine() // nobody is watching: stop training now, not after the program
			p.Kill()
		case <-eof:
			gone, eof = nil, nil
			reason = "the client closed its input"
			se.cancelEngine()
			p.Kill()
		case <-stopping:
			stopping = nil
			n := se.srv.notice()
			stopAt, stopTimer = se.srv.now().Add(n), time.After(n)
			notice = se.noticeText(se.srv.now(), 0, 0, stopAt)
			se.send(noticeMsg{notice})
		case <-stopTimer:
			stopTimer = nil
			end("the server is stopping")
		case <-killTimer:
			killTimer = nil
			p.Kill()
		case <-se.tick:
			now := se.srv.now()
			if reason != "" {
				continue
			}
			idle := now.Sub(se.idleSince())
			age := now.Sub(se.start)
			switch {
			case idle >= cfg.IdleTimeout && stopAt.IsZero():
				se.log.Info("limit hit: idle timeout", "idle", idle.Round(time.Second))
				end(fmt.Sprintf("no key pressed for %v", cfg.IdleTimeout))
				continue
			case age >= cfg.MaxSessionTime:
				se.log.Info("limit hit: session length", "max", cfg.MaxSessionTime)
				end(fmt.Sprintf("the session reached its time limit (%v)", cfg.MaxSessionTime))
				continue
			}
			n := se.noticeText(now, idle, age, stopAt)
			if n != notice {
				notice = n
				se.send(noticeMsg{n})
			}
		}
	}
}

// idleSince is when the session last showed life. A session's own key presses always
// count. A watcher of a classroom with controllers also lives by the class: a controller's
// keys and the engine's progress (a student watching the teacher's lab is not idle for not
// typing). A controller lives by its own keys only: the engine trains because sessions are
// connected, so its progress would keep a teacher who walked away, and every student with
// them, until the session length. That is also why, in the open classroom (no controllers:
// everyone watches, and the engine trains while anyone does), the engine's progress counts
// for nobody: the watchers would keep each other alive through it forever. There anyone's
// key is the class's life instead (see session.touch), so a class lives while someone
// presses keys and ends IdleTimeout after the last key of all.
func (se *session) idleSince() time.Time {
	last := time.Unix(0, se.lastKey.Load())
	c := se.srv.class
	if c == nil || se.role == "controller" {
		return last
	}
	lives := []time.Time{c.lastKey()}
	if c.steer {
		lives = append(lives, c.lastProgress())
	}
	for _, a := range lives {
		if a.After(last) {
			last = a
		}
	}
	return last
}

// now is the clock of the idle timeout and the session length (hooks.now in tests).
func (s *Server) now() time.Time {
	if s.cfg.hooks.now != nil {
		return s.cfg.hooks.now()
	}
	return time.Now()
}

// ticker is one session's checks of its idle time and length, and its stop: often enough
// that a limit is enforced within an eighth of it (and within a second).
func (s *Server) ticker(done <-chan struct{}) (<-chan time.Time, func()) {
	if s.cfg.hooks.tick != nil {
		return s.cfg.hooks.tick(done), func() {}
	}
	t := time.NewTicker(min(time.Second, s.cfg.IdleTimeout/8, s.cfg.MaxSessionTime/8))
	return t.C, t.Stop
}

// noticeText is the banner the session should show now: the server stopping, then the
// session's time limit, then the idle warning.
func (se *session) noticeText(now time.Time, idle, age time.Duration, stopAt time.Time) string {
	cfg := &se.srv.cfg
	left := func(d time.Duration) string { return d.Round(time.Second).String() }
	warnIdle := min(time.Minute, cfg.IdleTimeout/2)
	warnAge := min(5*time.Minute, cfg.MaxSessionTime/2)
	switch {
	case !stopAt.IsZero():
		return fmt.Sprintf("The server is stopping: this session ends in %s.", left(stopAt.Sub(now)))
	case cfg.MaxSessionTime-age <= warnAge:
		return fmt.Sprintf("This session reaches its time limit in %s.", left(cfg.MaxSessionTime-age))
	case cfg.IdleTimeout-idle <= warnIdle:
		return fmt.Sprintf("No key pressed for a while: this session closes in %s unless you press a key.", left(cfg.IdleTimeout-idle))
	}
	return ""
}
