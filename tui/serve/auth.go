package serve

import (
	"fmt"
	"maps"
	"net"
	"net/netip"
	"time"

	"github.com/charmbracelet/ssh"
	gossh "golang.org/x/crypto/ssh"

	"sharpflat/internal/safetext"
)

// Permission extensions set during authentication. Only VerifiedPublicKeyCallback writes
// extFingerprint, so its presence means "the client signed with this key".
const (
	extFingerprint = "sharpflat-verified-key-sha256"
	extAnonymous   = "sharpflat-anonymous"
	extNoPTY       = "sharpflat-no-pty" // the key's line forbids a terminal (no-pty, restrict)
)

// identity is who a session is, as far as the server can prove it.
type identity struct {
	fingerprint string // SHA256 fingerprint of the proven key; "" if anonymous or a token
	token       string // the web door: the name of the join token the client sent
	shared      bool   // the token is one link for many (a watcher's): capped per address, by MaxPerLink
	remote      string // source address (host only)
	user        string // the name the client sent (not verified; logs only)
}

// anonymous reports a session without a proven key or token (Open only).
func (id identity) anonymous() bool { return id.fingerprint == "" && id.token == "" }

// capKey is what the per-key session cap counts: the key, the token (per source address
// for a shared one), or the source address.
func (id identity) capKey() string {
	switch {
	case id.token != "" && id.shared:
		return "token:" + id.token + "@" + id.remote
	case id.token != "":
		return "token:" + id.token
	case id.anonymous():
		return "anon@" + id.remote
	}
	return id.fingerprint
}

// who is the identity for logs and messages.
func (id identity) who() string {
	switch {
	case id.token != "":
		return "token " + id.token
	case id.anonymous():
		return "anonymous"
	}
	return id.fingerprint
}

// authorize finds the line that lets key in from addr now: in the authorized keys file, else
// in the controllers file (a classroom's controllers need not be repeated among the
// authorized keys). If none does but some line has the key, e is that line and why says
// why it does not let the key in; otherwise why is "".
func (s *Server) authorize(fp string, addr netip.Addr) (e keyEntry, ok bool, why string) {
	now := time.Now()
	for _, k := range []*keySet{s.keys, s.controllers} {
		if k == nil {
			continue
		}
		ke, ok, w := k.lookup(fp, addr, now)
		if ok {
			return ke, true, ""
		}
		if w != "" && why == "" {
			e, why = ke, w
		}
	}
	return e, false, why
}

// offeredKey answers "would this key be accepted?". x/crypto calls it for every key a client
// offers, including keys the client only queries about and never signs with, so it must not
// record anything about the connection: it only looks the key up (and logs why a listed key
// is refused: expired, or not from this address).
func (s *Server) offeredKey(ctx ssh.Context, key ssh.PublicKey) bool {
	if s.cfg.Open {
		return true
	}
	fp := gossh.FingerprintSHA256(key)
	e, ok, why := s.authorize(fp, addrOf(ctx.RemoteAddr()))
	if why != "" {
		s.log.Info("auth refused", "method", "publickey", "reason", safetext.Line(why), "remote", hostOf(ctx.RemoteAddr()), "user", logUser(ctx.User()),
			"client", logField(ctx.ClientVersion(), 64), "key", fp, "comment", e.comment, "at", e.at)
	}
	return ok
}

// verifiedKey runs after the client has signed with key (x/crypto verified the signature
// over this connection's session id). It looks the key up again — the file may have changed
// since the offer — and binds the identity, and the restrictions of the line that let it in,
// to the connection. An authorized key's connection is no longer pending (see preauth.go).
func (s *Server) verifiedKey(ctx ssh.Context, conn gossh.ConnMetadata, key gossh.PublicKey, perms *gossh.Permissions) (*gossh.Permissions, error) {
	fp := gossh.FingerprintSHA256(key)
	e, ok, why := s.authorize(fp, addrOf(conn.RemoteAddr()))
	if !s.cfg.Open && !ok {
		if why == "" {
			why = "key removed before it was used"
		}
		s.log.Info("auth refused", "method", "publickey", "reason", safetext.Line(why), "remote", hostOf(conn.RemoteAddr()), "user", logUser(conn.User()),
			"client", clientVersion(conn.ClientVersion()), "key", fp, "comment", e.comment, "at", e.at)
		return nil, fmt.Errorf("permission denied")
	}
	out := &gossh.Permissions{}
	if perms != nil {
		out.CriticalOptions = perms.CriticalOptions
		out.Extensions = maps.Clone(perms.Extensions)
	}
	if out.Extensions == nil {
		out.Extensions = map[string]string{}
	}
	delete(out.Extensions, extAnonymous)
	delete(out.Extensions, extNoPTY)
	out.Extensions[extFingerprint] = fp
	kv := []any{"method", "publickey", "remote", hostOf(conn.RemoteAddr()), "user", logUser(conn.User()),
		"client", clientVersion(conn.ClientVersion()), "key", fp, "type", key.Type()}
	if ok {
		kv = append(kv, "comment", e.comment, "at", e.at)
		if e.opts.noPTY {
			out.Extensions[extNoPTY] = "1"
			kv = append(kv, "pty", false)
		}
	}
	if g := guardOf(ctx); g != nil && !s.cfg.Open {
		g.authenticated()
	}
	s.log.Info("auth ok", kv...)
	return out, nil
}

