package serve

import (
	"errors"
	"net"
	"os"
	"sync"
	"time"

	"github.com/charmbracelet/log"
	"github.com/charmbracelet/ssh"
)

// guardConn is every accepted TCP connection, wrapped before the SSH handshake. It owns the
// connection's deadlines:
//
//   - a read deadline HandshakeTimeout after accept (a quarter of it when the pre-auth pool
//     is more than half full), lifted when the first session starts and set again when the
//     last one ends, so neither a slow handshake nor an authenticated connection without a
//     session holds a slot for long;
//   - a write deadline WriteTimeout on every write, so a peer whose TCP window stays shut is
//     cut off.
//
// charmbracelet/ssh resets the deadline on every read and write (to none, since we set no
// IdleTimeout there); SetDeadline and friends are therefore no-ops here.
type guardConn struct {
	net.Conn
	handshake    time.Duration
	writeTimeout time.Duration
	slot         *connSlot // the connection's place in the limits
	once         sync.Once
	stalled      func() // a write hit its deadline
	stallOnce    sync.Once

	mu       sync.Mutex
	sessions int // running sessions
	channels int // open session channels
}

type guardKey struct{}

// onConn is wish's ConnCallback: admit a TCP connection before the handshake (making room
// in the pre-auth pool if need be, see preauth), or refuse it if every connection slot is
// taken by an authenticated connection.
func (s *Server) onConn(ctx ssh.Context, c net.Conn) net.Conn {
	remote := hostOf(c.RemoteAddr())
	if s.stopping() {
		s.log.Info("connection refused: server stopping", "remote", remote)
		return nil
	}
	a := s.limits.acquireConn(remote, func() { c.Close() })
	switch {
	case a.slot == nil && a.hot:
		s.flood.print(log.InfoLevel, "limit hit: new connections: refused a source over its rate (its network's, site's or the pool's pending share is full)",
			"remote", remote, "share", a.share, "burst", s.cfg.MaxPreauth/4, "every", connRatePeriod)
		return nil
	case a.slot == nil:
		s.flood.print(log.WarnLevel, "limit hit: connections (all authenticated)", "remote", remote, "max_conns", s.cfg.MaxConns)
		return nil
	}
	if v := a.victim; v != nil {
		v.evict()
		s.flood.print(log.InfoLevel, "limit hit: pre-auth slots: closed the oldest pending connection", "share", a.share, "closed", v.addr, "remote", remote, "hot", a.hot, "max_preauth", s.cfg.MaxPreauth)
	}
	if s.stopping() { // Close may have closed the pending connections before this one came in
		a.slot.release()
		return nil
	}
	if h := s.cfg.hooks.conn; h != nil {
		h(c)
	}
	deadline := s.cfg.HandshakeTimeout
	if a.pressure {
		deadline /= 4
	}
	g := &guardConn{Conn: c, handshake: s.cfg.HandshakeTimeout, writeTimeout: s.cfg.WriteTimeout, slot: a.slot}
	g.stalled = func() {
		s.log.Warn("limit hit: write timeout (the client stopped reading); closing its connection", "remote", remote, "timeout", s.cfg.WriteTimeout)
	}
	_ = c.SetReadDeadline(time.Now().Add(deadline))
	ctx.SetValue(guardKey{}, g)
	s.log.Debug("connection", "remote", remote, "handshake_timeout", deadline)
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
	g.once.Do(g.slot.release)
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
		g.slot.settle()
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

// authenticated takes the connection out of the pre-auth pool (an authorized key proved).
func (g *guardConn) authenticated() { g.slot.settle() }

// keyExchanged marks the connection as past its key exchange (preauth evicts it last).
func (g *guardConn) keyExchanged() { g.slot.keyExchanged() }

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
