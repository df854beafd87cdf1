package serve

import (
	"io"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"
)

// The (N+1)th session is refused with a message; a free slot is usable again.
func TestMaxSessions(t *testing.T) {
	ts := startServer(t, func(c *Config, _ string) { c.MaxSessions, c.MaxPerKey = 2, 5 })
	c := ts.login("alice", nil)
	a := openTerm(t, c, 90, 28)
	b := openTerm(t, c, 90, 28)
	a.waitFor("running")
	b.waitFor("running")
	third := openTerm(t, c, 90, 28)
	if st := exitStatus(third.waitExit()); st != 1 {
		t.Errorf("refused session: exit status %d, want 1", st)
	}
	if !strings.Contains(third.text(), "the server is full (2 sessions)") {
		t.Errorf("refused session said %q", third.text())
	}
	if !strings.Contains(ts.logs.String(), "limit hit: sessions") {
		t.Errorf("the refusal is not logged")
	}
	a.send("q")
	a.waitExit()
	d := openTerm(t, c, 90, 28)
	d.waitFor("running")
}

// One key may hold MaxPerKey sessions; another key is not affected.
func TestMaxPerKey(t *testing.T) {
	bob := newKey(t)
	ts := startServer(t, func(c *Config, _ string) { c.MaxPerKey = 1 })
	writeKeys(t, ts.cfg.AuthorizedKeysPath, ts.user.PublicKey(), bob.PublicKey())
	first := openTerm(t, ts.login("alice", nil), 90, 28)
	first.waitFor("running")
	// The same key on a second connection.
	second := openTerm(t, ts.login("alice", nil), 90, 28)
	if st := exitStatus(second.waitExit()); st != 1 {
		t.Errorf("second session of one key: exit status %d, want 1", st)
	}
	if !strings.Contains(second.text(), "you already have 1 session(s) open") {
		t.Errorf("refusal said %q", second.text())
	}
	openTerm(t, ts.login("bob", bob), 90, 28).waitFor("running")
}

// With every engine taken, a session waits in the queue and sees its position; beyond
// the queue it is told the lab is full; when an engine frees, the first in line gets it.
func TestEngineQueue(t *testing.T) {
	ts := startServer(t, func(c *Config, _ string) { c.MaxEngines, c.MaxQueue, c.MaxPerKey = 1, 1, 5 })
	c := ts.login("alice", nil)
	first := openTerm(t, c, 90, 28)
	first.waitFor("running")
	queued := openTerm(t, c, 90, 28)
	queued.waitFor("You are number 1 in the queue")
	full := openTerm(t, c, 90, 28)
	if st := exitStatus(full.waitExit()); st != 1 {
		t.Errorf("beyond the queue: exit status %d, want 1", st)
	}
	if !strings.Contains(full.text(), "the lab is full") {
		t.Errorf("beyond the queue the session said %q", full.text())
	}
	first.send("q")
	first.waitExit()
	queued.waitFor("running")
}

// A TCP connection that never completes the handshake is closed after HandshakeTimeout, and
// so is an authenticated connection that opens no session. The login must finish within
// the timeout (it runs from the accept); a loopback login takes milliseconds, but a machine
// under load may take longer, so a login the timeout cut short is not a failure: the test
// starts again with the timeout doubled, up to the hang guard.
func TestHandshakeTimeout(t *testing.T) {
	for timeout := time.Second; ; timeout *= 2 {
		if timeout > hangGuard {
			t.Fatalf("no login finished within a handshake timeout of up to %v", hangGuard)
		}
		if handshakeTimeout(t, timeout) {
			return
		}
		t.Logf("the login took longer than a handshake timeout of %v: again with %v", timeout, 2*timeout)
	}
}

// handshakeTimeout checks both hang-ups with a server whose HandshakeTimeout is timeout;
// false if the login itself did not finish in time.
func handshakeTimeout(t *testing.T, timeout time.Duration) bool {
	ts := startServer(t, func(c *Config, _ string) { c.HandshakeTimeout = timeout })
	nc, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c, err := ts.dial("alice", gossh.PublicKeys(ts.user))
	if err != nil {
		return false
	}
	defer c.Close()
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	_ = nc.SetReadDeadline(time.Now().Add(hangGuard))
	_, err = io.Copy(io.Discard, nc) // the server's version line, then EOF when it hangs up
	if err != nil {
		t.Fatalf("the server did not hang up: %v", err)
	}
	eventually(t, "the hang-up was not logged as the handshake timeout's", func() bool { // logged after the close
		return strings.Contains(ts.logs.String(), "limit hit: handshake timeout")
	})
	select {
	case <-done:
	case <-time.After(hangGuard):
		t.Errorf("an authenticated connection without a session was kept open %v", hangGuard)
	}
	return true
}

