package serve

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/charmbracelet/log"
	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	gossh "golang.org/x/crypto/ssh"

	"sharpflat/internal/safetext"
)

// Server is the lab's SSH server. Create it with New, run it with ListenAndServe or Serve,
// stop it with Shutdown (gracefully) or Close.
type Server struct {
	cfg         Config
	log         *log.Logger
	ssh         *ssh.Server
	hostKey     gossh.Signer
	keys        *keySet // nil with Open
	controllers *keySet // nil unless a classroom with controllers
	limits      *limits
	flood       *rateLog   // log lines a connection flood repeats
	slots       *slots     // per-session mode
	class       *classroom // classroom mode
	web         *webDoor   // nil without WebAddr

	classOnce   sync.Once
	classCancel context.CancelFunc

	mu        sync.Mutex
	sessions  map[*session]struct{}
	wg        sync.WaitGroup // running sessions
	stopCh    chan struct{}  // closed when the server starts stopping
	noticeDur time.Duration  // how long sessions are warned before they are closed
	seq       atomic.Int64   // numbers sessions in the logs
}

// maxChannelsPerConn caps the session channels one connection may have open.
const maxChannelsPerConn = 4

// New checks cfg, loads (or creates) the host key, reads the key files and builds the
// server. It does not listen yet.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, sessions: map[*session]struct{}{}, stopCh: make(chan struct{})}
	s.limits = newLimits(&s.cfg)
	s.flood = newRateLog(s.log, logFloodPeriod)

	if cfg.Addr != "" {
		if err := s.newSSH(); err != nil {
			return nil, err
		}
	} else if cfg.Classroom && cfg.ControllersPath != "" {
		return nil, errors.New("--controllers is for the SSH door, which is off")
	}
	if cfg.WebAddr != "" {
		var err error
		if s.web, err = newWebDoor(s); err != nil {
			return nil, err
		}
		if cfg.InsecureHTTP && cfg.TLSCert == "" && !isLoopback(cfg.WebAddr) {
			s.log.Warn("--insecure-http: join tokens and every frame cross the network in clear; anyone on the path can read them and join as the teacher. Use --tls-cert/--tls-key, or a TLS reverse proxy on this host")
		}
	}
	if cfg.Classroom {
		var err error
		steer := s.controllers != nil || s.web != nil
		if s.class, err = newClassroom(cfg.Lab, cfg.Lesson, steer, s.log, &s.cfg.hooks); err != nil {
			return nil, err
		}
	} else {
		s.slots = newSlots(cfg.MaxEngines, cfg.MaxQueue)
	}
	return s, nil
}

// newSSH sets up the SSH door: the host key, the key files, the wish server.
func (s *Server) newSSH() error {
	cfg := s.cfg
	signer, created, err := loadHostKey(cfg.HostKeyPath)
	if err != nil {
		return err
	}
	s.hostKey = signer
	fp := gossh.FingerprintSHA256(signer.PublicKey())
	if created {
		s.log.Info("host key generated", "path", cfg.HostKeyPath, "fingerprint", fp)
	} else {
		s.log.Info("host key loaded", "path", cfg.HostKeyPath, "fingerprint", fp)
	}

	if cfg.Open {
		s.log.Warn("--open: anyone who can reach this port gets a session (any key, or anonymously); limits still apply")
	} else if s.keys, err = loadKeySet(cfg.AuthorizedKeysPath, "authorized keys", s.log); err != nil {
		return err
	}
	if cfg.Classroom {
		if cfg.ControllersPath != "" {
			if s.controllers, err = loadKeySet(cfg.ControllersPath, "controllers", s.log); err != nil {
				return err
			}
		} else if cfg.WebAddr == "" {
			s.log.Warn("classroom without --controllers: every session watches, nobody steers")
		}
	}
	s.warnNoKeys()

	opts := []ssh.Option{
		wish.WithAddress(cfg.Addr),
		func(srv *ssh.Server) error { srv.AddHostKey(signer); return nil },
		wish.WithPublicKeyAuth(s.offeredKey),
	}
	if cfg.Open {
		opts = append(opts, wish.WithKeyboardInteractiveAuth(s.anonymousLogin))
	}
	opts = append(opts, func(srv *ssh.Server) error {
		srv.Version = "sharpflat"
		srv.Handler = s.handle
		srv.ServerConfigCallback = s.serverConfig
		srv.ConnCallback = s.onConn
		srv.ConnectionFailedCallback = s.connFailed
		// A key whose line says no-pty (or restrict) gets no terminal; handle then says why.
		srv.PtyCallback = func(ctx ssh.Context, _ ssh.Pty) bool {
			p := ctx.Permissions()
			return p == nil || p.Permissions == nil || p.Extensions[extNoPTY] == ""
		}
		// Only session channels; no global requests (tcpip-forward, ...), no subsystems
		// (sftp, ...). Forwarding callbacks stay nil: charmbracelet/ssh then denies all.
		srv.ChannelHandlers = map[string]ssh.ChannelHandler{"session": s.sessionChannel}
		srv.RequestHandlers = map[string]ssh.RequestHandler{}
		srv.SubsystemHandlers = map[string]ssh.SubsystemHandler{}
		srv.LocalPortForwardingCallback = nil
		srv.ReversePortForwardingCallback = nil
		return nil
	})
	s.ssh, err = wish.NewServer(opts...)
	return err
}

