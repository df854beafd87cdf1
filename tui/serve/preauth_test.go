package serve

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// Pre-authentication floods (issue 10, item 9): connections that never finish their
// handshake used to fill every connection slot until their handshake timeout, and a real
// user met "connection reset by peer".

// halfOpen is a connection that sends the SSH version line and then says nothing, like a
// flood of unfinished handshakes.
type halfOpen struct {
	net.Conn
	admitted bool          // the server answered with its version line
	closed   chan struct{} // closed when the server closes the connection
}

// dialHalfOpen connects from ip, sends a version line and waits for the server's (or for
// it to hang up); the connection then stays silent, its reader waiting for the end.
func dialHalfOpen(t testing.TB, ip, addr string) *halfOpen {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Errorf("flood dial from %s: %v", ip, err)
		return nil
	}
	h := &halfOpen{Conn: nc, closed: make(chan struct{})}
	_ = nc.SetReadDeadline(time.Now().Add(hangGuard))
	if _, err := io.WriteString(nc, "SSH-2.0-flood\r\n"); err == nil {
		line, err := bufio.NewReader(nc).ReadString('\n')
		h.admitted = err == nil && strings.HasPrefix(line, "SSH-2.0-")
	}
	go func() {
		defer close(h.closed)
		_, _ = io.Copy(io.Discard, nc) // the server's KEXINIT, then EOF when it hangs up
	}()
	return h
}

func (h *halfOpen) isClosed() bool {
	select {
	case <-h.closed:
		return true
	default:
		return false
	}
}

// waitClosed waits until the server hangs up on h (the guard turns a hang into a failure).
func (h *halfOpen) waitClosed(t testing.TB, what string) {
	t.Helper()
	select {
	case <-h.closed:
	case <-time.After(hangGuard):
		t.Fatalf("%s: still open after %v", what, hangGuard)
	}
}

// A newcomer always gets in: when its address already holds its share of pending
// connections, the oldest of them is closed to make room, and nothing else.
func TestPreauthNewcomerEvictsOldest(t *testing.T) {
	ts := startServer(t, func(c *Config, _ string) { c.HandshakeTimeout = hangGuard })
	var silent []*halfOpen
	defer func() {
		for _, h := range silent {
			h.Close()
		}
	}()
	for range 30 {
		h := dialHalfOpen(t, "127.0.0.9", ts.addr)
		if h == nil {
			t.FailNow()
		}
		silent = append(silent, h)
	}
	c, err := ts.dialFrom("127.0.0.9", "alice", gossh.PublicKeys(ts.user))
	if err != nil {
		t.Fatalf("a user behind 30 silent connections from its own address: %v", err)
	}
	defer c.Close()
	openTerm(t, c, 90, 28).waitFor("running")
	per := ts.cfg.MaxPreauth / 4 // an address's share
	evicted := len(silent) + 1 - per
	for i, h := range silent[:evicted] {
		h.waitClosed(t, fmt.Sprintf("silent connection %d of %d (the oldest are closed first)", i+1, len(silent)))
	}
	for i, h := range silent[evicted:] {
		if h.isClosed() {
			t.Errorf("silent connection %d of %d was closed; only the %d oldest should be", evicted+i+1, len(silent), evicted)
		}
	}
	if !strings.Contains(ts.logs.String(), "limit hit: pre-auth slots: closed the oldest pending connection share=address") {
		t.Errorf("the evictions are not logged")
	}
}

// One network flooding pushes out its own connections only: another network's pending
// connections, within their share, stay.
func TestPreauthFloodStaysInItsNetwork(t *testing.T) {
	ts := startServer(t, func(c *Config, _ string) { c.HandshakeTimeout = hangGuard })
	var all []*halfOpen
	defer func() {
		for _, h := range all {
			h.Close()
		}
	}()
	per := ts.cfg.MaxPreauth / 4
	var other []*halfOpen // a full share of the pool from 127.0.1.0/24, there first
	for i := range ts.cfg.MaxPreauth / 2 {
		h := dialHalfOpen(t, fmt.Sprintf("127.0.1.%d", 1+i/per), ts.addr)
		other = append(other, h)
	}
	all = append(all, other...)
	for i := range 200 { // then a flood from 127.0.0.0/24, 10 addresses
		all = append(all, dialHalfOpen(t, fmt.Sprintf("127.0.0.%d", 100+i%10), ts.addr))
	}
	if slices.Contains(all, nil) {
		t.FailNow()
	}
	for i, h := range other {
		if !h.admitted || h.isClosed() {
			t.Errorf("pending connection %d of the other network was closed by the flood", i+1)
		}
	}
	pending, peak, _ := ts.srv.limits.preauthStats()
	if peak > ts.cfg.MaxPreauth || pending != ts.cfg.MaxPreauth {
		t.Errorf("%d pending (at most %d at once), want %d (the pool, full)", pending, peak, ts.cfg.MaxPreauth)
	}
}

