package serve

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/log"
	"github.com/charmbracelet/x/ansi"
	"go.uber.org/goleak"
	gossh "golang.org/x/crypto/ssh"

	"sharpflat/lab"
)

// Test fixtures: a server on 127.0.0.1:0 with keys in a temporary directory, and an
// x/crypto SSH client that opens terminals and waits for text on them.

// syncBuffer is a bytes.Buffer safe for one writer and many readers.
type syncBuffer struct {
	mu   sync.Mutex
	b    bytes.Buffer
	wake chan struct{} // see changes
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.wake != nil {
		select {
		case s.wake <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
	return s.b.Write(p)
}

// changes returns a channel that receives after the buffer is written to, so a test can
// wait for output as an event instead of polling on a clock.
func (s *syncBuffer) changes() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.wake == nil {
		s.wake = make(chan struct{}, 1)
	}
	return s.wake
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// engineTally counts the engines a server starts (install started as its engineStarted
// hook): how many, how many ran at once, and the first of them.
type engineTally struct {
	mu            sync.Mutex
	n             int
	running, peak int
	first         chan *lab.Engine
}

func newEngineTally() *engineTally { return &engineTally{first: make(chan *lab.Engine, 1)} }

func (et *engineTally) started(_ string, e *lab.Engine) {
	et.mu.Lock()
	et.n++
	et.running++
	et.peak = max(et.peak, et.running)
	et.mu.Unlock()
	go func() {
		<-e.Done()
		et.mu.Lock()
		et.running--
		et.mu.Unlock()
	}()
	select {
	case et.first <- e:
	default:
	}
}

// counts returns the engines started, and the most that ran at once.
func (et *engineTally) counts() (started, peak int) {
	et.mu.Lock()
	defer et.mu.Unlock()
	return et.n, et.peak
}

type testServer struct {
	t       testing.TB
	srv     *Server
	cfg     Config
	addr    string
	dir     string
	hostKey gossh.PublicKey
	logs    *syncBuffer
	done    chan error
	user    gossh.Signer // authorized by default
	webAddr string       // the web door's, if it serves
}

// testLab is the demo preset made cheap for tests (which run with -race on shared cores):
// 300 examples, the top 3 of a 64-example Hessian every 20 steps, no energies. The tests
// need frames and an engine's life cycle, not its numbers.
func testLab(t testing.TB) Config {
	cfg := DefaultConfig()
	l := &cfg.Lab
	l.N, l.HessianSet, l.K, l.RefreshEvery, l.EnergyEvery, l.EvalEvery = 300, 64, 3, 20, 0, 20
	return cfg
}

// testConfig is the tests' configuration: files in dir (the authorized keys file not yet
// written), cheap lab, short timeouts, debug logs into logs.
func testConfig(t testing.TB, dir string, logs *syncBuffer) Config {
	cfg := testLab(t)
	cfg.HostKeyPath = filepath.Join(dir, "host", "ssh_host_ed25519_key")
	cfg.AuthorizedKeysPath = filepath.Join(dir, "authorized_keys")
	cfg.HandshakeTimeout = hangGuard // tests that need it short set it
	cfg.IdleTimeout = time.Minute
	cfg.MaxSessionTime = 10 * time.Minute
	cfg.WriteTimeout = hangGuard // tests of a client that stops reading set it short
	cfg.FPS = 20
	cfg.hooks.bgTimeout = 20 * time.Millisecond
	lg := log.New(logs)
	lg.SetLevel(log.DebugLevel)
	cfg.Logger = lg
	return cfg
}

// startServer starts a server with one authorized key (ts.user) unless mutate changes the
// configuration; mutate may write files in dir.
func startServer(t testing.TB, mutate func(c *Config, dir string)) *testServer {
	t.Helper()
	dir := t.TempDir()
	ts := &testServer{t: t, dir: dir, logs: &syncBuffer{}, done: make(chan error, 2), user: newKey(t)}
	cfg := testConfig(t, dir, ts.logs)
	writeKeys(t, cfg.AuthorizedKeysPath, ts.user.PublicKey())
	if mutate != nil {
		mutate(&cfg, dir)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.srv, ts.cfg, ts.addr, ts.hostKey = srv, srv.cfg, ln.Addr().String(), srv.HostKey()
	doors := 0
	if cfg.Addr != "" {
		go func() { ts.done <- srv.Serve(ln) }()
		doors++
	} else {
		ln.Close()
	}
	if cfg.WebAddr != "" { // the web door too (web_helpers_test.go)
		ts.startWeb()
		doors++
	}
	t.Cleanup(func() {
		srv.Close()
		for range doors {
			select {
			case err := <-ts.done:
				if err != nil {
					t.Errorf("Serve: %v", err)
				}
			case <-time.After(hangGuard):
				t.Errorf("Serve did not return %v after Close", hangGuard)
			}
		}
		if t.Failed() {
			t.Logf("server log:\n%s", ts.logs.String())
		}
	})
	return ts
}

func newKey(t testing.TB) gossh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// writeKeys writes an authorized_keys file (atomically, as an editor would).
func writeKeys(t testing.TB, path string, keys ...gossh.PublicKey) {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("# test keys\n")
	for _, k := range keys {
		b.Write(gossh.MarshalAuthorizedKey(k))
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// dial connects with the given authentication methods, checking the host key.
func (ts *testServer) dial(user string, auth ...gossh.AuthMethod) (*gossh.Client, error) {
	return ts.dialSequence(user, nil, auth...)
}

// dialSequence tries the methods of seq in order, each once, even several of the same kind
// (the client otherwise tries each kind of method only once), then those of auth.
func (ts *testServer) dialSequence(user string, seq []gossh.AuthMethod, auth ...gossh.AuthMethod) (*gossh.Client, error) {
	cfg := &gossh.ClientConfig{
		User: user, Auth: auth, HostKeyCallback: gossh.FixedHostKey(ts.hostKey), Timeout: hangGuard,
	}
	if len(seq) > 0 {
		cfg.AuthCallback = func(*gossh.ClientAuthContext) (gossh.AuthMethod, error) {
			if len(seq) == 0 {
				return nil, nil
			}
			m := seq[0]
			seq = seq[1:]
			return m, nil
		}
	}
	return gossh.Dial("tcp", ts.addr, cfg)
}

// login connects with key (ts.user if nil) and fails the test on error.
func (ts *testServer) login(user string, key gossh.Signer) *gossh.Client {
	ts.t.Helper()
	if key == nil {
		key = ts.user
	}
	c, err := ts.dial(user, gossh.PublicKeys(key))
	if err != nil {
		ts.t.Fatalf("login as %s: %v", user, err)
	}
	ts.t.Cleanup(func() { c.Close() })
	return c
}

// term is a session with a PTY, its output collected.
type term struct {
	t      testing.TB
	sess   *gossh.Session
	stdin  io.WriteCloser
	out    *syncBuffer
	stderr *syncBuffer
	exited chan error
}

// openTerm opens a w×h terminal running the lab.
func openTerm(t testing.TB, c *gossh.Client, w, h int) *term {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatalf("new session: %v", err)
	}
	tm := &term{t: t, sess: sess, out: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan error, 1)}
	if err := sess.RequestPty("xterm-256color", h, w, gossh.TerminalModes{}); err != nil {
		t.Fatalf("pty: %v", err)
	}
	tm.stdin, _ = sess.StdinPipe()
	sess.Stdout, sess.Stderr = tm.out, tm.stderr
	if err := sess.Shell(); err != nil {
		t.Fatalf("shell: %v", err)
	}
	go func() { tm.exited <- sess.Wait() }()
	t.Cleanup(func() { sess.Close() })
	return tm
}

// text is everything received so far, without escape sequences.
func (tm *term) text() string { return ansi.Strip(tm.out.String() + tm.stderr.String()) }

// frames counts the frames received (each begins by homing the cursor).
func (tm *term) frames() int { return strings.Count(tm.out.String(), "\x1b[H") }

// waitFor waits until the output (or its stderr) contains s, polling under the hang guard.
func (tm *term) waitFor(s string) { tm.t.Helper(); waitText(tm.t, tm, s) }

// waitForNew waits until output that arrives after this call contains s.
func (tm *term) waitForNew(s string) { tm.t.Helper(); waitNewText(tm.t, tm.out, tm.text, s) }

// close ends the session from the client's side.
func (tm *term) close() { tm.sess.Close() }

// waitExit waits for the session to end and returns its exit error (nil for status 0).
func (tm *term) waitExit() error {
	tm.t.Helper()
	select {
	case err := <-tm.exited:
		return err
	case <-time.After(hangGuard):
		tm.t.Fatalf("session still running after %v; output:\n%s", hangGuard, tail(tm.text(), 1500))
		return nil
	}
}

func (tm *term) send(s string) {
	tm.t.Helper()
	if _, err := io.WriteString(tm.stdin, s); err != nil {
		tm.t.Fatalf("send %q: %v", s, err)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// exitStatus is the status of a session's end (-1 if it ended without one).
func exitStatus(err error) int {
	if err == nil {
		return 0
	}
	var ee *gossh.ExitError
	if errors.As(err, &ee) {
		return ee.ExitStatus()
	}
	return -1
}

// goroutineBaseline is the goroutines a leak check ignores: the test's own and the server's,
// taken once the server has logged that it listens (its accept loop, then, is the only
// goroutine it adds in per-session mode: the check waits for that event, not for a time).
func (ts *testServer) goroutineBaseline(t testing.TB) goleak.Option {
	t.Helper()
	eventually(t, "the server did not start listening", func() bool {
		return strings.Contains(ts.logs.String(), "listening")
	})
	return goleak.IgnoreCurrent()
}

// eventually polls cond until it holds; the hang guard turns a hang into a failure.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", hangGuard, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// dialFrom connects from the local address ip: every address of 127.0.0.0/8 is this host
// on Linux, so a test can play several client machines.
func (ts *testServer) dialFrom(ip, user string, auth ...gossh.AuthMethod) (*gossh.Client, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: hangGuard}
	nc, err := d.Dial("tcp", ts.addr)
	if err != nil {
		return nil, err
	}
	cc, chans, reqs, err := gossh.NewClientConn(nc, ts.addr, &gossh.ClientConfig{
		User: user, Auth: auth, HostKeyCallback: gossh.FixedHostKey(ts.hostKey)})
	if err != nil {
		nc.Close()
		return nil, err
	}
	return gossh.NewClient(cc, chans, reqs), nil
}

// keyLine is an authorized_keys line: options (may be empty), then the key.
func keyLine(opts string, k gossh.Signer) string {
	line := strings.TrimSuffix(string(gossh.MarshalAuthorizedKey(k.PublicKey())), "\n")
	if opts != "" {
		line = opts + " " + line
	}
	return line
}

// writeLines writes an authorized_keys file line by line (atomically, as an editor would).
func writeLines(t testing.TB, path string, lines ...string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}
