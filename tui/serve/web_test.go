package serve

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/coder/websocket"

	"sharpflat/lab"
	"sharpflat/lab/train"
)

// The SSH suites' scenarios through both doors (the same session core behind each), and
// what only the web door has: tokens, its protocol's bad input, its headers.

// TestDoorsDisconnectStopsEngine: a client that leaves stops its engine, through either
// door (session_test.go's TestDisconnectStopsEngine).
func TestDoorsDisconnectStopsEngine(t *testing.T) {
	for _, d := range bothDoors {
		t.Run(d.name, func(t *testing.T) {
			engines := make(chan *lab.Engine, 1)
			ts := startServer(t, func(c *Config, dir string) {
				d.setup(c, dir, t, "alice")
				c.hooks.engineStarted = func(_ string, e *lab.Engine) { engines <- e }
			})
			tm := d.open(ts, "alice", 100, 30)
			tm.waitFor("running")
			e := <-engines
			tm.close()
			select {
			case <-e.Done():
			case <-time.After(hangGuard):
				t.Fatalf("the engine still runs %v after the disconnect", hangGuard)
			}
			eventually(t, "the session did not end", func() bool {
				return strings.Contains(ts.logs.String(), "session end")
			})
		})
	}
}

// TestDoorsPanicContained: a panic in one session's UI or engine ends that session only
// (TestPanicContained).
func TestDoorsPanicContained(t *testing.T) {
	for _, d := range bothDoors {
		t.Run(d.name, func(t *testing.T) {
			ts := startServer(t, func(c *Config, dir string) {
				d.setup(c, dir, t, "alice", "ui-crash", "engine-crash")
				c.MaxPerKey = 5
				c.hooks.key = func(user string, k tea.KeyMsg) {
					if user == "ui-crash" && k.String() == "!" {
						panic("injected UI panic")
					}
				}
				c.hooks.engineStarted = func(user string, e *lab.Engine) {
					if user == "engine-crash" {
						go e.Do(func(*train.Trainer) { panic("injected engine panic") })
					}
				}
			})
			bystander := d.open(ts, "alice", 90, 28)
			bystander.waitFor("running")
			ui := d.open(ts, "ui-crash", 90, 28)
			ui.waitFor("running")
			ui.send("!")
			ui.waitFor("internal error")
			eng := d.open(ts, "engine-crash", 90, 28)
			eng.waitFor("internal error (engine)")
			n := bystander.frames()
			eventually(t, "the other session stopped receiving frames", func() bool { return bystander.frames() > n+3 })
		})
	}
}

// TestDoorsKeyFlood: a flood of keys is cut, and the q after it still ends the session
// (flood_test.go's TestKFloodOverSSH).
func TestDoorsKeyFlood(t *testing.T) {
	for _, d := range bothDoors {
		t.Run(d.name, func(t *testing.T) {
			ts := startServer(t, func(c *Config, dir string) { d.setup(c, dir, t, "alice") })
			tm := d.open(ts, "alice", 100, 30)
			tm.waitFor("running")
			tm.send(strings.Repeat("?", 5000))
			tm.send("q")
			tm.waitFor("session ended: you left")
		})
	}
}

// TestDoorsShareTheCaps: the session caps count both doors' sessions together.
func TestDoorsShareTheCaps(t *testing.T) {
	ts := startServer(t, func(c *Config, dir string) {
		withWeb(c, dir, t, false, map[string]role{"bob": roleController})
		c.MaxSessions = 1
	})
	ssh := openTerm(t, ts.login("alice", nil), 90, 28)
	ssh.waitFor("running")
	web := ts.openWebAs("bob", 90, 28)
	if code := web.waitClosed(); code != websocket.StatusTryAgainLater {
		t.Errorf("closed with %v, want %v", code, websocket.StatusTryAgainLater)
	}
	if !strings.Contains(web.text(), "the server is full") {
		t.Errorf("the web client was not told: %q", web.text())
	}
	ssh.close()
	eventually(t, "the SSH session did not end", func() bool { return strings.Contains(ts.logs.String(), "session end") })
	ts.openWebAs("bob", 90, 28).waitFor("running")
}

