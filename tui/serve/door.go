package serve

import (
	"fmt"
	"io"
	"runtime/debug"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/log"
)

// A door is a way in to the lab: SSH (door_ssh.go) or the browser (web*.go). A door
// authenticates its client and turns its transport into a peer; everything after that —
// the session caps, the engine slots and queue, the classroom and its holds, read-only
// watchers, idle and session time, the key queue and key rate, write timeouts, the
// frame-rate cap, panic isolation, the drain on shutdown — is the session core's
// (session.go, supervise.go, model.go), the same for every door.

// window is a terminal's size in cells.
type window struct{ Width, Height int }

// peer is one client as its door hands it to the session core: a byte stream of keys in
// (as a terminal sends them), a byte stream of frames out (as a terminal draws them), the
// terminal's name, environment and size, and a way to end the transport.
type peer interface {
	io.Reader // keys; an error (io.EOF) when the client closed its input
	io.Writer // frames; blocks while the client does not read (the core bounds it in time)

	term() string           // the terminal's TERM
	environ() []string      // the client's environment (COLORTERM, NO_COLOR, ...)
	size() window           // the terminal's size at the start
	resized() <-chan window // later sizes (nil: never)
	gone() <-chan struct{}  // closed when the client has disconnected
	cut()                   // closes the transport at once (a write timed out)
	// exit ends the session with a status after the core's last words (written to the
	// peer): 0 when the session ran, 1 when it was refused or could not start.
	exit(status int)
	// refuse tells a client that gets no session why, and ends it (status 1).
	refuse(msg string)
}

// entry is who a door let in.
type entry struct {
	id   identity
	log  *log.Logger
	door string // "ssh", "web": for the logs
	// controller reports whether the session steers a classroom (asked once, when the
	// session joins it).
	controller func() bool
	// end, if set, closes the transport after the session and before it stops counting
	// (the web door's close handshake), so that Shutdown, which waits for the sessions and
	// then cuts every connection left, does not cut it mid-handshake.
	end func()
}

// runSession is the core's front desk: every door calls it once it has a peer and an
// identity. It takes a session slot (the caps count every door's sessions together), runs
// the session and returns when it has ended.
func (s *Server) runSession(p peer, a entry) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("session handler panicked", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		}
	}()
	if s.stopping() {
		p.refuse("the server is stopping")
		return
	}
	release, lerr := s.limits.acquireSession(a.id)
	if lerr != nil {
		a.log.Warn("limit hit: "+lerr.limit, "max", lerr.max)
		p.refuse(lerr.msg)
		return
	}
	defer release()

	se := &session{
		srv: s, peer: p, id: a.id, log: a.log, start: s.now(), door: a.door, mayControl: a.controller,
		ctl: make(chan tea.Msg, 16), done: make(chan struct{}), crash: make(chan string, 1),
	}
	se.lastKey.Store(se.start.UnixNano())
	if !s.track(se) {
		p.refuse("the server is stopping")
		return
	}
	defer s.untrack(se)
	if a.end != nil {
		defer a.end()
	}
	se.run()
}
