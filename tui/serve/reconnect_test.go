package serve

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// Reconnecting pre-auth floods (issue 25, item 3): every slot of the flood reconnects as
// soon as the server closes it, so eviction of the oldest pending connection turned into a
// churn that pushed real users of the same /24 out before they finished their key exchange.

// reconnectFlood is a flood running in the background: slots connections from each of
// addrs addresses, each sending the SSH version line, then silent until the server closes
// it, then connecting again at once.
type reconnectFlood struct {
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	connects atomic.Int64  // TCP connections made
	admitted atomic.Int64  // of those, answered with the server's version line
	failed   atomic.Int64  // dials that failed
	made     chan struct{} // closed once connects reaches the count asked of startReconnectFlood
}

// startReconnectFlood starts the flood against addr from 127.0.0.(first … first+addrs-1);
// made is closed after warm connections, so that a test can start once the flood has used
// up every address's allowance (an event, not a time).
func startReconnectFlood(addr string, first, addrs, slots int, warm int64) *reconnectFlood {
	ctx, cancel := context.WithCancel(context.Background())
	f := &reconnectFlood{cancel: cancel, made: make(chan struct{})}
	var once sync.Once
	for a := range addrs {
		ip := fmt.Sprintf("127.0.0.%d", first+a)
		for range slots {
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
				buf := make([]byte, 4096)
				for ctx.Err() == nil {
					nc, err := d.DialContext(ctx, "tcp", addr)
					if err != nil {
						f.failed.Add(1)
						continue
					}
					if f.connects.Add(1) == warm {
						once.Do(func() { close(f.made) })
					}
					stop := context.AfterFunc(ctx, func() { nc.Close() })
					if _, err := io.WriteString(nc, "SSH-2.0-flood\r\n"); err == nil {
						if n, _ := nc.Read(buf); n > 0 && strings.HasPrefix(string(buf[:n]), "SSH-2.0-") {
							f.admitted.Add(1)
						}
						_, _ = io.Copy(io.Discard, nc) // until the server hangs up
					}
					stop()
					nc.Close()
				}
			}()
		}
	}
	return f
}

func (f *reconnectFlood) stop() {
	f.cancel()
	f.wg.Wait()
}

// tryLab is one user's attempt: log in from ip with key, open a terminal, and wait for the
// classroom's lab on it. The session is closed before it returns. guard only turns a hang
// into a failure.
func tryLab(ts *testServer, ip string, key gossh.Signer, guard time.Duration) error {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: guard}
	nc, err := d.Dial("tcp", ts.addr)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer nc.Close()
	timer := time.AfterFunc(guard, func() { nc.Close() })
	defer timer.Stop()
	cc, chans, reqs, err := gossh.NewClientConn(nc, ts.addr, &gossh.ClientConfig{
		User: "user", Auth: []gossh.AuthMethod{gossh.PublicKeys(key)}, HostKeyCallback: gossh.FixedHostKey(ts.hostKey)})
	if err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	c := gossh.NewClient(cc, chans, reqs)
	defer c.Close()
	sess, err := c.NewSession()
	if err != nil {
		return fmt.Errorf("session: %w", err)
	}
	out := &syncBuffer{}
	wrote := out.changes()
	sess.Stdout = out
	if _, err := sess.StdinPipe(); err != nil {
		return err
	}
	if err := sess.RequestPty("xterm-256color", 30, 100, gossh.TerminalModes{}); err != nil {
		return fmt.Errorf("pty: %w", err)
	}
	if err := sess.Shell(); err != nil {
		return fmt.Errorf("shell: %w", err)
	}
	ended := make(chan struct{})
	go func() { sess.Wait(); close(ended) }()
	for !strings.Contains(stripped(out), "read-only session") {
		select {
		case <-ended:
			return fmt.Errorf("the session ended before the lab showed: %q", tail(stripped(out), 300))
		case <-wrote:
		}
	}
	return nil
}

// The acceptance test of item 3 at reduced scale, always run: 20 addresses of 127.0.0.0/24
// × 4 slots, each reconnecting the moment the server closes it, while a user from 127.0.0.1
// (the same /24) logs in 5 times, one after the other. Every try must get a lab. Judged by
// the count of successes; the guard per try (hangGuard) is generous. The full scale, 50 × 10
// with 20 tries, is TestReconnectFloodFullScale (SHARPFLAT_FLOOD=1), recorded in LOAD.md.
func TestReconnectFlood(t *testing.T) {
	const addrs, slots, tries = 20, 4, 5
	user := newKey(t)
	ts := startServer(t, func(c *Config, _ string) {
		c.Classroom = true
		c.HandshakeTimeout = hangGuard // a user's handshake is never cut short by a slow machine
		writeKeys(t, c.AuthorizedKeysPath, user.PublicKey())
	})
	// Warm: every address past its allowance of new connections, many times over.
	f := startReconnectFlood(ts.addr, 2, addrs, slots, int64(addrs*ts.cfg.MaxPreauth))
	defer f.stop()
	select {
	case <-f.made:
	case <-time.After(hangGuard):
		t.Fatalf("the flood made %d connections in %v", f.connects.Load(), hangGuard)
	}
	ok := 0
	for i := range tries {
		if err := tryLab(ts, "127.0.0.1", user, hangGuard); err != nil {
			t.Logf("try %d: %v", i+1, err)
			continue
		}
		ok++
	}
	pending, peak, evicted := ts.srv.limits.preauthStats()
	t.Logf("flood: %d connections (%d answered, %d dials failed); %d pending now, at most %d, %d evicted; %d of %d tries got a lab",
		f.connects.Load(), f.admitted.Load(), f.failed.Load(), pending, peak, evicted, ok, tries)
	if ok < tries {
		t.Errorf("%d of %d tries got a lab during the reconnecting flood, want all", ok, tries)
	}
}