// TestWebClassroom: a controller's token steers, a watcher's watches: space in the
// controller starts training that the watcher sees, keys in the watcher change nothing,
// and the engine is held again once the controller has gone.
func TestWebClassroom(t *testing.T) {
	ts, e := startWebClassroom(t)
	watcher := ts.openWebAs("student", 100, 30)
	watcher.waitFor("waiting for the teacher")
	ctl := ts.openWebAs("teacher", 100, 30)
	ctl.waitFor("1 watching")
	ctl.waitFor("paused")
	watcher.waitFor("paused")
	watcher.send(" ") // a watcher's keys change nothing
	watcher.waitFor("steering keys are disabled")
	if s := engineStep(e); s != 0 {
		t.Fatalf("the engine stepped (%d) before the controller pressed space", s)
	}
	ctl.send(" ")
	ctl.waitFor("running")
	watcher.waitFor("running") // the same engine
	eventually(t, "the engine did not train", func() bool { return engineStep(e) > 0 })
	ctl.close()
	watcher.waitForNew("waiting for the teacher")
}

// TestWebBadInput: every bad client gets a clear message and a close code, and the log a
// line without a stack.
func TestWebBadInput(t *testing.T) {
	ts := startServer(t, func(c *Config, dir string) {
		withWeb(c, dir, t, true, map[string]role{"alice": roleWatcher})
		c.HandshakeTimeout = 2 * time.Second // the hello's deadline, for the client that sends none
	})
	raw := func() *webTerm {
		c, _, err := ts.dialWS(nil)
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadLimit(16 << 20)
		wt := &webTerm{t: t, c: c, out: &syncBuffer{}, msgs: &syncBuffer{}, closed: make(chan websocket.StatusCode, 1)}
		go wt.read()
		t.Cleanup(func() { c.CloseNow() })
		return wt
	}
	cases := []struct {
		name string
		send func(wt *webTerm)
		code websocket.StatusCode
		says string
	}{
		{"wrong token", func(wt *webTerm) { wt.write(webMsg{Type: "hello", Token: "not-the-right-token-at-all"}) }, websocket.StatusPolicyViolation, "wrong or expired token"},
		{"binary", func(wt *webTerm) { wt.c.Write(context.Background(), websocket.MessageBinary, []byte{0, 1, 2, 0xff}) }, websocket.StatusUnsupportedData, "binary message"},
		{"garbage", func(wt *webTerm) {
			wt.c.Write(context.Background(), websocket.MessageText, []byte("\x1b]52;c;AAAA\x07{{{"))
		}, websocket.StatusPolicyViolation, "not the protocol's JSON"},
		{"keys first", func(wt *webTerm) { wt.send("q") }, websocket.StatusPolicyViolation, "must be the hello"},
		{"too large", func(wt *webTerm) {
			wt.c.Write(context.Background(), websocket.MessageText, []byte(`{"type":"hello","token":"`+strings.Repeat("a", maxWebMessage)+`"}`))
		}, websocket.StatusMessageTooBig, ""},
		{"silent", func(*webTerm) {}, websocket.StatusPolicyViolation, "no hello in time"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wt := raw()
			c.send(wt)
			if code := wt.waitClosed(); code != c.code {
				t.Errorf("closed with %v, want %v", code, c.code)
			}
			if !strings.Contains(wt.text(), c.says) {
				t.Errorf("told %q, want %q", wt.text(), c.says)
			}
		})
	}
	// A bad message in a running session ends it, with a message.
	wt := ts.openWebAs("alice", 90, 28)
	wt.waitFor("running")
	wt.c.Write(context.Background(), websocket.MessageBinary, []byte("\xff\xfe"))
	if code := wt.waitClosed(); code != websocket.StatusUnsupportedData {
		t.Errorf("a binary message in a session: closed with %v", code)
	}
	if strings.Contains(ts.logs.String(), "goroutine ") {
		t.Errorf("a stack in the log:\n%s", ts.logs.String())
	}
}

