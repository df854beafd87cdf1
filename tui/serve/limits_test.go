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

	"sharpflat/lab"
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
// so is an authenticated connection that opens no session. (The login must finish within
// the timeout, 1 s from its accept: a loopback handshake takes milliseconds, under -race and
// beside CPU hogs a few hundred at most.)
func TestHandshakeTimeout(t *testing.T) {
	ts := startServer(t, func(c *Config, _ string) { c.HandshakeTimeout = time.Second })
	nc, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c := ts.login("alice", nil)
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
}

// No key for IdleTimeout ends the session, however many frames were sent meanwhile; key
// presses keep it open.
func TestIdleTimeout(t *testing.T) {
	ts := startServer(t, func(c *Config, _ string) { c.IdleTimeout, c.MaxPerKey = 1500*time.Millisecond, 5 })
	c := ts.login("alice", nil)
	idle := openTerm(t, c, 90, 28)
	busy := openTerm(t, c, 90, 28)
	idle.waitFor("running")
	busy.waitFor("running")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(300 * time.Millisecond):
				io.WriteString(busy.stdin, "?") // toggles the help: a real key
			}
		}
	}()
	defer func() { close(stop); wg.Wait() }()
	framesBefore := idle.frames()
	idle.waitExit()
	if idle.frames() <= framesBefore {
		t.Errorf("no frames while idle: the test did not show that redraws do not count")
	}
	if !strings.Contains(idle.text(), "this session closes in") {
		t.Errorf("the idle session was not warned: %q", tail(idle.text(), 300))
	}
	if !strings.Contains(idle.text(), "no key pressed for 1.5s") {
		t.Errorf("the idle session was not told why: %q", tail(idle.text(), 300))
	}
	select {
	case err := <-busy.exited:
		t.Fatalf("a session with key presses was closed: %v", err)
	default:
	}
}

// A session ends at MaxSessionTime, with a warning before.
func TestMaxSessionTime(t *testing.T) {
	ts := startServer(t, func(c *Config, _ string) { c.MaxSessionTime = 2 * time.Second })
	tm := openTerm(t, ts.login("alice", nil), 90, 28)
	tm.waitFor("time limit in")
	tm.waitExit()
	if !strings.Contains(tm.text(), "reached its time limit") {
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
func TestSlowClientCutOff(t *testing.T) {
	ts := startServer(t, func(c *Config, _ string) {
		c.WriteTimeout, c.MaxPerKey = 500*time.Millisecond, 5
		c.hooks.conn = func(nc net.Conn) { // small socket buffers: the stall shows at once
			if tc, ok := nc.(*net.TCPConn); ok {
				tc.SetWriteBuffer(4096)
			}
		}
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

// A student watching a classroom is not idle while the class shows life (issue 25, item 6):
// with an idle timeout of 1.5 s, a viewer who presses nothing stays while the engine trains,
// and while a controller presses keys with the engine paused; once neither happens it is
// closed as idle. Time passes as the engine's snapshots and the controller's keys arrive
// (events); the checks need no particular speed.
func TestIdleTimeoutWatchers(t *testing.T) {
	const idle = 1500 * time.Millisecond
	t.Run("engine trains", func(t *testing.T) {
		engines := make(chan *lab.Engine, 1)
		ts := startServer(t, func(c *Config, _ string) {
			c.Classroom, c.IdleTimeout = true, idle // no controllers: it trains while anyone watches
			c.hooks.engineStarted = func(_ string, e *lab.Engine) { engines <- e }
		})
		e := <-engines
		sub := e.Subscribe()
		defer sub.Cancel()
		student := openTerm(t, ts.login("student", nil), 100, 30)
		student.waitFor("read-only session")
		// Snapshots of a training engine, until they span two idle timeouts.
		from, steps := time.Now(), 0
		guard := time.After(hangGuard)
		for time.Since(from) < 2*idle {
			select {
			case snap := <-sub.C():
				steps = snap.Step
			case err := <-student.exited:
				t.Fatalf("the watching student was closed while the engine trained (step %d): %v\n%s", steps, err, tail(student.text(), 300))
			case <-guard:
				t.Fatal("no snapshots")
			}
		}
		if strings.Contains(ts.logs.String(), "idle timeout") {
			t.Errorf("an idle timeout while the engine trained:\n%s", ts.logs.String())
		}
	})
	t.Run("controller types", func(t *testing.T) {
		teacher := newKey(t)
		keys := make(chan struct{}, 100)
		ts := startServer(t, func(c *Config, dir string) {
			c.Classroom, c.ControllersPath, c.IdleTimeout = true, dir+"/controllers", idle
			writeKeys(t, c.ControllersPath, teacher.PublicKey())
			c.hooks.key = func(user string, _ tea.KeyMsg) {
				if user == "teacher" {
					keys <- struct{}{}
				}
			}
		})
		tc := openTerm(t, ts.login("teacher", teacher), 100, 30)
		tc.waitFor("paused") // paused at step 0: the engine shows no life
		student := openTerm(t, ts.login("student", nil), 100, 30)
		student.waitFor("read-only session")
		// The teacher presses ? (the help) again and again; each press is seen by the server
		// before the next is sent, until the presses span two idle timeouts.
		from := time.Now()
		for time.Since(from) < 2*idle {
			tc.send("?")
			select {
			case <-keys:
			case err := <-student.exited:
				t.Fatalf("the watching student was closed while the teacher typed: %v\n%s", err, tail(student.text(), 300))
			case <-time.After(hangGuard):
				t.Fatal("the teacher's key did not arrive")
			}
			time.Sleep(idle / 5) // pacing a person's typing, not a wait for the server
		}
		// Nobody types and the engine is paused: now the student is idle.
		student.waitExit()
		if !strings.Contains(student.text(), "no key pressed for 1.5s") {
			t.Errorf("the idle student was not told why: %q", tail(student.text(), 300))
		}
	})
}