// No key for IdleTimeout ends the session, however many frames were sent meanwhile; key
// presses keep it open. Time is the fake clock's: the limit is reached when the test moves
// it, whatever the machine's speed.
func TestIdleTimeout(t *testing.T) {
	const limit = 15 * time.Minute
	var clk *fakeClock
	keys := make(chan string, 100)
	ts := startServer(t, func(c *Config, _ string) {
		clk = newFakeClock(t, c)
		c.IdleTimeout, c.MaxSessionTime, c.MaxPerKey = limit, 3*time.Hour, 5
		c.hooks.key = func(user string, _ tea.KeyMsg) { keys <- user }
	})
	idle := openTerm(t, ts.login("idle", nil), 90, 28)
	busy := openTerm(t, ts.login("busy", nil), 90, 28)
	idle.waitFor("running")
	busy.waitFor("running")
	clk.advance(limit - 30*time.Second)
	idle.waitFor("this session closes in 30s") // warned a minute (at most) before
	busy.send("?")                             // toggles the help: a real key
	waitKey(t, keys, "busy")
	framesBefore := idle.frames() // the idle session keeps receiving frames
	eventually(t, "no frames while idle: the test would not show that redraws do not count", func() bool {
		return idle.frames() > framesBefore+2
	})
	clk.advance(time.Minute) // idle: 15m30s without a key; busy: a minute
	idle.waitExit()
	if !strings.Contains(idle.text(), "no key pressed for 15m0s") {
		t.Errorf("the idle session was not told why: %q", tail(idle.text(), 300))
	}
	if n := strings.Count(ts.logs.String(), "limit hit: idle timeout"); n != 1 {
		t.Errorf("%d idle timeouts logged, want 1 (the idle session's)", n)
	}
	select {
	case err := <-busy.exited:
		t.Fatalf("a session with key presses was closed: %v", err)
	default:
	}
}

// waitKey waits (under the hang guard) until the server has handled a key of user.
func waitKey(t *testing.T, keys <-chan string, user string) {
	t.Helper()
	guard := time.After(hangGuard)
	for {
		select {
		case u := <-keys:
			if u == user {
				return
			}
		case <-guard:
			t.Fatalf("%s's key did not arrive in %v", user, hangGuard)
		}
	}
}

// A session ends at MaxSessionTime, with a warning before (fake clock).
func TestMaxSessionTime(t *testing.T) {
	var clk *fakeClock
	ts := startServer(t, func(c *Config, _ string) {
		clk = newFakeClock(t, c)
		c.IdleTimeout, c.MaxSessionTime = 10*time.Hour, 3*time.Hour
	})
	tm := openTerm(t, ts.login("alice", nil), 90, 28)
	tm.waitFor("running")
	clk.advance(3*time.Hour - 4*time.Minute)
	tm.waitFor("time limit in 4m0s")
	clk.advance(4 * time.Minute)
	tm.waitExit()
	if !strings.Contains(tm.text(), "reached its time limit (3h0m0s)") {
		t.Errorf("not told why: %q", tail(tm.text(), 300))
	}
}

// stallingConn stops reading from the network when its gate closes (a client that stops
// reading: its TCP window closes, and so does its SSH window).
type stallingConn struct {
	net.Conn
	*gate
}

func (c *stallingConn) Read(b []byte) (int, error) {
	c.pass()
	return c.Conn.Read(b)
}

// stalledOnly is the session output timeout of tests with a client that stops reading: 500
// ms for the user "slow", the hang guard (WriteTimeout of testConfig) for the others.
func stalledOnly(user string) time.Duration {
	if user == "slow" {
		return 500 * time.Millisecond
	}
	return 0
}

