package serve

import (
	"context"
	"crypto/tls"
	"embed"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/charmbracelet/log"
	"github.com/coder/websocket"

	"sharpflat/internal/safetext"
)

// The web door: `serve --web ADDR`. An HTTP(S) server with a static page (web/, embedded:
// a terminal emulator and a small script) and one WebSocket endpoint, /ws, whose protocol
// is in webpeer.go. A client proves a join token (webtokens.go) in its first message, and
// its session then runs in the same core as an SSH session, under the same caps.
//
// A WebSocket upgrade counts against MaxConns and sits in the same pre-auth pool as SSH's
// connections (preauth.go: per-address and per-network shares, newcomers evict the oldest
// pending) until its token is accepted; a connection that only fetches the page is not in
// the pool (a class loading the page at once would push its own loads out) but under a
// generous per-address cap (webConn) and the HTTP timeouts. Slowloris: headers must
// arrive within HandshakeTimeout, an idle keep-alive connection is closed after it, and
// the first WebSocket message must arrive within it too. Wrong tokens are limited per
// address (webfails.go); a right token is admitted whatever its address sent before. The upgrade checks Origin (same host as the request's Host, as
// coder/websocket does by default). Every response carries a strict Content-Security-Policy
// (scripts from the server only, no inline script; styles from the server and inline ones,
// since xterm's renderer adds <style> elements and style attributes for its colours, and
// the page is blank without them), X-Frame-Options: DENY and
// X-Content-Type-Options: nosniff. Plain HTTP is refused on a non-loopback address unless
// InsecureHTTP (a token would cross the network in clear).

//go:embed web
var webFiles embed.FS

// webDoor is the web door's state.
type webDoor struct {
	srv    *Server
	tokens *tokenSet
	fails  *failedJoins
	conns  *httpConns // before an upgrade
	links  []JoinLink // generated at start (no tokens file)
	http   *http.Server

	mu    sync.Mutex
	peers map[*webPeer]struct{}
}

// JoinLink is a generated link to the web door: whoever opens it joins as Name with Role.
type JoinLink struct {
	Name, Role string
	URL        string // with the token in its fragment
}

// webConn is an accepted TCP connection of the web door. A page load (static files) is
// bounded by the HTTP server's timeouts and a per-address cap of its own (httpConns); only a
// WebSocket upgrade takes a slot in the limits (MaxConns and the pre-auth pool, as an SSH
// connection does), until the connection closes. A class loading the page at once from one
// address (30 browsers × 6 files) would otherwise push its own loads out of the pool.
type webConn struct {
	net.Conn
	addr string
	http *httpConns
	once sync.Once

	mu     sync.Mutex
	slot   *connSlot // from the upgrade on
	closed bool
}

func (c *webConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.http.release(c.addr)
		c.mu.Lock()
		c.closed = true
		if c.slot != nil {
			c.slot.release()
		}
		c.mu.Unlock()
	})
	return err
}

// setSlot gives the connection its slot in the limits (released at once if it has closed).
func (c *webConn) setSlot(s *connSlot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slot = s
	if c.closed {
		s.release()
	}
}

// settle takes the connection out of the pre-auth pool (its token was accepted).
func (c *webConn) settle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.slot != nil {
		c.slot.settle()
	}
}

type webConnKey struct{}

// httpConns caps the web door's connections per source address (and in all) before any
// upgrade: generous, since a browser opens up to 6 at once and a class shares an address.
type httpConns struct {
	mu     sync.Mutex
	total  int
	byAddr map[string]int
}

const (
	maxHTTPPerAddr = 256
	maxHTTPConns   = 4096
)

func (h *httpConns) acquire(addr string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.total >= maxHTTPConns || h.byAddr[addr] >= maxHTTPPerAddr {
		return false
	}
	h.total++
	h.byAddr[addr]++
	return true
}

func (h *httpConns) release(addr string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.total--
	if h.byAddr[addr]--; h.byAddr[addr] <= 0 {
		delete(h.byAddr, addr)
	}
}

// webListener admits connections under the per-address cap of page loads.
type webListener struct {
	net.Listener
	s    *Server
	http *httpConns
}

func (l *webListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		s := l.s
		remote := hostOf(c.RemoteAddr())
		if s.stopping() {
			c.Close()
			continue
		}
		if !l.http.acquire(remote) {
			s.flood.print(log.InfoLevel, "limit hit: web connections from an address: refused", "remote", remote, "max", maxHTTPPerAddr)
			c.Close()
			continue
		}
		if h := s.cfg.hooks.conn; h != nil {
			h(c)
		}
		return &webConn{Conn: c, addr: remote, http: l.http}, nil
	}
}

