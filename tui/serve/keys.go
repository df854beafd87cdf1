package serve

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/charmbracelet/log"
	gossh "golang.org/x/crypto/ssh"

	"sharpflat/internal/safetext"
)

// keySet is an authorized_keys file, re-read whenever it changes (size, modification time
// or inode, checked at every lookup: a stat costs microseconds and lookups are bounded by the
// connection and authentication limits).
//
// If the file disappears or may not be read, the set is empty until it is back: removing
// the file locks everyone out. If it is there but cannot be used as a whole (larger than
// maxKeysFileBytes, a line longer than maxKeyLineBytes, not a regular file), the keys read
// before stay in force and the error is logged, naming file:line: at start-up the same
// error stops the server.
type keySet struct {
	path string
	what string // "authorized keys" or "controllers", for the logs
	log  *log.Logger

	mu    sync.Mutex
	stamp fileStamp
	keys  map[string][]keyEntry // SHA256 fingerprint → the key's lines, in file order
	n     int                   // lines in keys
}

// keyEntry is one usable line of the file.
type keyEntry struct {
	at      string // file:line (safe to log)
	comment string // the key's comment, safe to log (logField): who the key is, for the logs
	opts    keyOptions
}

// fileStamp tells whether a file changed.
type fileStamp struct {
	ok    bool
	size  int64
	mtime time.Time
	ino   uint64
}

func stampOf(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	st := fileStamp{ok: true, size: fi.Size(), mtime: fi.ModTime()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.ino = uint64(sys.Ino)
	}
	return st
}

// loadKeySet reads path once; any error is an error here (at start-up), later only logged.
func loadKeySet(path, what string, l *log.Logger) (*keySet, error) {
	k := &keySet{path: path, what: what, log: l}
	st := stampOf(path)
	keys, n, err := readAuthorizedKeys(path, what, l)
	if err != nil {
		return nil, err
	}
	k.stamp, k.keys, k.n = st, keys, n
	l.Info("keys loaded", "file", what, "path", safetext.Line(path), "keys", n)
	return k, nil
}

// lookup finds the first line for the key with fingerprint fp that lets a client at addr
// in now, as sshd takes the first line that does. If the key has lines but none lets it in,
// e is the first of them and why its reason; if it has none, why is "".
func (k *keySet) lookup(fp string, addr netip.Addr, now time.Time) (e keyEntry, ok bool, why string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.refreshLocked()
	entries := k.keys[fp]
	for _, e := range entries {
		if ok, _ := e.opts.permits(addr, now); ok {
			return e, true, ""
		}
	}
	if len(entries) == 0 {
		return keyEntry{}, false, ""
	}
	_, why = entries[0].opts.permits(addr, now)
	return entries[0], false, why
}

// count is the number of usable lines.
func (k *keySet) count() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.refreshLocked()
	return k.n
}

func (k *keySet) refreshLocked() {
	st := stampOf(k.path)
	if st == k.stamp {
		return
	}
	k.stamp = st
	keys, n, err := readAuthorizedKeys(k.path, k.what, k.log)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission):
		k.log.Warn("keys unreadable: refusing all of them until fixed", "file", k.what, "path", safetext.Line(k.path), "err", safetext.Line(err.Error()))
		k.keys, k.n = nil, 0
	case err != nil:
		k.log.Error("keys not reloaded: keeping the keys read before", "file", k.what, "keys", k.n, "err", safetext.Line(err.Error()))
	default:
		k.keys, k.n = keys, n
		k.log.Info("keys reloaded", "file", k.what, "path", safetext.Line(k.path), "keys", n)
		if n == 0 {
			k.log.Warn("no usable keys in "+safetext.Line(k.path), "file", k.what)
		}
	}
}

// readAuthorizedKeys parses an authorized_keys file into its usable lines. A line that is
// not a key, or whose options this server cannot honour (parseKeyOptions), is skipped with
// a warning naming file:line; a line too long, or a file too large, is an error.
func readAuthorizedKeys(path, what string, l *log.Logger) (map[string][]keyEntry, int, error) {
	b, _, err := readBounded(path, maxKeysFileBytes)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", what, err)
	}
	keys := map[string][]keyEntry{}
	count := 0
	for n := 1; len(b) > 0; n++ {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte("\n"))
		at := fmt.Sprintf("%s:%d", safetext.Line(path), n)
		if len(line) > maxKeyLineBytes {
			return nil, 0, fmt.Errorf("%s %s: a line of %d bytes, more than the %d allowed", what, at, len(line), maxKeyLineBytes)
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		pub, comment, opts, _, err := gossh.ParseAuthorizedKey(line)
		if err != nil {
			l.Warn("skipping a line that is not a public key", "file", what, "at", at)
			continue
		}
		o, err := parseKeyOptions(opts, time.Local)
		if err != nil {
			var oe *optionError
			option := ""
			if errors.As(err, &oe) {
				option = oe.option
			}
			l.Warn("skipping a key with an option this server does not honour", "file", what, "at", at,
				"option", logField(option, 64), "err", logField(err.Error(), 200), "comment", logField(comment, 64))
			continue
		}
		fp := gossh.FingerprintSHA256(pub)
		keys[fp] = append(keys[fp], keyEntry{at: at, comment: logField(comment, 64), opts: o})
		count++
	}
	return keys, count, nil
}