// smallBuffersFirst shrinks the socket buffers of the first connection (the stalling
// client's), so that its stall shows at once; the healthy ones keep the system's.
func smallBuffersFirst() func(net.Conn) {
	var once sync.Once
	return func(nc net.Conn) {
		once.Do(func() {
			if tc, ok := nc.(*net.TCPConn); ok {
				tc.SetWriteBuffer(4096)
			}
		})
	}
}

// gate holds back whoever passes it while it is closed, until it opens for good.
type gate struct {
	mu     sync.Mutex
	closed bool
	opened chan struct{}
	once   sync.Once
}

func newGate() *gate { return &gate{opened: make(chan struct{})} }

// close makes pass wait.
func (g *gate) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

// open lets everyone through, waiting or to come.
func (g *gate) open() { g.once.Do(func() { close(g.opened) }) }

func (g *gate) pass() {
	g.mu.Lock()
	closed := g.closed
	g.mu.Unlock()
	if closed {
		<-g.opened
	}
}

// A client that stops reading is cut off after WriteTimeout and never slows the others.
// Its timeout is short; the healthy session's, and every connection's, stay the hang guard
// (testConfig), so a slow machine cannot cut off the session that keeps reading.
func TestSlowClientCutOff(t *testing.T) {
	ts := startServer(t, func(c *Config, _ string) {
		c.MaxPerKey = 5
		c.hooks.writeTimeout = stalledOnly
		c.hooks.conn = smallBuffersFirst()
	})
	nc, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	nc.(*net.TCPConn).SetReadBuffer(4096)
	sc := &stallingConn{Conn: nc, gate: newGate()}
	defer sc.open()
	cc, chans, reqs, err := gossh.NewClientConn(sc, ts.addr, &gossh.ClientConfig{
		User: "slow", Auth: []gossh.AuthMethod{gossh.PublicKeys(ts.user)}, HostKeyCallback: gossh.FixedHostKey(ts.hostKey)})
	if err != nil {
		t.Fatal(err)
	}
	slow := openTerm(t, gossh.NewClient(cc, chans, reqs), 200, 60)
	slow.waitFor("running")

	other := openTerm(t, ts.login("alice", nil), 90, 28)
	other.waitFor("running")

	sc.close()
	eventually(t, "the stalled client was not cut off", func() bool {
		return strings.Contains(ts.logs.String(), "write timeout")
	})
	slowEnded := regexp.MustCompile(`session end .*user=slow`)
	eventually(t, "the stalled session did not end", func() bool {
		return slowEnded.MatchString(ts.logs.String())
	})
	// The other session kept receiving frames all along.
	n := other.frames()
	eventually(t, "the other session stopped receiving frames", func() bool { return other.frames() > n+3 })
}

var cursorMoves = regexp.MustCompile(`\x1b\[[0-9;]*[ABCDEFGHf]|\r|\n`)

// A client's window size is capped: frames cost in proportion to their area.
func TestWindowSizeCapped(t *testing.T) {
	ts := startServer(t, nil)
	tm := openTerm(t, ts.login("alice", nil), 1000, 400)
	tm.waitFor("running")
	// Split where the renderer moves the cursor (it skips unchanged lines by moving down).
	widest := 0
	for _, l := range cursorMoves.Split(tm.out.String(), -1) {
		widest = max(widest, ansi.StringWidth(strings.TrimRight(ansi.Strip(l), " ")))
	}
	if widest > maxWidth {
		t.Errorf("a line %d cells wide, want ≤ %d", widest, maxWidth)
	}
}