// admitUpgrade takes a slot in the limits for a WebSocket upgrade (as onConn does for an
// SSH connection): false if refused.
func (w *webDoor) admitUpgrade(wc *webConn, remote string) bool {
	s := w.srv
	a := s.limits.acquireConn(remote, func() { wc.Conn.Close() })
	if a.slot == nil {
		s.flood.print(log.InfoLevel, "limit hit: web connections: refused", "remote", remote, "share", a.share, "hot", a.hot)
		return false
	}
	if v := a.victim; v != nil {
		v.evict()
		s.flood.print(log.InfoLevel, "limit hit: pre-auth slots: closed the oldest pending connection", "share", a.share, "closed", v.addr, "remote", remote, "hot", a.hot, "max_preauth", s.cfg.MaxPreauth)
	}
	wc.setSlot(a.slot)
	return true
}

// newWebDoor reads the tokens (or generates links) and builds the HTTP server.
func newWebDoor(s *Server) (*webDoor, error) {
	w := &webDoor{srv: s, fails: newFailedJoins(), peers: map[*webPeer]struct{}{}, conns: &httpConns{byAddr: map[string]int{}}}
	cfg := &s.cfg
	if cfg.WebTokensPath != "" {
		t, err := loadTokens(cfg.WebTokensPath, s.log)
		if err != nil {
			return nil, err
		}
		w.tokens = t
		if cfg.Classroom && !t.hasRole(roleController) {
			s.log.Warn("web tokens " + safetext.Line(cfg.WebTokensPath) + " have no controller line: nobody can steer the classroom in the browser (the file is re-read when it changes)")
		}
	} else {
		grants := []joinGrant{{"student", roleWatcher}}
		if cfg.Classroom {
			grants = []joinGrant{{"teacher", roleController}, {"class", roleWatcher}}
		}
		t, secrets, err := generatedTokens(s.log, grants...)
		if err != nil {
			return nil, err
		}
		w.tokens = t
		base := webBase(cfg)
		for i, g := range grants {
			w.links = append(w.links, JoinLink{Name: g.name, Role: string(g.role), URL: base + "/#t=" + secrets[i]})
		}
	}
	mux := http.NewServeMux()
	static, _ := fs.Sub(webFiles, "web")
	files := http.FileServerFS(static)
	mux.HandleFunc("GET /ws", w.serveWS)
	mux.Handle("GET /{$}", files) // index.html
	for _, f := range []string{"app.js", "app.css", "vendor/xterm.js", "vendor/xterm.css", "vendor/addon-fit.js", "vendor/LICENSE-xterm", "vendor/LICENSE-addon-fit"} {
		mux.Handle("GET /"+f, files) // these alone: no directory listings
	}
	w.http = &http.Server{
		Handler:           securityHeaders(mux),
		ReadHeaderTimeout: cfg.HandshakeTimeout,
		ReadTimeout:       cfg.HandshakeTimeout, // requests have no body; the WebSocket is hijacked before
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.HandshakeTimeout,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          log.New(safetext.NewWriter(discardWriter{})).StandardLog(),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if tc, ok := c.(*tls.Conn); ok {
				c = tc.NetConn()
			}
			return context.WithValue(ctx, webConnKey{}, c)
		},
	}
	return w, nil
}

type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }

