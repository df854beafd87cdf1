package serve

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/log"

	"sharpflat/internal/safetext"
)

// Join tokens: who may come in through the web door. A browser has no SSH key, so a link
// carries a secret token in its fragment (…/#t=TOKEN), which the page sends in the
// WebSocket's first message: it never appears in a request line, a proxy's log or ours.
//
// The tokens file has one token a line: TOKEN NAME ROLE, separated by blanks, where ROLE
// is controller (steers a classroom) or watcher (watches it read-only; in per-session mode
// every token gets a lab of its own); # starts a comment line. A token is at least 16
// characters of A–Z a–z 0–9 - _ (generate one with `openssl rand -base64 18 | tr +/ -_`),
// a name at most 32 printable characters. Errors name file:line:col. The file is re-read
// when it changes, with the bounds and rules of the key files (keys.go): a bad file at a
// reload is logged and the tokens read before stay in force; a file that disappears locks
// everyone out.

// role is what a token lets its holder do.
type role string

const (
	roleController role = "controller"
	roleWatcher    role = "watcher"
)

// webToken is one line of the tokens file (or a generated link).
type webToken struct {
	sum  [sha256.Size]byte // of the token: compared in constant time, never the token itself
	name string
	role role
	at   string // file:line, or "generated"
}

// joinGrant is a generated link's holder: a name and a role.
type joinGrant struct {
	name string
	role role
}

// tokenSet is the tokens the web door accepts.
type tokenSet struct {
	path string // "" for generated tokens: never re-read
	log  *log.Logger

	mu     sync.Mutex
	stamp  fileStamp
	tokens []webToken
}

const (
	minTokenLen  = 16
	maxTokenLen  = 128
	maxTokenName = 32
)

// loadTokens reads path; an error here (at start-up) is an error, later only logged.
func loadTokens(path string, l *log.Logger) (*tokenSet, error) {
	t := &tokenSet{path: path, log: l}
	st := stampOf(path)
	toks, err := readTokens(path)
	if err != nil {
		return nil, err
	}
	t.stamp, t.tokens = st, toks
	l.Info("web tokens loaded", "path", safetext.Line(path), "tokens", len(toks))
	if len(toks) == 0 {
		l.Warn("no tokens in " + safetext.Line(path) + ": nobody can join in the browser (the file is re-read when it changes)")
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		l.Warn(fmt.Sprintf("web tokens %s have mode %04o: group or others can read the join tokens; chmod 600 it", safetext.Line(path), fi.Mode().Perm()))
	}
	return t, nil
}

// hasRole reports whether some token has role r.
func (t *tokenSet) hasRole(r role) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, w := range t.tokens {
		if w.role == r {
			return true
		}
	}
	return false
}

// generatedTokens makes one fresh token per (name, role), returned in the same order.
func generatedTokens(l *log.Logger, who ...joinGrant) (*tokenSet, []string, error) {
	t := &tokenSet{log: l}
	var secrets []string
	for _, w := range who {
		s, err := newToken()
		if err != nil {
			return nil, nil, err
		}
		secrets = append(secrets, s)
		t.tokens = append(t.tokens, webToken{sum: sha256.Sum256([]byte(s)), name: w.name, role: w.role, at: "generated"})
	}
	return t, secrets, nil
}

