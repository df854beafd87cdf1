package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The web door under load: SHARPFLAT_LOAD=1 go test -run '^TestLoadWeb$' -v -timeout 10m ./tui/serve/
//
// The server runs in a child process (TestLoadServerProcess) with its web door on; the
// clients are coder/websocket clients in this process speaking the page's protocol, each
// a 120×40 terminal with a watcher's token of its own. Two scenarios: 100 viewers of one
// classroom for a window (frames per second each, the server's CPU and memory), then a
// reconnect storm: 50 clients that each join, wait for their first frame and leave, 10
// times over, all at once. The figures are printed, for LOAD.md's notes.

func TestLoadWeb(t *testing.T) {
	if os.Getenv(loadEnv) == "" {
		t.Skip("set SHARPFLAT_LOAD=1 to run the web door's load test (about 1 minute)")
	}
	window := 30 * time.Second
	if d, err := time.ParseDuration(os.Getenv("SHARPFLAT_LOAD_WINDOW")); err == nil {
		window = d
	}
	const viewers = 100
	if os.Getenv("SHARPFLAT_LOAD_ONLY") == "storm" {
		runWebStorm(t, 50, 10)
		return
	}
	r := runWebLoad(t, viewers, window)
	t.Logf("| classroom through the web door (one demo engine, %d WebSocket viewers) | %d | %v | %.1f / %.1f / %.1f | %v | %.0f | %.2f | %.2f | %.2f | %.0f MiB | %.0f MiB | %d |",
		viewers, r.sessions, r.window.Round(time.Second), r.fpsMin, r.fpsMed, r.fpsMax, r.maxGap.Round(time.Millisecond), r.kibPerSession,
		r.serverCPU, r.clientCPU, r.otherCPU, float64(max(r.end.MaxRSSKiB, r.end.VmHWMKiB))/1024, r.end.PeakHeapMiB, r.end.PeakGoroutine)
	if r.fpsMin < 5 { // a figure to report, not to assert: it depends on the machine's load
		t.Logf("below the target: the slowest viewer got %.1f frames/s (target ≥ 5; other processes took %.2f cores)", r.fpsMin, r.otherCPU)
	}
	runWebStorm(t, 50, 10)
}

// webLoadChild starts the server process with n watcher tokens (w0, w1, ...).
func webLoadChild(t *testing.T, n int, spec loadSpec) (*serverProcess, loadSpec) {
	dir := t.TempDir()
	spec.Keys, spec.Log, spec.HostKey, spec.Tokens = filepath.Join(dir, "keys"), filepath.Join(dir, "server.log"), filepath.Join(dir, "host_key"), filepath.Join(dir, "tokens")
	writeKeys(t, spec.Keys)
	who := map[string]role{"teacher": roleController}
	for i := range n {
		who[fmt.Sprintf("w%d", i)] = roleWatcher
	}
	writeTokens(t, spec.Tokens, who)
	return startServerProcess(t, spec), spec
}

// dialWeb joins the child's web door as name from the local address from (127.0.0.0/8
// is all this host: a classroom's machines), sending frames to out.
func dialWeb(ctx context.Context, addr, from, name string, out *frameCounter) (*websocket.Conn, error) {
	c, _, err := dialWebClosed(ctx, addr, from, name, out)
	return c, err
}

// dialWebClosed is dialWeb, with a channel that gives the close status (-1: the connection
// was lost) when the server ends the connection.
func dialWebClosed(ctx context.Context, addr, from, name string, out *frameCounter) (*websocket.Conn, <-chan websocket.StatusCode, error) {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	hc := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	c, _, err := websocket.Dial(ctx, "ws://"+addr+"/ws", &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		return nil, nil, err
	}
	c.SetReadLimit(16 << 20)
	b, _ := json.Marshal(webMsg{Type: "hello", Token: testToken(name), Cols: 120, Rows: 40})
	if err := c.Write(ctx, websocket.MessageText, b); err != nil {
		c.CloseNow()
		return nil, nil, err
	}
	closed := make(chan websocket.StatusCode, 1)
	go func() {
		for {
			typ, p, err := c.Read(context.Background())
			if err != nil {
				closed <- websocket.CloseStatus(err)
				return
			}
			if typ == websocket.MessageBinary {
				out.Write(p)
			}
		}
	}()
	return c, closed, nil
}

