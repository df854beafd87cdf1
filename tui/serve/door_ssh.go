package serve

import (
	"fmt"
	"net/netip"
	"runtime/debug"
	"time"

	"github.com/charmbracelet/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// The SSH door: a session channel with a PTY, authenticated by a proven public key (or
// anonymously with Open); see doc.go.

// handle is the SSH session handler: it refuses what only SSH can ask for (no terminal, a
// command), then hands the session to the core.
func (s *Server) handle(sess ssh.Session) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("session handler panicked", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		}
	}()
	if g := guardOf(sess.Context()); g != nil {
		g.sessionStarted()
		defer g.sessionEnded()
	}
	conn, _ := sess.Context().Value(ssh.ContextKeyConn).(*gossh.ServerConn)
	id, err := s.identify(sess)
	if err != nil {
		s.log.Error("session refused: no verified identity", "remote", hostOf(sess.RemoteAddr()))
		s.refuse(sess, conn, "authentication failed")
		return
	}
	lg := s.log.With("session", s.seq.Add(1), "remote", id.remote, "key", id.who(), "user", id.user)
	pty, winch, ok := sess.Pty()
	switch {
	case !ok && sess.Permissions().Extensions[extNoPTY] != "":
		lg.Info("session refused: the key's authorized_keys line forbids a terminal (no-pty or restrict)")
		s.refuse(sess, conn, "this key may not open a terminal here (its authorized_keys line says no-pty or restrict), and the lab needs one")
		return
	case !ok:
		lg.Info("session refused: no terminal")
		s.refuse(sess, conn, "sharpflat needs an interactive terminal: connect with ssh -t (and without a command)")
		return
	case sess.RawCommand() != "":
		lg.Info("session refused: command given")
		s.refuse(sess, conn, "sharpflat runs no commands: connect with plain ssh -p PORT HOST")
		return
	}
	p := &sshPeer{Session: sess, srv: s, conn: conn, pty: pty, winch: make(chan window)}
	go p.forwardSizes(winch)
	s.runSession(p, entry{id: id, log: lg, door: "ssh", controller: func() bool { return s.isController(id, addrOf(sess.RemoteAddr())) }})
}

// refuse tells the client why, on stderr, and ends the session with status 1.
func (s *Server) refuse(sess ssh.Session, conn *gossh.ServerConn, msg string) {
	w := newDeadlineWriter(sess.Stderr(), s.cfg.WriteTimeout, func() { closeConn(conn) })
	fmt.Fprintf(w, "sharpflat: %s\r\n", msg)
	w.stop()
	_ = sess.Exit(1)
}

func closeConn(c *gossh.ServerConn) {
	if c != nil {
		_ = c.Close()
	}
}

// sshPeer is an SSH session with a PTY as the core sees it.
type sshPeer struct {
	ssh.Session
	srv   *Server
	conn  *gossh.ServerConn
	pty   ssh.Pty
	winch chan window
}

func (p *sshPeer) term() string           { return p.pty.Term }
func (p *sshPeer) environ() []string      { return p.Environ() }
func (p *sshPeer) size() window           { return window{p.pty.Window.Width, p.pty.Window.Height} }
func (p *sshPeer) resized() <-chan window { return p.winch }
func (p *sshPeer) gone() <-chan struct{}  { return p.Context().Done() }
func (p *sshPeer) cut()                   { closeConn(p.conn) }
func (p *sshPeer) exit(status int)        { _ = p.Exit(status) }
func (p *sshPeer) refuse(msg string)      { p.srv.refuse(p.Session, p.conn, msg) }

// forwardSizes passes the client's window changes on until the session ends.
func (p *sshPeer) forwardSizes(winch <-chan ssh.Window) {
	done := p.Context().Done()
	for {
		select {
		case w, ok := <-winch:
			if !ok {
				return
			}
			select {
			case p.winch <- window{w.Width, w.Height}:
			case <-done:
				return
			}
		case <-done:
			return
		}
	}
}

// isController reports whether a line of the controllers file lets the proven key in
// (from addr, now).
func (s *Server) isController(id identity, addr netip.Addr) bool {
	if s.controllers == nil || id.anonymous() {
		return false
	}
	_, ok, _ := s.controllers.lookup(id.fingerprint, addr, time.Now())
	return ok
}

// sshEnviron is a client's environment for termenv.
type sshEnviron []string

func (e sshEnviron) Environ() []string { return e }

func (e sshEnviron) Getenv(k string) string {
	v := ""
	for _, kv := range e { // the last one wins, as in a shell
		if len(kv) > len(k) && kv[len(k)] == '=' && kv[:len(k)] == k {
			v = kv[len(k)+1:]
		}
	}
	return v
}
