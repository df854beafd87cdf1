package serve

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestWebPageBurst: a class loading the page at once from one address (30 browsers × the
// page's 6 files, each on a connection of its own) gets every file: page loads do not sit
// in the pre-auth pool, where newcomers push out the oldest.
func TestWebPageBurst(t *testing.T) {
	ts := startServer(t, func(c *Config, dir string) {
		withWeb(c, dir, t, true, map[string]role{"alice": roleWatcher})
	})
	files := []string{"/", "/app.js", "/app.css", "/vendor/xterm.js", "/vendor/xterm.css", "/vendor/addon-fit.js"}
	const browsers = 30
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, MaxConnsPerHost: 0}}
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, browsers*len(files))
	for range browsers {
		for _, f := range files {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				r, err := client.Get("http://" + ts.webAddr + f)
				if err != nil {
					errs <- err
					return
				}
				defer r.Body.Close()
				if _, err := io.Copy(io.Discard, r.Body); err != nil {
					errs <- err
				} else if r.StatusCode != 200 {
					errs <- &statusErr{f, r.StatusCode}
				}
			}()
		}
	}
	close(start)
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n < 5 {
			t.Errorf("a page load failed: %v", err)
		}
		n++
	}
	if n > 0 {
		t.Errorf("%d of %d page loads failed", n, browsers*len(files))
	}
	// The WebSocket still joins.
	ts.openWebAs("alice", 80, 24).waitFor("running")
}

type statusErr struct {
	path string
	code int
}

func (e *statusErr) Error() string { return e.path + ": HTTP " + http.StatusText(e.code) }

// TestWebUpgradesInPreauthPool: a WebSocket upgrade still sits in the pre-auth pool until
// its token is accepted: past its address's share, the oldest silent one is closed.
func TestWebUpgradesInPreauthPool(t *testing.T) {
	ts := startServer(t, func(c *Config, dir string) {
		withWeb(c, dir, t, true, map[string]role{"alice": roleWatcher})
		c.MaxPreauth = 4 // one per address
		c.HandshakeTimeout = time.Hour
	})
	raw := func() *webTerm {
		c, _, err := ts.dialWS(nil)
		if err != nil {
			t.Fatal(err)
		}
		wt := &webTerm{t: t, c: c, out: &syncBuffer{}, msgs: &syncBuffer{}, closed: make(chan websocket.StatusCode, 1)}
		go wt.read()
		t.Cleanup(func() { c.CloseNow() })
		return wt
	}
	first := raw()
	eventually(t, "the first upgrade is not pending", func() bool { p, _, _ := ts.srv.limits.preauthStats(); return p == 1 })
	raw()
	first.waitClosed()
	if !strings.Contains(ts.logs.String(), "closed the oldest pending connection") {
		t.Errorf("the oldest silent upgrade was closed without its log line:\n%s", ts.logs.String())
	}
	// A page load from the same address is not in the pool: it pushes nobody out.
	r, err := http.Get("http://" + ts.webAddr + "/")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if p, _, ev := ts.srv.limits.preauthStats(); p != 1 || ev != 1 {
		t.Errorf("after a page load: %d pending, %d evicted; want 1 and 1", p, ev)
	}
}