// TestWebWrongTokensLimited: after maxJoinFails wrong tokens an address's further wrong
// tokens are refused as too many, but a right token from it is still admitted (a class
// behind one NAT is not locked out by one pupil's wrong link).
func TestWebWrongTokensLimited(t *testing.T) {
	ts := startServer(t, func(c *Config, dir string) {
		withWeb(c, dir, t, true, map[string]role{"alice": roleWatcher})
	})
	for range maxJoinFails {
		wt := ts.openWeb("wrong-token-0123456789", 80, 24)
		wt.waitClosed()
		if strings.Contains(wt.text(), "too many") {
			t.Fatalf("refused as too many before %d wrong tokens: %q", maxJoinFails, wt.text())
		}
	}
	wt := ts.openWeb("wrong-token-0123456789", 80, 24)
	wt.waitClosed()
	if !strings.Contains(wt.text(), "too many wrong tokens") {
		t.Errorf("a wrong token after %d wrong ones: told %q", maxJoinFails, wt.text())
	}
	ok := ts.openWebAs("alice", 80, 24)
	ok.waitFor("joined: watcher")
	ok.close()
}

// TestWebWrongTokensPer64: wrong tokens count per address for IPv4 and per /64 for IPv6.
func TestWebWrongTokensPer64(t *testing.T) {
	f := newFailedJoins()
	for i := range maxJoinFails {
		if over, _ := f.fail(fmt.Sprintf("2001:db8:1:2::%x", i+1)); over {
			t.Fatalf("over the limit after %d wrong tokens", i+1)
		}
	}
	if over, _ := f.fail("2001:db8:1:2:ffff::1"); !over {
		t.Errorf("a /64 spreading its wrong tokens over its addresses is not limited")
	}
	if over, _ := f.fail("2001:db8:1:3::1"); over {
		t.Errorf("the next /64 is limited too")
	}
	for i := range maxJoinFails {
		if over, _ := f.fail(fmt.Sprintf("192.0.2.%d", i+1)); over {
			t.Errorf("IPv4 addresses of one network counted together")
		}
	}
}

// TestWebHTTP: the page and its headers; a foreign Origin may not open the WebSocket;
// directories are not listed.
func TestWebHTTP(t *testing.T) {
	ts := startServer(t, func(c *Config, dir string) {
		withWeb(c, dir, t, true, map[string]role{"alice": roleWatcher})
	})
	get := func(path string) *http.Response {
		r, err := http.Get("http://" + ts.webAddr + path)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r
	}
	r := get("/")
	for h, want := range map[string]string{
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "script-src 'self'",
	} {
		if !strings.Contains(r.Header.Get(h), want) {
			t.Errorf("%s: %q, want %q", h, r.Header.Get(h), want)
		}
	}
	if r.StatusCode != 200 || get("/vendor/xterm.js").StatusCode != 200 {
		t.Errorf("the page or the terminal is missing")
	}
	for _, p := range []string{"/vendor/", "/web/", "/../go.mod", "/ws?t=x"} {
		if c := get(p).StatusCode; c == 200 {
			t.Errorf("GET %s: 200", p)
		}
	}
	_, resp, err := ts.dialWS(http.Header{"Origin": {"https://evil.example"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("a foreign Origin: err %v, response %v", err, resp)
	}
}

// TestWebConfig: plain HTTP off loopback needs InsecureHTTP; TLS needs both files.
func TestWebConfig(t *testing.T) {
	base := func() Config {
		c := DefaultConfig()
		c.Addr, c.WebAddr = "", "127.0.0.1:8080"
		return c
	}
	c := base()
	if err := c.Validate(); err != nil {
		t.Errorf("loopback: %v", err)
	}
	c = base()
	c.WebAddr = ":8080"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "--insecure-http") {
		t.Errorf("all addresses in clear: %v", err)
	}
	c.InsecureHTTP = true
	if err := c.Validate(); err != nil {
		t.Errorf("--insecure-http: %v", err)
	}
	c = base()
	c.TLSCert = "cert.pem"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "go together") {
		t.Errorf("a certificate without its key: %v", err)
	}
}

