package serve

import (
	"fmt"
	"maps"
	"net"
	"strings"

	"github.com/charmbracelet/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// Permission extensions set during authentication. Only VerifiedPublicKeyCallback writes
// extFingerprint, so its presence means "the client signed with this key".
const (
	extFingerprint = "sharpflat-verified-key-sha256"
	extAnonymous   = "sharpflat-anonymous"
)

// identity is who a session is, as far as the server can prove it.
type identity struct {
	fingerprint string // SHA256 fingerprint of the proven key; "" if anonymous
	remote      string // source address (host only)
	user        string // the name the client sent (not verified; logs only)
}

// anonymous reports a session without a proven key (Open only).
func (id identity) anonymous() bool { return id.fingerprint == "" }

// capKey is what the per-key session cap counts: the key, or the source address.
func (id identity) capKey() string {
	if id.anonymous() {
		return "anon@" + id.remote
	}
	return id.fingerprint
}

// who is the identity for logs and messages.
func (id identity) who() string {
	if id.anonymous() {
		return "anonymous"
	}
	return id.fingerprint
}

// offeredKey answers "would this key be accepted?". x/crypto calls it for every key a client
// offers, including keys the client only queries about and never signs with, so it must not
// record anything about the connection: it only looks the key up.
func (s *Server) offeredKey(_ ssh.Context, key ssh.PublicKey) bool {
	return s.cfg.Open || s.keys.contains(key)
}

// verifiedKey runs after the client has signed with key (x/crypto verified the signature
// over this connection's session id). It looks the key up again — the file may have changed
// since the offer — and binds the identity to it.
func (s *Server) verifiedKey(conn gossh.ConnMetadata, key gossh.PublicKey, perms *gossh.Permissions, _ string) (*gossh.Permissions, error) {
	fp := gossh.FingerprintSHA256(key)
	if !s.cfg.Open && !s.keys.contains(key) {
		s.log.Info("auth refused: key removed before it was used", "remote", hostOf(conn.RemoteAddr()), "user", logUser(conn.User()), "key", fp)
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
	out.Extensions[extFingerprint] = fp
	s.log.Info("auth ok", "method", "publickey", "remote", hostOf(conn.RemoteAddr()), "user", logUser(conn.User()), "key", fp, "type", key.Type())
	return out, nil
}

// anonymousLogin is keyboard-interactive without prompts, installed only with Open: clients
// without a key get in anonymously. It asks nothing, so there is nothing secret to log.
func (s *Server) anonymousLogin(ctx ssh.Context, _ gossh.KeyboardInteractiveChallenge) bool {
	ctx.Permissions().Extensions = map[string]string{extAnonymous: "1"}
	s.log.Info("auth ok", "method", "anonymous", "remote", hostOf(ctx.RemoteAddr()), "user", logUser(ctx.User()))
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
	s.log.Info("auth refused", "method", method, "remote", hostOf(conn.RemoteAddr()), "user", logUser(conn.User()), "reason", err.Error())
}

// serverConfig is the x/crypto configuration under wish's: charmbracelet/ssh adds its own
// PublicKeyCallback (calling offeredKey) and KeyboardInteractiveCallback on top, and leaves
// VerifiedPublicKeyCallback, MaxAuthTries and AuthLogCallback as set here. Because a
// PublicKeyHandler is always installed, it never sets NoClientAuth: "none" is refused.
func (s *Server) serverConfig(ssh.Context) *gossh.ServerConfig {
	return &gossh.ServerConfig{
		MaxAuthTries:              s.cfg.MaxAuthTries,
		VerifiedPublicKeyCallback: s.verifiedKey,
		AuthLogCallback:           s.authLog,
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

// logUser makes a client-chosen user name safe to log: printable, at most 32 runes.
func logUser(u string) string {
	var b strings.Builder
	n := 0
	for _, r := range u {
		if n++; n > 32 {
			b.WriteString("…")
			break
		}
		if r < 0x20 || r == 0x7f {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}
