package serve

import (
	"errors"
	"net"
	"os"
	"sync"
	"time"

	"github.com/charmbracelet/ssh"
)

// guardConn is every accepted TCP connection, wrapped before the SSH handshake. It owns the
// connection's deadlines:
//
//   - a read deadline HandshakeTimeout after accept, lifted when the first session starts
//     and set again when the last one ends, so neither a slow handshake nor an authenticated
//     connection without a session holds a slot for long;
//   - a write deadline WriteTimeout on every write, so a peer whose TCP window stays shut is
//     cut off.
//
// charmbracelet/ssh resets the deadline on every read and write (to none, since we set no
// IdleTimeout there); SetDeadline and friends are therefore no-ops here.
type guardConn struct {
	net.Conn
	handshake    time.Duration
	writeTimeout time.Duration
	settle       func() // the connection started a session: no longer pending
	release      func() // the connection closed
	once         sync.Once
	stalled      func() // a write hit its deadline
	stallOnce    sync.Once

	mu       sync.Mutex
	sessions int // running sessions
	channels int // open session channels
}

type guardKey struct{}

// onConn is wish's ConnCallback: admit or refuse a TCP connection before the handshake.
func (s *Server) onConn(ctx ssh.Context, c net.Conn) net.Conn {
	remote := hostOf(c.RemoteAddr())
	if s.stopping() {
		s.log.Info("connection refused: server stopping", "remote", remote)
		return nil
	}
	settle, release, why := s.limits.acquireConn(remote)
	if why != "" {
		s.log.Warn("limit hit: "+why, "remote", remote, "max_conns", s.cfg.MaxConns, "max_pending_per_host", maxPendingPerHost)
		return nil
	}
	if h := s.cfg.hooks.conn; h != nil {
		h(c)
	}
	g := &guardConn{Conn: c, handshake: s.cfg.HandshakeTimeout, writeTimeout: s.cfg.WriteTimeout, settle: settle, release: release}
	g.stalled = func() {
		s.log.Warn("limit hit: write timeout (the client stopped reading); closing its connection", "remote", remote, "timeout", s.cfg.WriteTimeout)
	}
	_ = c.SetReadDeadline(time.Now().Add(g.handshake))
	ctx.SetValue(guardKey{}, g)
	s.log.Debug("connection", "remote", remote)
	return g
}

// guardOf returns the connection's guard (nil outside a guarded connection).
func guardOf(ctx ssh.Context) *guardConn {
	g, _ := ctx.Value(guardKey{}).(*guardConn)
	return g
}

func (g *guardConn) Write(b []byte) (int, error) {
	_ = g.Conn.SetWriteDeadline(time.Now().Add(g.writeTimeout))
	n, err := g.Conn.Write(b)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		g.stallOnce.Do(g.stalled)
	}
	return n, err
}

func (g *guardConn) Close() error {
	err := g.Conn.Close()
	g.once.Do(g.release)
	return err
}

func (g *guardConn) SetDeadline(time.Time) error      { return nil }
func (g *guardConn) SetReadDeadline(time.Time) error  { return nil }
func (g *guardConn) SetWriteDeadline(time.Time) error { return nil }

// sessionStarted lifts the handshake deadline while a session runs.
func (g *guardConn) sessionStarted() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.sessions++; g.sessions == 1 {
		_ = g.Conn.SetReadDeadline(time.Time{})
		g.settle()
	}
}

// sessionEnded sets the deadline again once no session is left.
func (g *guardConn) sessionEnded() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.sessions--; g.sessions == 0 {
		_ = g.Conn.SetReadDeadline(time.Now().Add(g.handshake))
	}
}

// openChannel counts a session channel; false when the connection has too many.
func (g *guardConn) openChannel() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.channels >= maxChannelsPerConn {
		return false
	}
	g.channels++
	return true
}

func (g *guardConn) closeChannel() {
	g.mu.Lock()
	g.channels--
	g.mu.Unlock()
}
