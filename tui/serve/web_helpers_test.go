package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/coder/websocket"

	"sharpflat/lab"
	"sharpflat/lab/train"
)

// Fixtures of the web door: a server whose web door listens on 127.0.0.1:0, a tokens file,
// and a Go WebSocket client that speaks the page's protocol (webpeer.go) and collects the
// frames as a terminal would receive them.

// testToken is the token of a name in the tests' tokens files.
func testToken(name string) string { return "test-token-for-" + name + "-0123456789" }

// withWeb turns the web door on with a tokens file giving each name its role (SSH stays
// on unless noSSH).
func withWeb(c *Config, dir string, t testing.TB, noSSH bool, who map[string]role) {
	c.WebAddr = "127.0.0.1:0"
	c.WebTokensPath = filepath.Join(dir, "tokens")
	if noSSH {
		c.Addr = ""
	}
	writeTokens(t, c.WebTokensPath, who)
}

func writeTokens(t testing.TB, path string, who map[string]role) {
	t.Helper()
	lines := []string{"# test tokens"}
	for name, r := range who {
		lines = append(lines, fmt.Sprintf("%s %s %s", testToken(name), name, r))
	}
	writeLines(t, path, lines...)
}

// startWeb serves the web door on a loopback listener of its own.
func (ts *testServer) startWeb() {
	ts.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.webAddr = ln.Addr().String()
	go func() { ts.done <- ts.srv.ServeWeb(ln) }()
}

