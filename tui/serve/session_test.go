package serve

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"go.uber.org/goleak"
	gossh "golang.org/x/crypto/ssh"

	"sharpflat/lab"
	"sharpflat/lab/lesson"
	"sharpflat/lab/train"
)

// Sessions without a PTY, and commands, are refused with a message and status 1.
func TestNonPTYRefused(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.login("alice", nil)

	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sess.CombinedOutput("") // a shell without a PTY
	if exitStatus(err) != 1 || !strings.Contains(string(out), "needs an interactive terminal") {
		t.Errorf("no PTY: status %d, output %q", exitStatus(err), out)
	}

	sess, _ = c.NewSession()
	out, err = sess.CombinedOutput("cat /etc/passwd")
	if exitStatus(err) != 1 || strings.Contains(string(out), "root:") {
		t.Errorf("exec without PTY: status %d, output %q", exitStatus(err), out)
	}

	sess, _ = c.NewSession()
	if err := sess.RequestPty("xterm", 24, 80, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	out, err = sess.CombinedOutput("cat /etc/passwd")
	if exitStatus(err) != 1 || !strings.Contains(string(out), "runs no commands") {
		t.Errorf("exec with PTY: status %d, output %q", exitStatus(err), out)
	}
}

// Local and remote port forwarding, subsystems (sftp) and X11 are refused.
func TestForwardingRefused(t *testing.T) {
	ts := startServer(t, nil)
	c := ts.login("alice", nil)
	if ln, err := c.Listen("tcp", "127.0.0.1:0"); err == nil {
		ln.Close()
		t.Error("remote port forwarding (tcpip-forward) was accepted")
	}
	if conn, err := c.Dial("tcp", ts.addr); err == nil {
		conn.Close()
		t.Error("local port forwarding (direct-tcpip) was accepted")
	}
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if err := sess.RequestSubsystem("sftp"); err == nil {
		t.Error("the sftp subsystem was accepted")
	}
	sess2, _ := c.NewSession()
	defer sess2.Close()
	if ok, _ := sess2.SendRequest("x11-req", true, gossh.Marshal(struct {
		Single        bool
		Proto, Cookie string
		Screen        uint32
	}{false, "MIT-MAGIC-COOKIE-1", "00", 0})); ok {
		t.Error("X11 forwarding was accepted")
	}
	// The connection still serves the lab.
	openTerm(t, c, 90, 28).waitFor("running")
}

// Closing the connection stops the session's engine, and every goroutine the session
// started returns. (How soon the engine stops is measured by BenchmarkKFlood, not asserted:
// on a busy machine it is a speed.)
func TestDisconnectStopsEngine(t *testing.T) {
	engines := make(chan *lab.Engine, 1)
	keys := make(chan struct{}, 1)
	ts := startServer(t, func(c *Config, _ string) {
		c.hooks.engineStarted = func(_ string, e *lab.Engine) { engines <- e }
		c.hooks.key = func(string, tea.KeyMsg) {
			select {
			case keys <- struct{}{}:
			default:
			}
		}
	})
	baseline := ts.goroutineBaseline(t)

	c, err := ts.dial("alice", gossh.PublicKeys(ts.user))
	if err != nil {
		t.Fatal(err)
	}
	tm := openTerm(t, c, 100, 30)
	tm.waitFor("running")
	e := <-engines
	tm.send("?") // a key, and a status line: the session's timers are in flight too
	select {
	case <-keys:
	case <-time.After(hangGuard):
		t.Fatal("the key did not reach the session")
	}

	c.Close()
	start := time.Now()
	select {
	case <-e.Done():
		t.Logf("engine stopped %v after the disconnect", time.Since(start).Round(time.Millisecond))
	case <-time.After(hangGuard):
		t.Fatalf("the engine still runs %v after the disconnect", hangGuard)
	}
	eventually(t, "the session did not end", func() bool {
		return strings.Contains(ts.logs.String(), "session end")
	})
	if err := settleGoroutines(baseline); err != nil {
		t.Fatal(err)
	}
}

// settleGoroutines waits until no goroutine beyond the baseline is left (or the hang guard
// passes: then it returns what is left).
// The helpers of internal/team, which run the chunks of the engine's passes, are started on
// the first pass and live as long as the process, by design: they are not a session's.
func settleGoroutines(opts ...goleak.Option) error {
	opts = append(opts, goleak.IgnoreAnyFunction("sharpflat/internal/team.help"))
	deadline := time.Now().Add(hangGuard)
	for {
		err := goleak.Find(opts...)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A panic in one session's UI or engine ends that session with a message; the server and
// the other sessions go on.
func TestPanicContained(t *testing.T) {
	ts := startServer(t, func(c *Config, _ string) {
		c.MaxPerKey = 5
		c.hooks.key = func(user string, k tea.KeyMsg) {
			if user == "ui-crash" && k.String() == "!" {
				panic("injected UI panic")
			}
		}
		c.hooks.engineStarted = func(user string, e *lab.Engine) {
			if user == "engine-crash" { // at its first step boundary
				go e.Do(func(*train.Trainer) { panic("injected engine panic") })
			}
		}
	})
	bystander := openTerm(t, ts.login("alice", nil), 90, 28)
	bystander.waitFor("running")

	ui := openTerm(t, ts.login("ui-crash", nil), 90, 28)
	ui.waitFor("running")
	ui.send("!")
	ui.waitExit()
	if !strings.Contains(ui.text(), "internal error") {
		t.Errorf("the UI-panic session was not told: %q", tail(ui.text(), 300))
	}

	eng := openTerm(t, ts.login("engine-crash", nil), 90, 28)
	eng.waitExit()
	if !strings.Contains(eng.text(), "internal error (engine)") {
		t.Errorf("the engine-panic session was not told: %q", tail(eng.text(), 300))
	}
	for _, what := range []string{"injected UI panic", "injected engine panic"} {
		if !strings.Contains(ts.logs.String(), what) {
			t.Errorf("%q is not in the log", what)
		}
	}

	n := bystander.frames()
	eventually(t, "the other session stopped receiving frames", func() bool { return bystander.frames() > n+3 })
	openTerm(t, ts.login("alice", nil), 90, 28).waitFor("running")
}

// Shutdown tells every session the server is stopping, then closes them (by the deadline at
// the latest: a slow machine may reach it, and then Shutdown says so) and stops their
// engines.
func TestShutdownDrains(t *testing.T) {
	var mu sync.Mutex
	var engines []*lab.Engine
	ts := startServer(t, func(c *Config, _ string) {
		c.MaxPerKey = 5
		c.hooks.engineStarted = func(_ string, e *lab.Engine) { mu.Lock(); engines = append(engines, e); mu.Unlock() }
		c.hooks.stopNotice = 500 * time.Millisecond
	})
	c := ts.login("alice", nil)
	terms := []*term{openTerm(t, c, 90, 28), openTerm(t, c, 90, 28)}
	for _, tm := range terms {
		tm.waitFor("running")
	}
	// A notice of 0.5 s, and no deadline but the hang guard: the sessions end by the notice
	// (the event Shutdown waits on), however slow the machine.
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	for i, tm := range terms {
		tm.waitExit()
		for _, want := range []string{"The server is stopping: this session ends in", "session ended: the server is stopping"} {
			if !strings.Contains(tm.text(), want) {
				t.Errorf("session %d was not told %q", i, want)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for i, e := range engines {
		select {
		case <-e.Done():
		default:
			t.Errorf("engine %d still runs after Shutdown", i)
		}
	}
	if _, err := ts.dial("alice", gossh.PublicKeys(ts.user)); err == nil {
		t.Error("a connection was accepted after Shutdown")
	}
}

// In a classroom the controllers steer the one engine and everyone sees it; the others
// watch read-only and their steering keys are refused with a message.
func TestClassroomControllersAndViewers(t *testing.T) {
	teacher := newKey(t)
	var engines []*lab.Engine
	ts := startServer(t, func(c *Config, dir string) {
		c.Classroom, c.ControllersPath = true, dir+"/controllers"
		writeKeys(t, c.ControllersPath, teacher.PublicKey())
		c.hooks.engineStarted = func(_ string, e *lab.Engine) { engines = append(engines, e) }
	})
	writeKeys(t, ts.cfg.AuthorizedKeysPath, ts.user.PublicKey(), teacher.PublicKey())
	// Before the teacher: the class waits at step 0, held.
	sc := openTerm(t, ts.login("student", nil), 100, 30)
	sc.waitFor("waiting for the teacher")
	if !strings.Contains(sc.text(), "step 0") {
		t.Errorf("the class does not wait at step 0:\n%s", sc.text())
	}
	// The teacher arrives: paused at step 0 until space, and sees one student watching.
	tc := openTerm(t, ts.login("teacher", teacher), 100, 30)
	tc.waitFor("1 watching")
	tc.waitFor("paused")
	sc.waitFor("paused")
	if strings.Contains(tc.text(), "read-only session") {
		t.Error("the controller's footer says read-only")
	}
	tc.send(" ")
	tc.waitFor("running")
	sc.waitFor("running") // the student sees the same engine
	sc.send(" ")
	sc.waitFor("steering keys are disabled")
	// The teacher leaves: the class is held again.
	tc.close()
	sc.waitForNew("waiting for the teacher")
	if len(engines) != 1 {
		t.Errorf("%d engines started, want the one classroom engine", len(engines))
	}
}

// A classroom plays a lesson: the controller steps it, every viewer sees the same step and
// caption.
func TestClassroomLesson(t *testing.T) {
	teacher := newKey(t)
	ts := startServer(t, func(c *Config, dir string) {
		c.Classroom, c.ControllersPath = true, dir+"/controllers"
		writeKeys(t, c.ControllersPath, teacher.PublicKey())
		c.Lesson = &lesson.Lesson{Name: "two", Title: "Two steps", Preset: "moons", Steps: []lesson.Step{
			{Title: "First", Caption: "The first caption."},
			{Title: "Second", Caption: "The second caption.", Until: lesson.Until{Steps: 5}},
		}}
		var err error
		if c.Lab, err = lab.LessonConfig(c.Lesson); err != nil {
			t.Fatal(err)
		}
	})
	students := []*term{openTerm(t, ts.login("s1", nil), 100, 30), openTerm(t, ts.login("s2", nil), 100, 30)}
	tc := openTerm(t, ts.login("teacher", teacher), 100, 30)
	tc.waitFor("2 watching")
	for _, s := range append(students, tc) {
		s.waitFor("The first caption.")
	}
	students[0].send("\x1b[C") // → from a viewer: refused
	students[0].waitFor("steering keys are disabled")
	tc.send("\x1b[C") // →: the next step, which trains 5 steps and waits
	for _, s := range append(students, tc) {
		s.waitFor("The second caption.")
		s.waitFor("✓ 5 steps")
	}
}

// Ctrl-Z reaches the session as a key and is ignored: the session (and the test binary,
// which would be stopped by a SIGTSTP to the process group) goes on.
func TestCtrlZIgnored(t *testing.T) {
	ts := startServer(t, nil)
	tm := openTerm(t, ts.login("alice", nil), 90, 28)
	tm.waitFor("running")
	tm.send("\x1a")
	n := tm.frames()
	eventually(t, "no frames after Ctrl-Z", func() bool { return tm.frames() > n+3 })
	if filterMsg(nil, tea.SuspendMsg{}) != nil {
		t.Error("SuspendMsg passes the filter: a session could stop the server")
	}
	if filterMsg(nil, tea.ExecProcess(nil, nil)()) != nil {
		t.Error("exec passes the filter")
	}
	if filterMsg(nil, tea.KeyMsg{}) == nil {
		t.Error("the filter drops keys")
	}
}

// A crash of the classroom's engine rebuilds it; the sessions move to the new engine and
// are told.
func TestClassroomEngineRebuilt(t *testing.T) {
	var mu sync.Mutex
	var engines []*lab.Engine
	first := make(chan *lab.Engine, 1)
	ts := startServer(t, func(c *Config, _ string) {
		c.Classroom = true
		c.hooks.engineStarted = func(_ string, e *lab.Engine) {
			mu.Lock()
			defer mu.Unlock()
			engines = append(engines, e)
			if len(engines) == 1 {
				first <- e
			}
		}
	})
	tm := openTerm(t, ts.login("student", nil), 100, 30)
	tm.waitFor("read-only session")
	go (<-first).Do(func(*train.Trainer) { panic("injected classroom panic") }) // the student watches it
	tm.waitFor("the shared lab restarted")
	mu.Lock()
	n := len(engines)
	mu.Unlock()
	if n != 2 {
		t.Fatalf("%d engines, want 2 (the first crashed)", n)
	}
	frames := tm.frames()
	eventually(t, "no frames from the rebuilt engine", func() bool { return tm.frames() > frames+3 })
}

// answeringTerminal answers the server's background-colour and device-attribute queries
// like a light-background xterm.
type answeringTerminal struct {
	*syncBuffer
	stdin interface{ Write([]byte) (int, error) }
	once  sync.Once
}

func (a *answeringTerminal) Write(p []byte) (int, error) {
	if strings.Contains(string(p), "\x1b]11;?") {
		a.once.Do(func() { go a.stdin.Write([]byte("\x1b]11;rgb:ffff/ffff/fafa\x07\x1b[?62;22c")) })
	}
	return a.syncBuffer.Write(p)
}

// The session's renderer learns the client's background from the client's terminal.
func TestSessionRendererAsksTheTerminal(t *testing.T) {
	ts := startServer(t, func(c *Config, _ string) { c.hooks.bgTimeout = hangGuard }) // the terminal answers
	c := ts.login("alice", nil)
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if err := sess.RequestPty("xterm-256color", 30, 100, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	stdin, _ := sess.StdinPipe()
	out := &answeringTerminal{syncBuffer: &syncBuffer{}, stdin: stdin}
	sess.Stdout = out
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "no session start in the log", func() bool {
		return strings.Contains(ts.logs.String(), "session start")
	})
	if logs := ts.logs.String(); !strings.Contains(logs, "dark=false bg_known=true") {
		t.Errorf("the light background was not learned:\n%s", logs)
	}
}