// anonymousLogin is keyboard-interactive without prompts, installed only with Open: clients
// without a key get in anonymously. It asks nothing, so there is nothing secret to log.
func (s *Server) anonymousLogin(ctx ssh.Context, _ gossh.KeyboardInteractiveChallenge) bool {
	ctx.Permissions().Extensions = map[string]string{extAnonymous: "1"}
	s.log.Info("auth ok", "method", "anonymous", "remote", hostOf(ctx.RemoteAddr()), "user", logUser(ctx.User()), "client", logField(ctx.ClientVersion(), 64))
	return true
}

// authLog logs failed attempts: method, user name (as sent, shortened) and the reason —
// never what the client sent as a credential.
func (s *Server) authLog(conn gossh.ConnMetadata, method string, err error) {
	if err == nil {
		return // successes are logged with the identity they prove
	}
	if method == "none" {
		// Every client tries "none" first; that is not worth a line at info level.
		s.log.Debug("auth refused", "method", method, "remote", hostOf(conn.RemoteAddr()), "user", logUser(conn.User()))
		return
	}
	s.log.Info("auth refused", "method", method, "remote", hostOf(conn.RemoteAddr()), "user", logUser(conn.User()),
		"client", clientVersion(conn.ClientVersion()), "reason", safetext.Line(err.Error()))
}

// serverConfig is the x/crypto configuration under wish's, one per connection:
// charmbracelet/ssh adds its own PublicKeyCallback (calling offeredKey) and
// KeyboardInteractiveCallback on top, and leaves the callbacks set here. Because a
// PublicKeyHandler is always installed, it never sets NoClientAuth: "none" is refused.
func (s *Server) serverConfig(ctx ssh.Context) *gossh.ServerConfig {
	return &gossh.ServerConfig{
		MaxAuthTries: s.cfg.MaxAuthTries,
		VerifiedPublicKeyCallback: func(conn gossh.ConnMetadata, key gossh.PublicKey, perms *gossh.Permissions, _ string) (*gossh.Permissions, error) {
			return s.verifiedKey(ctx, conn, key, perms)
		},
		AuthLogCallback: s.authLog,
		// Called once the key exchange is done: the client has done more than connect.
		PreAuthConnCallback: func(gossh.ServerPreAuthConn) {
			if g := guardOf(ctx); g != nil {
				g.keyExchanged()
			}
		},
	}
}

// identify reads a session's identity from the permissions the handshake ended with.
func (s *Server) identify(sess ssh.Session) (identity, error) {
	ext := sess.Permissions().Extensions
	id := identity{remote: hostOf(sess.RemoteAddr()), user: logUser(sess.User())}
	switch {
	case ext[extFingerprint] != "":
		id.fingerprint = ext[extFingerprint]
		return id, nil
	case ext[extAnonymous] == "1" && s.cfg.Open:
		return id, nil
	}
	return id, fmt.Errorf("no verified identity")
}

// addrOf is the IP address of a. (The zero Addr if a is not an IP address: from= then refuses.)
func addrOf(a net.Addr) netip.Addr {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.AddrPort().Addr().Unmap()
	}
	if a == nil {
		return netip.Addr{}
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// hostOf is the host part of an address (the port says nothing about who connects).
func hostOf(a net.Addr) string {
	if a == nil {
		return ""
	}
	h, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return h
}

// logUser makes a client-chosen user name (or terminal name) safe to log: at most 32 runes,
// every control character escaped (logField).
func logUser(u string) string { return logField(u, 32) }

// logField makes text from a peer or a key file (a user name, a client's version string, a
// key's comment) safe to log: cut to maxRunes runes (then …), and every control character,
// C1 control, bidirectional override and invalid byte shown escaped (safetext.Line), never
// executed by the terminal that shows the log.
func logField(s string, maxRunes int) string {
	n := 0
	for i := range s {
		if n == maxRunes {
			return safetext.Line(s[:i]) + "…"
		}
		n++
	}
	return safetext.Line(s)
}

// clientVersion is the version line the client sent, for the logs.
func clientVersion(v []byte) string { return logField(string(v), 64) }