// webBase is the links' scheme://host:port.
func webBase(cfg *Config) string {
	if cfg.WebURL != "" {
		return cfg.WebURL
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	host, port, err := net.SplitHostPort(cfg.WebAddr)
	if err != nil {
		return scheme + "://" + cfg.WebAddr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		if h, err := os.Hostname(); err == nil {
			host = h
		} else {
			host = "localhost"
		}
	}
	return (&url.URL{Scheme: scheme, Host: net.JoinHostPort(host, port)}).String()
}

// securityHeaders sets the headers every response carries.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// serveWS is the WebSocket endpoint: the token first, then the session.
func (w *webDoor) serveWS(rw http.ResponseWriter, r *http.Request) {
	s := w.srv
	remote := hostOf(remoteAddrOf(r))
	wc, _ := r.Context().Value(webConnKey{}).(*webConn)
	if wc == nil || !w.admitUpgrade(wc, remote) {
		http.Error(rw, "the server is busy: try again", http.StatusServiceUnavailable)
		return
	}
	c, err := websocket.Accept(rw, r, &websocket.AcceptOptions{})
	if err != nil { // Accept has answered (403 for a foreign Origin, 426, ...)
		s.flood.print(log.InfoLevel, "web upgrade refused", "remote", remote, "origin", logField(r.Header.Get("Origin"), 64), "err", logField(err.Error(), 120))
		return
	}
	c.SetReadLimit(maxWebMessage)
	// The HTTP server's deadlines stay on a hijacked connection: lifted, since a session
	// lives for hours; the hello's deadline is the timer below and every write is bounded
	// by the session core (or by a context here).
	if nc, ok := r.Context().Value(webConnKey{}).(net.Conn); ok {
		_ = nc.SetDeadline(time.Time{})
	}
	lg := s.log.With("remote", remote)
	fail := func(code websocket.StatusCode, msg, reason string) {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.WriteTimeout)
		defer cancel()
		_ = sendWebMsg(ctx, c, webMsg{Type: "error", Message: msg})
		_ = c.Close(code, reason)
	}
	// The hello's deadline: a read whose context ends closes the connection at once, so
	// the timer says why first, then closes.
	late := time.AfterFunc(s.cfg.HandshakeTimeout, func() {
		s.flood.print(log.InfoLevel, "limit hit: web hello timeout", "remote", remote, "timeout", s.cfg.HandshakeTimeout)
		fail(websocket.StatusPolicyViolation, "no hello in time", "hello timeout")
	})
	hello, err := readWebMsg(r.Context(), c)
	if !late.Stop() {
		return // timed out: closed by the timer
	}
	var bad *badMessage
	switch {
	case errors.As(err, &bad):
		lg.Info("web client refused: " + bad.what)
		fail(bad.code, "the server received "+bad.what+"; the first message must be the hello", "bad message")
		return
	case errors.Is(err, websocket.ErrMessageTooBig): // our read limit (a client's own 1009 close is not)
		lg.Info("web client refused: a message over the limit", "max", maxWebMessage)
		return
	case err != nil:
		_ = c.CloseNow()
		return
	case hello.Type != "hello":
		lg.Info("web client refused: the first message was not the hello")
		fail(websocket.StatusPolicyViolation, "the first message must be the hello, with the token", "bad message")
		return
	}
	// The token is always looked at: a right one is admitted even from an address that sent
	// wrong ones (a class behind one NAT or proxy is not locked out by one pupil's typos);
	// only wrong ones are counted, and refused without a further guess once over the limit.
	tok, ok := w.tokens.lookup(hello.Token)
	if !ok {
		if blocked, until := w.fails.fail(remote); blocked {
			s.flood.print(log.WarnLevel, "limit hit: wrong web tokens from an address: refused", "remote", remote, "max", maxJoinFails, "per", joinFailWindow)
			fail(websocket.StatusPolicyViolation, "too many wrong tokens from your address: try again after "+until.UTC().Format(time.TimeOnly)+" UTC", "too many wrong tokens")
			return
		}
		s.flood.print(log.WarnLevel, "web client refused: wrong or expired token", "remote", remote)
		fail(websocket.StatusPolicyViolation, "wrong or expired token: ask for a new link", "wrong token")
		return
	}
	wc.settle() // authenticated: out of the pre-auth pool
	wctx, wcancel := context.WithTimeout(context.Background(), s.cfg.WriteTimeout)
	_ = sendWebMsg(wctx, c, webMsg{Type: "joined", Name: tok.name, Role: string(tok.role)})
	wcancel()
	id := identity{token: tok.name, shared: tok.role == roleWatcher, remote: remote, user: tok.name}
	lg = lg.With("session", s.seq.Add(1), "key", id.who())
	lg.Info("web client joined", "role", string(tok.role), "at", tok.at)
	p := newWebPeer(c, window{hello.Cols, hello.Rows}, s.cfg.WriteTimeout, func(msg string, kv ...any) { lg.Info(msg, kv...) })
	w.mu.Lock()
	w.peers[p] = struct{}{}
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		delete(w.peers, p)
		w.mu.Unlock()
	}()
	s.runSession(p, entry{id: id, log: lg, door: "web", controller: func() bool { return tok.role == roleController }, end: p.close})
	p.close() // a refused session's (a second call returns at once)
}

func remoteAddrOf(r *http.Request) net.Addr {
	if a, err := net.ResolveTCPAddr("tcp", r.RemoteAddr); err == nil {
		return a
	}
	return &net.TCPAddr{}
}

// serve runs the HTTP server on ln until it is closed.
func (w *webDoor) serve(ln net.Listener) error {
	cfg := &w.srv.cfg
	wl := &webListener{Listener: ln, s: w.srv, http: w.conns}
	var err error
	if cfg.TLSCert != "" {
		err = w.http.ServeTLS(wl, cfg.TLSCert, cfg.TLSKey)
	} else {
		err = w.http.Serve(wl)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// cutAll closes every web session's connection at once.
func (w *webDoor) cutAll() {
	w.mu.Lock()
	var ps []*webPeer
	for p := range w.peers {
		ps = append(ps, p)
	}
	w.mu.Unlock()
	for _, p := range ps {
		p.cut()
	}
}

// isLoopback reports whether addr's host is a loopback address (or localhost).
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