// dialWS opens the WebSocket with the page's Origin (unless hdr says otherwise).
func (ts *testServer) dialWS(hdr http.Header) (*websocket.Conn, *http.Response, error) {
	if hdr == nil {
		hdr = http.Header{"Origin": {"http://" + ts.webAddr}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	return websocket.Dial(ctx, "ws://"+ts.webAddr+"/ws", &websocket.DialOptions{HTTPHeader: hdr})
}

// webTerm is a browser's terminal as the tests see it: the frames it drew, the server's
// text messages, and how the connection closed.
type webTerm struct {
	t      testing.TB
	c      *websocket.Conn
	out    *syncBuffer // frames
	msgs   *syncBuffer // the server's JSON messages, one a line
	closed chan websocket.StatusCode
}

// openWeb joins with token as a w×h terminal.
func (ts *testServer) openWeb(token string, w, h int) *webTerm {
	ts.t.Helper()
	c, _, err := ts.dialWS(nil)
	if err != nil {
		ts.t.Fatalf("dial the web door: %v", err)
	}
	wt := &webTerm{t: ts.t, c: c, out: &syncBuffer{}, msgs: &syncBuffer{}, closed: make(chan websocket.StatusCode, 1)}
	c.SetReadLimit(16 << 20)
	wt.write(webMsg{Type: "hello", Token: token, Cols: w, Rows: h})
	go wt.read()
	ts.t.Cleanup(func() { c.CloseNow() })
	return wt
}

// openWebAs joins as name (a token of the tests' tokens file).
func (ts *testServer) openWebAs(name string, w, h int) *webTerm {
	return ts.openWeb(testToken(name), w, h)
}

func (wt *webTerm) read() {
	for {
		typ, b, err := wt.c.Read(context.Background())
		if err != nil {
			wt.closed <- websocket.CloseStatus(err)
			return
		}
		if typ == websocket.MessageBinary {
			wt.out.Write(b)
			continue
		}
		var m webMsg
		_ = json.Unmarshal(b, &m)
		wt.msgs.Write([]byte(m.Type + ": " + m.Message + m.Role + "\n"))
	}
}

func (wt *webTerm) write(m webMsg) {
	wt.t.Helper()
	b, _ := json.Marshal(m)
	if err := wt.c.Write(context.Background(), websocket.MessageText, b); err != nil {
		wt.t.Fatalf("write %s: %v", b, err)
	}
}

func (wt *webTerm) send(s string)       { wt.write(webMsg{Type: "keys", Data: s}) }
func (wt *webTerm) resize(w, h int)     { wt.write(webMsg{Type: "size", Cols: w, Rows: h}) }
func (wt *webTerm) text() string        { return ansi.Strip(wt.out.String()) + wt.msgs.String() }
func (wt *webTerm) frames() int         { return strings.Count(wt.out.String(), "\x1b[H") }
func (wt *webTerm) close()              { wt.c.Close(websocket.StatusNormalClosure, "bye") }
func (wt *webTerm) waitFor(s string)    { wt.t.Helper(); waitText(wt.t, wt, s) }
func (wt *webTerm) waitForNew(s string) { wt.t.Helper(); waitNewText(wt.t, wt.out, wt.text, s) }

// waitClosed waits for the server to close the connection and returns the close status
// (-1 without one).
func (wt *webTerm) waitClosed() websocket.StatusCode {
	wt.t.Helper()
	select {
	case code := <-wt.closed:
		return code
	case <-time.After(hangGuard):
		wt.t.Fatalf("still open after %v; got:\n%s", hangGuard, tail(wt.text(), 1500))
		return 0
	}
}

// labClient is a client of either door, as the scenarios shared by both see it.
type labClient interface {
	send(s string)
	text() string
	frames() int
	close()
	waitFor(s string)
	waitForNew(s string)
}

var (
	_ labClient = (*term)(nil)
	_ labClient = (*webTerm)(nil)
)

// waitText waits until c's text contains s, polling under the hang guard.
func waitText(t testing.TB, c labClient, s string) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for !strings.Contains(c.text(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %q; got:\n%s", hangGuard, s, tail(c.text(), 1500))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitNewText waits until what arrives in out after the call contains s.
func waitNewText(t testing.TB, out *syncBuffer, text func() string, s string) {
	t.Helper()
	wrote := out.changes()
	from := len(out.String())
	guard := time.After(hangGuard)
	for !strings.Contains(ansi.Strip(out.String()[from:]), s) {
		select {
		case <-wrote:
		case <-guard:
			t.Fatalf("waited %v for new %q; got:\n%s", hangGuard, s, tail(text(), 1500))
		}
	}
}

// door is one front door in the scenarios run through both: how a named client joins.
type door struct {
	name string
	// setup turns the door on for the names given (web: a tokens file; ssh: nothing, every
	// name logs in with ts.user's key).
	setup func(c *Config, dir string, t testing.TB, names ...string)
	open  func(ts *testServer, name string, w, h int) labClient
}

var bothDoors = []door{
	{
		name:  "ssh",
		setup: func(*Config, string, testing.TB, ...string) {},
		open: func(ts *testServer, name string, w, h int) labClient {
			return openTerm(ts.t, ts.login(name, nil), w, h)
		},
	},
	{
		name: "web",
		setup: func(c *Config, dir string, t testing.TB, names ...string) {
			who := map[string]role{}
			for _, n := range names {
				who[n] = roleController
			}
			withWeb(c, dir, t, true, who)
		},
		open: func(ts *testServer, name string, w, h int) labClient {
			return ts.openWebAs(name, w, h)
		},
	},
}

// startWebClassroom is a classroom behind the web door alone, with a controller's token
// (teacher) and a watcher's (student), and its engine.
func startWebClassroom(t *testing.T) (*testServer, *lab.Engine) {
	engines := make(chan *lab.Engine, 1)
	ts := startServer(t, func(c *Config, dir string) {
		withWeb(c, dir, t, true, map[string]role{"teacher": roleController, "student": roleWatcher})
		c.Classroom = true
		// A browser on a busy machine may take minutes over these scenarios: the idle
		// timeout must not be what ends them.
		c.IdleTimeout, c.MaxSessionTime = time.Hour, 2*time.Hour
		c.hooks.engineStarted = func(_ string, e *lab.Engine) {
			select {
			case engines <- e:
			default:
			}
		}
	})
	return ts, <-engines // the classroom's, at the start
}

// engineStep is the engine's step count, read on its goroutine (Engine.Step is only safe
// while it does not run); -1 once it has stopped.
func engineStep(e *lab.Engine) int {
	s := -1
	e.Do(func(t *train.Trainer) { s = t.StepCount() })
	return s
}