// A student watching a classroom is not idle while the class shows life (issue 25, item 6),
// but nobody stays without someone pressing keys. With controllers: a watcher who presses
// nothing stays while the engine trains, and while a controller presses keys with the engine
// paused; a teacher who starts training and walks away is closed as idle (the engine trains
// because sessions are connected: its progress is not the teacher's life), and the students
// after the engine stops. Without controllers (everyone watches, the engine trains while
// anyone does): anyone's key keeps the class, and the engine's progress keeps nobody. Time
// is the fake clock's; the engine's progress at a moment of it is waited for as an event.
func TestIdleTimeoutWatchers(t *testing.T) {
	const limit = 15 * time.Minute
	const why = "no key pressed for 15m0s"
	setup := func(t *testing.T, controller gossh.Signer) (*testServer, *fakeClock, chan string) {
		var clk *fakeClock
		keys := make(chan string, 100)
		ts := startServer(t, func(c *Config, dir string) {
			clk = newFakeClock(t, c)
			c.Classroom, c.IdleTimeout, c.MaxSessionTime = true, limit, 10*time.Hour
			if controller != nil {
				c.ControllersPath = dir + "/controllers"
				writeKeys(t, c.ControllersPath, controller.PublicKey())
			}
			c.hooks.key = func(user string, _ tea.KeyMsg) { keys <- user }
		})
		return ts, clk, keys
	}
	// trained waits until the engine has made progress at the clock's present.
	trained := func(t *testing.T, ts *testServer, clk *fakeClock) {
		t.Helper()
		eventually(t, "the engine made no progress", func() bool {
			return !ts.srv.class.lastProgress().Before(clk.Now())
		})
	}
	alive := func(t *testing.T, tm *term, what string) {
		t.Helper()
		select {
		case err := <-tm.exited:
			t.Fatalf("%s was closed: %v\n%s", what, err, tail(tm.text(), 300))
		default:
		}
	}
	closedIdle := func(t *testing.T, tm *term, who string) {
		t.Helper()
		tm.waitExit()
		if !strings.Contains(tm.text(), why) {
			t.Errorf("%s was not told why: %q", who, tail(tm.text(), 300))
		}
	}

	t.Run("teacher starts training and walks away", func(t *testing.T) {
		teacher := newKey(t)
		ts, clk, keys := setup(t, teacher)
		tc := openTerm(t, ts.login("teacher", teacher), 100, 30)
		tc.waitFor("paused")
		student := openTerm(t, ts.login("student", nil), 100, 30)
		student.waitFor("read-only session")
		tc.send(" ") // train
		waitKey(t, keys, "teacher")
		tc.waitFor("running")
		clk.advance(limit - 30*time.Second)
		trained(t, ts, clk)
		clk.advance(time.Minute) // the teacher: 15m30s without a key; the engine trained 1m ago
		closedIdle(t, tc, "the teacher who walked away")
		if n := strings.Count(ts.logs.String(), "limit hit: idle timeout"); n != 1 {
			t.Errorf("%d idle timeouts logged, want 1 (the teacher's)", n)
		}
		alive(t, student, "the student watching the training")
		student.waitForNew("waiting for the teacher") // the engine is held
		clk.advance(limit)
		closedIdle(t, student, "the student of a held class")
	})
	t.Run("teacher types, engine paused", func(t *testing.T) {
		teacher := newKey(t)
		ts, clk, keys := setup(t, teacher)
		tc := openTerm(t, ts.login("teacher", teacher), 100, 30)
		tc.waitFor("paused") // paused at step 0: the engine shows no life
		student := openTerm(t, ts.login("student", nil), 100, 30)
		student.waitFor("read-only session")
		clk.advance(14 * time.Minute)
		tc.send("?") // the help
		waitKey(t, keys, "teacher")
		clk.advance(2 * time.Minute) // the student: 16m without a key of its own
		alive(t, student, "the student watching the teacher type")
		alive(t, tc, "the typing teacher")
		clk.advance(14 * time.Minute) // nobody typed for 16m, and the engine is paused
		closedIdle(t, student, "the idle student")
		closedIdle(t, tc, "the idle teacher")
	})
	t.Run("open classroom", func(t *testing.T) {
		ts, clk, keys := setup(t, nil)
		amy := openTerm(t, ts.login("amy", nil), 100, 30)
		ben := openTerm(t, ts.login("ben", nil), 100, 30)
		amy.waitFor("read-only session")
		ben.waitFor("read-only session")
		clk.advance(14 * time.Minute)
		amy.send("?")
		waitKey(t, keys, "amy")
		clk.advance(2 * time.Minute) // ben: 16m without a key of his own, amy's 2m ago
		alive(t, ben, "a watcher of a class where someone types")
		alive(t, amy, "the typing watcher")
		trained(t, ts, clk)           // the engine trains at 16m …
		clk.advance(14 * time.Minute) // … and 14m later, 16m after the last key, both go
		closedIdle(t, amy, "amy")
		closedIdle(t, ben, "ben")
	})
}