// newToken is 128 random bits, base64url.
func newToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("a join token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// lookup finds the token's line. Every line is compared, in constant time, whatever
// matches: the time taken says nothing about which token, or how much of one, was right.
func (t *tokenSet) lookup(token string) (webToken, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.refreshLocked()
	sum := sha256.Sum256([]byte(token))
	var found webToken
	hit := 0
	for _, w := range t.tokens {
		eq := subtle.ConstantTimeCompare(sum[:], w.sum[:])
		if eq == 1 && hit == 0 {
			found = w
		}
		hit |= eq
	}
	return found, hit == 1
}

func (t *tokenSet) refreshLocked() {
	if t.path == "" {
		return
	}
	st := stampOf(t.path)
	if st == t.stamp {
		return
	}
	t.stamp = st
	toks, err := readTokens(t.path)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission):
		t.log.Warn("web tokens unreadable: refusing all of them until fixed", "path", safetext.Line(t.path), "err", safetext.Line(err.Error()))
		t.tokens = nil
	case err != nil:
		t.log.Error("web tokens not reloaded: keeping the tokens read before", "tokens", len(t.tokens), "err", safetext.Line(err.Error()))
	default:
		t.tokens = toks
		t.log.Info("web tokens reloaded", "path", safetext.Line(t.path), "tokens", len(toks))
	}
}

// readTokens parses a tokens file. Any bad line is an error naming file:line:col (a
// tokens file is short and written by hand: better refused whole than half read).
func readTokens(path string) ([]webToken, error) {
	b, _, err := readBounded(path, maxKeysFileBytes)
	if err != nil {
		return nil, fmt.Errorf("web tokens: %w", err)
	}
	var toks []webToken
	seen := map[[sha256.Size]byte]string{}
	for n := 1; len(b) > 0; n++ {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte("\n"))
		at := func(col int) string { return fmt.Sprintf("%s:%d:%d", safetext.Line(path), n, col) }
		if len(line) > maxKeyLineBytes {
			return nil, fmt.Errorf("web tokens %s: a line of %d bytes, more than the %d allowed", at(1), len(line), maxKeyLineBytes)
		}
		if !utf8.Valid(line) {
			return nil, fmt.Errorf("web tokens %s: not UTF-8", at(1))
		}
		fields, cols := splitFields(string(line))
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		if len(fields) != 3 {
			return nil, fmt.Errorf("web tokens %s: %d fields, want 3: TOKEN NAME ROLE", at(cols[0]), len(fields))
		}
		tok, name, r := fields[0], fields[1], fields[2]
		if err := checkToken(tok); err != nil {
			return nil, fmt.Errorf("web tokens %s: the token %w", at(cols[0]), err)
		}
		if utf8.RuneCountInString(name) > maxTokenName || strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
			return nil, fmt.Errorf("web tokens %s: the name %s: want at most %d printable characters", at(cols[1]), safetext.Line(name), maxTokenName)
		}
		switch role(r) {
		case roleController, roleWatcher:
		default:
			return nil, fmt.Errorf("web tokens %s: role %s: want controller or watcher", at(cols[2]), safetext.Line(r))
		}
		sum := sha256.Sum256([]byte(tok))
		if prev, dup := seen[sum]; dup {
			return nil, fmt.Errorf("web tokens %s: the same token as line %s", at(cols[0]), prev)
		}
		seen[sum] = fmt.Sprint(n)
		toks = append(toks, webToken{sum: sum, name: name, role: role(r), at: fmt.Sprintf("%s:%d", safetext.Line(path), n)})
	}
	return toks, nil
}

// checkToken says what is wrong with a token, if anything.
func checkToken(tok string) error {
	if len(tok) < minTokenLen || len(tok) > maxTokenLen {
		return fmt.Errorf("is %d characters long, want %d to %d", len(tok), minTokenLen, maxTokenLen)
	}
	for _, c := range []byte(tok) {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("has a character other than A–Z a–z 0–9 - _")
		}
	}
	return nil
}

// splitFields splits s at blanks, with each field's 1-based column (in characters).
func splitFields(s string) (fields []string, cols []int) {
	col, start, startCol := 0, -1, 0
	for i, r := range s {
		col++
		if r == ' ' || r == '\t' || r == '\r' {
			if start >= 0 {
				fields, cols = append(fields, s[start:i]), append(cols, startCol)
				start = -1
			}
			continue
		}
		if start < 0 {
			start, startCol = i, col
		}
	}
	if start >= 0 {
		fields, cols = append(fields, s[start:]), append(cols, startCol)
	}
	return fields, cols
}