// TestWebSharedLinkCap: a shared watcher link has its own cap per address (MaxPerLink, by
// default the whole server), so a class behind one address joins on it past MaxPerKey; a
// controller token keeps MaxPerKey; each refusal names its limit.
func TestWebSharedLinkCap(t *testing.T) {
	for _, perLink := range []int{0, 3} {
		t.Run(fmt.Sprint("max-per-link=", perLink), func(t *testing.T) {
			ts := startServer(t, func(c *Config, dir string) {
				withWeb(c, dir, t, true, map[string]role{"teacher": roleController, "class": roleWatcher})
				c.Classroom = true
				c.MaxPerKey, c.MaxPerLink, c.MaxSessions = 1, perLink, 8
			})
			joined := 4 // past MaxPerKey, within the default MaxPerLink
			if perLink > 0 {
				joined = perLink
			}
			for range joined {
				ts.openWebAs("class", 80, 24).waitFor("waiting for the teacher")
			}
			if perLink > 0 {
				over := ts.openWebAs("class", 80, 24)
				over.waitClosed()
				if !strings.Contains(over.text(), "per shared link") {
					t.Errorf("a watcher past --max-per-link %d: told %q", perLink, over.text())
				}
			}
			ts.openWebAs("teacher", 80, 24).waitFor("watching")
			second := ts.openWebAs("teacher", 80, 24)
			second.waitClosed()
			if !strings.Contains(second.text(), "most allowed per key") {
				t.Errorf("a controller token's second session: told %q", second.text())
			}
		})
	}
}

// TestWebTooBigLogged: a message over the read limit is logged as such, before the hello
// and in a session; a client that closes with 1009 itself is not.
func TestWebTooBigLogged(t *testing.T) {
	ts := startServer(t, func(c *Config, dir string) {
		withWeb(c, dir, t, true, map[string]role{"alice": roleWatcher})
	})
	const overLimit = "a message over the limit"
	big := strings.Repeat("a", 65<<10)

	// A client closing with 1009 (in a session: its end is the event to wait on).
	wt := ts.openWebAs("alice", 80, 24)
	wt.waitFor("running")
	wt.c.Close(websocket.StatusMessageTooBig, "the client's own")
	eventually(t, "the session did not end", func() bool { return strings.Contains(ts.logs.String(), "session end") })
	if strings.Contains(ts.logs.String(), overLimit) {
		t.Errorf("a client's 1009 close was logged as a message over our limit:\n%s", ts.logs.String())
	}

	// 65 KiB before the hello.
	c, _, err := ts.dialWS(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.Write(context.Background(), websocket.MessageText, []byte(`{"type":"hello","token":"`+big+`"}`))
	eventually(t, "65 KiB before the hello: not logged", func() bool {
		return strings.Contains(ts.logs.String(), "web client refused: "+overLimit)
	})

	// 65 KiB in a session.
	wt = ts.openWebAs("alice", 80, 24)
	wt.waitFor("running")
	wt.c.Write(context.Background(), websocket.MessageText, []byte(`{"type":"keys","data":"`+big+`"}`))
	eventually(t, "65 KiB in a session: not logged", func() bool {
		return strings.Contains(ts.logs.String(), "closing a web client: "+overLimit)
	})
}

// TestWebTokensWarnings: a tokens file group or others can read, and a classroom whose
// tokens file has no controller line, are warned about at start; a good file is not.
func TestWebTokensWarnings(t *testing.T) {
	const readable, noController = "group or others can read", "no controller line"
	for _, c := range []struct {
		name string
		mode os.FileMode
		who  map[string]role
		want []string
	}{
		{"good", 0o600, map[string]role{"teacher": roleController, "class": roleWatcher}, nil},
		{"readable", 0o644, map[string]role{"teacher": roleController}, []string{readable}},
		{"no controller", 0o600, map[string]role{"class": roleWatcher}, []string{noController}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts := startServer(t, func(cfg *Config, dir string) {
				withWeb(cfg, dir, t, true, c.who)
				cfg.Classroom = true
				if err := os.Chmod(cfg.WebTokensPath, c.mode); err != nil {
					t.Fatal(err)
				}
			})
			logs := ts.logs.String() // the warnings come before "web listening", which startServer waited for
			for _, w := range []string{readable, noController} {
				if got, want := strings.Contains(logs, w), slices.Contains(c.want, w); got != want {
					t.Errorf("warned %q: %v, want %v; the log:\n%s", w, got, want, logs)
				}
			}
		})
	}
}