// More than half the pool taken: a newcomer gets a quarter of the handshake timeout. (The
// timeout is long, so that no connection leaves by it on a slow machine; that a deadline
// closes a connection is TestHandshakeTimeout's.)
func TestPreauthPressureShortensHandshake(t *testing.T) {
	ts := startServer(t, func(c *Config, _ string) { c.HandshakeTimeout = hangGuard })
	var all []*halfOpen
	defer func() {
		for _, h := range all {
			h.Close()
		}
	}()
	half := ts.cfg.MaxPreauth / 2
	for i := range half + 1 { // addresses in two networks: no share is full
		all = append(all, dialHalfOpen(t, fmt.Sprintf("127.0.%d.%d", i%2, 2+i/2), ts.addr))
	}
	logs := ts.logs.String()
	if n := strings.Count(logs, "handshake_timeout="+hangGuard.String()); n != half {
		t.Errorf("%d connections with the full handshake timeout, want %d", n, half)
	}
	if n := strings.Count(logs, "handshake_timeout="+(hangGuard/4).String()); n != 1 {
		t.Errorf("%d connections with the short handshake timeout, want 1", n)
	}
}

// The load test of the issue, run by default: 500 half-open connections (the version line,
// then silence) from 50 addresses, 127.0.0.2 … 127.0.0.51, all in one /24, held; then 20 real
// users connect at once, each from an address of its own in the same /24, and every one of
// them gets a lab. The handshake timeout is long (2 minutes), so the flood's connections
// leave only when they are evicted. LOAD.md records the figures it logs, and those of
// BenchmarkPreauthFlood (the same without the flood, for comparison).
func TestPreauthFlood(t *testing.T) {
	r := preauthFlood(t, 50, 10, 20)
	t.Log(r)
	if r.peak > r.maxPreauth {
		t.Errorf("%d connections pending at once, more than MaxPreauth (%d)", r.peak, r.maxPreauth)
	}
}

// BenchmarkPreauthFlood records the flood's figures (one iteration each; LOAD.md has them):
//
//	go test -race -run '^$' -bench PreauthFlood -benchtime 1x ./tui/serve/
func BenchmarkPreauthFlood(b *testing.B) {
	for _, flood := range []int{0, 50} {
		b.Run(fmt.Sprintf("flood=%d", flood*10), func(b *testing.B) {
			for range b.N {
				r := preauthFlood(b, flood, 10, 20)
				b.Log(r)
				b.ReportMetric(float64(r.all.Milliseconds()), "all-users-ms")
				b.ReportMetric(float64(r.median.Milliseconds()), "median-user-ms")
				b.ReportMetric(float64(r.peak), "peak-pending")
			}
		})
	}
}

// floodFigures is what one pre-auth flood measured.
type floodFigures struct {
	flood, users  int           // half-open connections made, real users
	floodTook     time.Duration // to make the flood's connections
	pendingAfter  int           // pending in the server once the flood was made
	all           time.Duration // until every user had a lab
	first, median time.Duration // until the first user, and half of them, had one
	peak, evicted int           // most pending at once, connections evicted in all
	maxPreauth    int
}

func (r floodFigures) String() string {
	return fmt.Sprintf("flood: %d half-open connections in %v, then %d pending; %d users, each from its own address in the flood's /24: "+
		"all had a lab after %v (first %v, median %v); at most %d pending at once (MaxPreauth %d), %d evicted in all",
		r.flood, r.floodTook.Round(time.Millisecond), r.pendingAfter, r.users, r.all.Round(time.Millisecond),
		r.first.Round(time.Millisecond), r.median.Round(time.Millisecond), r.peak, r.maxPreauth, r.evicted)
}

