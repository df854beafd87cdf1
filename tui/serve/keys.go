package serve

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/charmbracelet/log"
	gossh "golang.org/x/crypto/ssh"
)

// keySet is an authorized_keys file, re-read whenever it changes (size, modification time
// or inode, checked at every lookup: a stat costs microseconds and lookups are bounded by the
// connection and authentication limits). If the file disappears or cannot be read, the set
// is empty until it is back: a server fails closed.
type keySet struct {
	path string
	what string // "authorized keys" or "controllers", for the logs
	log  *log.Logger

	mu    sync.Mutex
	stamp fileStamp
	keys  map[string]string // marshalled public key → SHA256 fingerprint
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

// loadKeySet reads path once; an unreadable file is an error here (at start-up), later only a
// logged warning.
func loadKeySet(path, what string, l *log.Logger) (*keySet, error) {
	k := &keySet{path: path, what: what, log: l}
	st := stampOf(path)
	keys, err := readAuthorizedKeys(path, what, l)
	if err != nil {
		return nil, err
	}
	k.stamp, k.keys = st, keys
	l.Info("keys loaded", "file", what, "path", path, "keys", len(keys))
	return k, nil
}

// contains reports whether key is in the file as it is now.
func (k *keySet) contains(key gossh.PublicKey) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.refreshLocked()
	_, ok := k.keys[string(key.Marshal())]
	return ok
}

// containsFingerprint reports whether a key with this SHA256 fingerprint is in the file.
func (k *keySet) containsFingerprint(fp string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.refreshLocked()
	for _, f := range k.keys {
		if f == fp {
			return true
		}
	}
	return false
}

func (k *keySet) refreshLocked() {
	st := stampOf(k.path)
	if st == k.stamp {
		return
	}
	keys, err := readAuthorizedKeys(k.path, k.what, k.log)
	if err != nil {
		k.log.Warn("keys unreadable: refusing all of them until fixed", "file", k.what, "path", k.path, "err", err)
		keys = map[string]string{}
	} else {
		k.log.Info("keys reloaded", "file", k.what, "path", k.path, "keys", len(keys))
	}
	k.stamp, k.keys = st, keys
}

// readAuthorizedKeys parses an authorized_keys file. Lines it cannot honour are skipped with
// a warning rather than widened: cert-authority lines (certificates are not supported) and
// from="..." source restrictions (not enforced here). Other options (command=, restrict, ...)
// are irrelevant to a server that only ever runs the lab.
func readAuthorizedKeys(path, what string, l *log.Logger) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	keys := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		pub, _, opts, _, err := gossh.ParseAuthorizedKey(line)
		if err != nil {
			l.Warn("skipping a line that is not a public key", "file", what, "path", path, "line", n)
			continue
		}
		if skip := unsupportedOption(opts); skip != "" {
			l.Warn("skipping a key with an unsupported option", "file", what, "path", path, "line", n, "option", skip)
			continue
		}
		keys[string(pub.Marshal())] = gossh.FingerprintSHA256(pub)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return keys, nil
}

func unsupportedOption(opts []string) string {
	for _, o := range opts {
		name, _, _ := strings.Cut(strings.ToLower(o), "=")
		switch name {
		case "cert-authority", "from":
			return name
		}
	}
	return ""
}