// joinOnce joins and waits for the first frame, then leaves as a tab that closes. lost
// says the connection was lost before any answer (what the page tries again).
func joinOnce(ctx context.Context, addr, from, name string) (lost bool, err error) {
	f := &frameCounter{}
	f.start()
	c, closed, err := dialWebClosed(ctx, addr, from, name, f)
	if err != nil {
		return true, err
	}
	defer c.CloseNow() // not Close: the client's close handshake would wait on its own reader
	for f.count() == 0 {
		select {
		case code := <-closed:
			if f.count() > 0 {
				return false, nil
			}
			return code == -1, fmt.Errorf("closed (%v) before a frame", code)
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return false, nil
}

func runWebLoad(t *testing.T, n int, window time.Duration) loadResult {
	child, spec := webLoadChild(t, n, loadSpec{Classroom: true, Sessions: n})
	defer child.kill()
	counters := make([]*frameCounter, n)
	conns := make([]*websocket.Conn, n)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// The teacher starts the lesson (a classroom behind the web door waits for a controller).
	tf := &frameCounter{}
	tf.start()
	teacher, err := dialWeb(ctx, child.webAddr, "127.0.1.1", "teacher", tf)
	if err != nil {
		t.Fatal(err)
	}
	defer teacher.CloseNow()
	for tf.count() < 2 { // the lab is on the teacher's screen: space now reaches it
		time.Sleep(10 * time.Millisecond)
	}
	space, _ := json.Marshal(webMsg{Type: "keys", Data: " "})
	if err := teacher.Write(ctx, websocket.MessageText, space); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		counters[i] = &frameCounter{}
		c, err := dialWeb(ctx, child.webAddr, fromAddr(i), fmt.Sprintf("w%d", i), counters[i])
		if err != nil {
			t.Fatalf("viewer %d: %v", i, err)
		}
		conns[i] = c
		time.Sleep(20 * time.Millisecond) // a classroom arrives over seconds, not at once
	}
	time.Sleep(5 * time.Second) // warm up

	r := measureWindow(child, counters, window)
	r.sessions = n
	for _, c := range conns {
		c.CloseNow()
	}
	r.end = child.stop()
	_ = spec
	return r
}

// runWebStorm: clients × rounds joins, each waiting for its first frame before leaving,
// all clients at once.
func runWebStorm(t *testing.T, clients, rounds int) {
	child, spec := webLoadChild(t, clients, loadSpec{Classroom: true, Sessions: clients, Defaults: true}) // the default limits, as a class would meet them
	defer child.kill()
	u0 := child.mark()
	t0 := time.Now()
	var mu sync.Mutex
	var joins []time.Duration
	var failures []string
	retries := 0
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				start := time.Now()
				// As the page does: a connection lost before an answer is tried again, up to
				// 5 times, after a random pause growing with the tries.
				lost, err := joinOnce(ctx, child.webAddr, fromAddr(i), fmt.Sprintf("w%d", i))
				for try := 1; lost && try <= 5 && ctx.Err() == nil; try++ {
					mu.Lock()
					retries++
					mu.Unlock()
					time.Sleep(500*time.Millisecond + time.Duration(rand.Int64N(int64(1500*time.Millisecond)*int64(try))))
					lost, err = joinOnce(ctx, child.webAddr, fromAddr(i), fmt.Sprintf("w%d", i))
				}
				took := time.Since(start)
				cancel()
				mu.Lock()
				if err != nil {
					failures = append(failures, err.Error())
				} else {
					joins = append(joins, took)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	el := time.Since(t0)
	u1 := child.mark()
	end := child.stop()
	slices.Sort(joins)
	b, _ := os.ReadFile(spec.Log)
	ended := strings.Count(string(b), "session end")
	for _, what := range []string{"closed the oldest pending", "web connections: refused", "hello timeout", "wrong", "per-key sessions", "limit hit: sessions"} {
		t.Logf("the server's log: %q %d times", what, strings.Count(string(b), what))
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "limit hit") {
			t.Logf("e.g. %s", l)
			break
		}
	}
	if len(joins) == 0 {
		t.Fatalf("the storm: no join succeeded; failures %v", failures)
	}
	t.Logf("reconnect storm: %d clients × %d joins in %v: %d joined (first frame after %v median, %v at most, retries included), %d connections lost and tried again, %d failed %v; sessions ended in the log %d; server CPU %.2f cores, peak RSS %.0f MiB, goroutines at the end %d (peak %d)",
		clients, rounds, el.Round(time.Millisecond), len(joins), joins[len(joins)/2].Round(time.Millisecond), joins[len(joins)-1].Round(time.Millisecond),
		retries, len(failures), failures, ended, (u1.UserS+u1.SysS-u0.UserS-u0.SysS)/el.Seconds(), float64(max(end.MaxRSSKiB, end.VmHWMKiB))/1024, end.Goroutines, end.PeakGoroutine)
	if len(failures) > 0 {
		t.Errorf("%d joins of the storm failed", len(failures))
	}
}

// fromAddr is client i's address: a machine of the class.
func fromAddr(i int) string { return fmt.Sprintf("127.0.%d.%d", 2+i/200, 1+i%200) }

func (f *frameCounter) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.frames
}