// warnNoKeys warns loudly when nobody can log in. The server still starts: the files are
// re-read when they change, so keys may be added once it runs (a teacher starting the
// server before collecting the students' keys).
func (s *Server) warnNoKeys() {
	if s.cfg.Open {
		return
	}
	ctl := 0
	if s.controllers != nil {
		ctl = s.controllers.count()
	}
	switch {
	case s.keys.count() > 0:
	case ctl > 0:
		s.log.Warn("no usable keys in "+safetext.Line(s.cfg.AuthorizedKeysPath)+": only the controllers can log in", "controllers", ctl)
	default:
		s.log.Warn("no usable keys in " + safetext.Line(s.cfg.AuthorizedKeysPath) + ": nobody can log in (the file is re-read when it changes)")
	}
}

// HostKey is the server's public host key (its fingerprint is logged at start).
func (s *Server) HostKey() gossh.PublicKey {
	if s.hostKey == nil {
		return nil
	}
	return s.hostKey.PublicKey()
}

// ListenAndServe listens on cfg.Addr (SSH) and cfg.WebAddr (the web door), whichever are
// set, and serves until Shutdown or Close (then it returns nil). If one door fails, the
// server is closed and the error returned.
func (s *Server) ListenAndServe() error {
	type door struct {
		addr  string
		serve func(net.Listener) error
	}
	var doors []door
	if s.ssh != nil {
		doors = append(doors, door{s.cfg.Addr, s.Serve})
	}
	if s.web != nil {
		doors = append(doors, door{s.cfg.WebAddr, s.ServeWeb})
	}
	var lns []net.Listener
	for _, d := range doors {
		ln, err := net.Listen("tcp", d.addr)
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return err
		}
		lns = append(lns, ln)
	}
	errs := make(chan error, len(doors))
	for i, d := range doors {
		go func() { errs <- d.serve(lns[i]) }()
	}
	var first error
	for range doors {
		if err := <-errs; err != nil && first == nil {
			first = err
			s.Close()
		}
	}
	return first
}

// startClassroom starts the classroom's engine (once, whichever door serves first).
func (s *Server) startClassroom() {
	if s.class != nil {
		s.classOnce.Do(func() {
			ctx, cancel := context.WithCancel(context.Background())
			s.classCancel = cancel
			go s.class.run(ctx)
		})
	}
}

// closeOnStop closes ln when the server starts stopping, also if it already has; the
// returned function ends the watch (call it when serving on ln has ended).
func (s *Server) closeOnStop(ln net.Listener) (served func()) {
	done := make(chan struct{})
	go func() {
		select {
		case <-s.stopCh:
			ln.Close()
		case <-done:
		}
	}()
	return func() { close(done) }
}

// ServeWeb serves the web door on ln until Shutdown or Close (then it returns nil).
func (s *Server) ServeWeb(ln net.Listener) error {
	if s.web == nil {
		return errors.New("serve: no web door configured")
	}
	defer s.closeOnStop(ln)()
	s.log.Info("web listening", "addr", ln.Addr().String(), "tls", s.cfg.TLSCert != "", "tokens", map[bool]string{true: "generated", false: safetext.Line(s.cfg.WebTokensPath)}[s.cfg.WebTokensPath == ""])
	s.startClassroom()
	err := s.web.serve(ln)
	if s.stopping() {
		return nil
	}
	return err
}

// WebLinks are the join links generated at start (nil with a tokens file or no web door).
// They carry secrets: print them to the operator, never to the log.
func (s *Server) WebLinks() []JoinLink {
	if s.web == nil {
		return nil
	}
	return s.web.links
}

// Serve serves SSH on ln until Shutdown or Close (then it returns nil), also if they came
// first.
func (s *Server) Serve(ln net.Listener) error {
	if s.ssh == nil {
		return errors.New("serve: no SSH door configured")
	}
	// charmbracelet/ssh closes only the listeners it already tracks: a Close before its
	// Serve began would leave this one accepting forever.
	defer s.closeOnStop(ln)()
	mode := "per-session labs"
	if s.class != nil {
		mode = "classroom"
	}
	auth := "authorized keys"
	if s.cfg.Open {
		auth = "open"
	}
	s.log.Info("listening", "addr", ln.Addr().String(), "mode", mode, "auth", auth, "preset", s.cfg.Lab.Preset,
		"max_sessions", s.cfg.MaxSessions, "max_engines", s.cfg.MaxEngines, "max_conns", s.cfg.MaxConns, "max_preauth", s.cfg.MaxPreauth)
	s.startClassroom()
	err := s.ssh.Serve(ln)
	if errors.Is(err, ssh.ErrServerClosed) || s.stopping() {
		return nil
	}
	return err
}