// preauthFlood runs the scenario against a fresh classroom server (the users watch one
// engine: the test is about connections, not CPU) with the default limits: perAddr
// half-open connections from each of floodAddrs addresses, held, then users real users at
// once. It fails tb if a flood connection cannot be made or a user gets no lab.
func preauthFlood(tb testing.TB, floodAddrs, perAddr, users int) floodFigures {
	tb.Helper()
	keys := make([]gossh.Signer, users)
	ts := startServer(tb, func(c *Config, _ string) {
		c.Classroom = true
		c.HandshakeTimeout = hangGuard
		pubs := make([]gossh.PublicKey, users)
		for i := range keys {
			keys[i] = newKey(tb)
			pubs[i] = keys[i].PublicKey()
		}
		writeKeys(tb, c.AuthorizedKeysPath, pubs...)
	})
	r := floodFigures{users: users, maxPreauth: ts.cfg.MaxPreauth}

	start := time.Now()
	var (
		mu    sync.Mutex
		flood []*halfOpen
		wg    sync.WaitGroup
	)
	for a := range floodAddrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range perAddr {
				if h := dialHalfOpen(tb, fmt.Sprintf("127.0.0.%d", 2+a), ts.addr); h != nil {
					mu.Lock()
					flood = append(flood, h)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	defer func() {
		for _, h := range flood {
			h.Close()
		}
	}()
	r.floodTook, r.flood = time.Since(start), len(flood)
	if r.flood != floodAddrs*perAddr {
		tb.Fatalf("%d flood connections made, want %d", r.flood, floodAddrs*perAddr)
	}
	r.pendingAfter, _, _ = ts.srv.limits.preauthStats()

	start = time.Now()
	took := make([]time.Duration, users)
	errs := make(chan error, users)
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := watchLab(tb, ts, fmt.Sprintf("127.0.0.%d", 2+floodAddrs+i), fmt.Sprintf("student%d", i), keys[i], start); err != nil {
				errs <- fmt.Errorf("user %d: %v", i, err)
				return
			}
			took[i] = time.Since(start)
		}()
	}
	wg.Wait()
	r.all = time.Since(start)
	close(errs)
	for err := range errs {
		tb.Error(err)
	}
	_, r.peak, r.evicted = ts.srv.limits.preauthStats()
	slices.Sort(took)
	r.first, r.median = took[0], took[users/2]
	return r
}

// watchLab logs in from ip with key and waits until the classroom's lab shows (or the
// session ends, or hangGuard passes since start). The session stays open until the test ends.
func watchLab(tb testing.TB, ts *testServer, ip, user string, key gossh.Signer, start time.Time) error {
	c, err := ts.dialFrom(ip, user, gossh.PublicKeys(key))
	if err != nil {
		return fmt.Errorf("from %s: %v", ip, err)
	}
	tb.Cleanup(func() { c.Close() })
	sess, err := c.NewSession()
	if err != nil {
		return fmt.Errorf("session: %v", err)
	}
	out := &syncBuffer{}
	sess.Stdout = out
	if _, err := sess.StdinPipe(); err != nil { // open, unused: a closed input ends the session
		return err
	}
	if err := sess.RequestPty("xterm-256color", 30, 100, gossh.TerminalModes{}); err != nil {
		return fmt.Errorf("pty: %v", err)
	}
	if err := sess.Shell(); err != nil {
		return fmt.Errorf("shell: %v", err)
	}
	ended := make(chan struct{})
	go func() { sess.Wait(); close(ended) }()
	wrote := out.changes()
	guard := time.After(hangGuard - time.Since(start))
	for !strings.Contains(stripped(out), "read-only session") {
		select {
		case <-ended:
			return fmt.Errorf("the session ended before the lab showed: %q", tail(stripped(out), 300))
		case <-wrote:
		case <-guard:
			return fmt.Errorf("no lab after %v", hangGuard)
		}
	}
	return nil
}

// stripped is a terminal's output without escape sequences.
func stripped(b *syncBuffer) string { return (&term{out: b, stderr: &syncBuffer{}}).text() }