// Shutdown stops accepting connections, tells every session the server is stopping, lets
// them end themselves after half of the time ctx leaves (2 s without a deadline), and then
// closes every connection left. It returns ctx's error if sessions were still running when
// ctx ended (they are closed anyway).
func (s *Server) Shutdown(ctx context.Context) error {
	notice := 2 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		notice = time.Until(dl) / 2
	}
	if n := s.cfg.hooks.stopNotice; n > 0 {
		notice = n
	}
	s.beginStop(notice)
	s.log.Info("stopping", "sessions", s.count(), "notice", notice.Round(time.Millisecond))
	lnDone := make(chan struct{})
	go func() { // closes the listeners at once, then waits for connections (until ctx ends)
		defer close(lnDone)
		if s.ssh != nil {
			_ = s.ssh.Shutdown(ctx)
		}
	}()
	webDone := make(chan struct{})
	go func() { // the same for the page's connections (a WebSocket is a session: below)
		defer close(webDone)
		if s.web != nil {
			_ = s.web.http.Shutdown(ctx)
		}
	}()
	sessDone := make(chan struct{})
	go func() { s.wg.Wait(); close(sessDone) }()
	var err error
	select {
	case <-sessDone:
	case <-ctx.Done():
		err = ctx.Err()
		s.log.Warn("shutdown deadline: closing the sessions left", "sessions", s.count())
	}
	s.closeDoors() // connections without a session, and any left
	s.limits.closePending()
	<-lnDone
	<-webDone
	select {
	case <-sessDone:
	case <-time.After(2 * time.Second):
		s.log.Error("sessions still running after their connections closed", "sessions", s.count())
	}
	s.stopClassroom()
	s.log.Info("stopped")
	return err
}

// Close closes the listeners and every connection at once.
func (s *Server) Close() error {
	s.beginStop(0)
	err := s.closeDoors()
	s.limits.closePending()
	s.stopClassroom()
	return err
}

// closeDoors closes every door's listener and connections at once.
func (s *Server) closeDoors() error {
	var errs []error
	if s.ssh != nil {
		errs = append(errs, s.ssh.Close())
	}
	if s.web != nil {
		errs = append(errs, s.web.http.Close())
		s.web.cutAll()
	}
	return errors.Join(errs...)
}

func (s *Server) stopClassroom() {
	if s.class == nil {
		return
	}
	s.classOnce.Do(func() {}) // never start it after this
	if s.classCancel != nil {
		s.classCancel()
		<-s.class.done
	}
}

func (s *Server) beginStop(notice time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.stopCh:
	default:
		s.noticeDur = notice
		close(s.stopCh)
	}
}

func (s *Server) stopping() bool {
	select {
	case <-s.stopCh:
		return true
	default:
		return false
	}
}

func (s *Server) notice() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.noticeDur
}

// track registers a running session (false once the server is stopping).
func (s *Server) track(se *session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping() {
		return false
	}
	s.sessions[se] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(se *session) {
	s.mu.Lock()
	delete(s.sessions, se)
	s.mu.Unlock()
	s.wg.Done()
}

func (s *Server) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// sessionChannel admits a session channel (at most maxChannelsPerConn open on one
// connection) and hands it to charmbracelet/ssh.
func (s *Server) sessionChannel(srv *ssh.Server, conn *gossh.ServerConn, nc gossh.NewChannel, ctx ssh.Context) {
	if g := guardOf(ctx); g != nil {
		if !g.openChannel() {
			s.log.Warn("limit hit: channels per connection", "remote", hostOf(conn.RemoteAddr()), "max", maxChannelsPerConn)
			_ = nc.Reject(gossh.ResourceShortage, "too many channels on one connection")
			return
		}
		defer g.closeChannel()
	}
	ssh.DefaultSessionHandler(srv, conn, nc, ctx)
}

// connFailed logs a connection that did not complete its handshake.
func (s *Server) connFailed(c net.Conn, err error) {
	remote := hostOf(c.RemoteAddr())
	if errors.Is(err, os.ErrDeadlineExceeded) {
		s.flood.print(log.InfoLevel, "limit hit: handshake timeout", "remote", remote, "timeout", s.cfg.HandshakeTimeout)
		return
	}
	s.flood.print(log.InfoLevel, "connection closed before a session", "remote", remote, "reason", safetext.Line(err.Error()))
}
