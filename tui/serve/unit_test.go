package serve

import (
	"bytes"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// Replies as xterm, kitty and tmux send them.
func TestParseOSC11(t *testing.T) {
	for _, c := range []struct {
		in       string
		dark, ok bool
	}{
		{"\x1b]11;rgb:0000/0000/0000\x07", true, true},
		{"\x1b]11;rgb:ffff/ffff/ffff\x1b\\", false, true},
		{"\x1b]11;rgb:fd/f6/e3\x07", false, true}, // solarized light, 2 digits a channel
		{"\x1b]11;rgb:1e1e/1e1e/2e2e\x07", true, true},
		{"\x1b]11;rgb:zz/00/00\x07", true, false},
		{"", true, false},
	} {
		dark, ok := parseOSC11([]byte(c.in))
		if dark != c.dark || ok != c.ok {
			t.Errorf("parseOSC11(%q) = %v, %v; want %v, %v", c.in, dark, ok, c.dark, c.ok)
		}
	}
}

// The replies are cut out of the input; keys typed meanwhile stay, in order.
func TestStripReplies(t *testing.T) {
	in := "a\x1b]11;rgb:ffff/ffff/ffff\x07b\x1b[?62;22;52cc"
	if end, ok := findDA1([]byte(in)); !ok || in[end-1] != 'c' {
		t.Fatalf("findDA1: %d, %v", end, ok)
	}
	if got := string(stripReplies([]byte(in))); got != "abc" {
		t.Errorf("stripReplies = %q, want %q", got, "abc")
	}
}

// The query reads the answer off the input and leaves everything else to the program.
func TestQueryDarkBackground(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	done := make(chan struct{})
	defer close(done)
	p := newInputPump(r, done)
	var out bytes.Buffer
	go func() {
		w.Write([]byte("q"))
		w.Write([]byte("\x1b]11;rgb:ffff/ffff/ffff\x07\x1b[?6"))
		w.Write([]byte("2c?"))
	}()
	dark, ok := p.queryDarkBackground(&out, hangGuard) // the answer is written at once
	if dark || !ok {
		t.Errorf("light background: dark %v, ok %v", dark, ok)
	}
	if !strings.Contains(out.String(), "\x1b]11;?") {
		t.Errorf("no query sent: %q", out.String())
	}
	buf := make([]byte, 8)
	var got []byte
	for len(got) < 2 {
		n, err := p.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != "q?" {
		t.Errorf("the program reads %q, want %q", got, "q?")
	}
	// No answer at all: the timeout, a dark default.
	r2, w2 := io.Pipe()
	defer w2.Close()
	p2 := newInputPump(r2, done)
	if dark, ok := p2.queryDarkBackground(io.Discard, 50*time.Millisecond); !dark || ok {
		t.Errorf("no answer: dark %v, ok %v; want true, false", dark, ok)
	}
}

// blockingWriter blocks until closed, as an SSH channel whose client stopped reading.
type blockingWriter struct{ unblock chan struct{} }

func (b blockingWriter) Write(p []byte) (int, error) {
	<-b.unblock
	return 0, io.ErrClosedPipe
}

// A stuck write calls cut after the timeout; cut unblocks it (as closing the connection
// does) and later writes fail at once.
func TestDeadlineWriter(t *testing.T) {
	bw := blockingWriter{make(chan struct{})}
	var cuts atomic.Int32
	w := newDeadlineWriter(bw, 100*time.Millisecond, func() { cuts.Add(1); close(bw.unblock) })
	start := time.Now()
	if _, err := w.Write([]byte("frame")); err == nil {
		t.Error("a cut write reported success")
	}
	if d := time.Since(start); d < 100*time.Millisecond { // a timer never fires early
		t.Errorf("cut after %v, before its timeout (100ms)", d)
	}
	if _, err := w.Write([]byte("more")); err == nil {
		t.Error("a write after the cut succeeded")
	}
	if n := cuts.Load(); n != 1 {
		t.Errorf("cut called %d times", n)
	}
	// A writer that keeps up is never cut: its deadline is disarmed when each write returns.
	var ok bytes.Buffer
	w2 := newDeadlineWriter(&ok, time.Minute, func() { t.Error("cut a healthy writer") })
	for range 5 {
		w2.Write([]byte("x"))
		if w2.timer.Stop() {
			t.Error("the deadline is still armed after a write returned")
		}
	}
	w2.stop()
	if w2.frames.Load() != 5 || ok.Len() != 5 {
		t.Errorf("frames %d, bytes %d; want 5, 5", w2.frames.Load(), ok.Len())
	}
}

func TestTokenBucket(t *testing.T) {
	b := tokenBucket{rate: 10, burst: 5}
	now := time.Now()
	n := 0
	for range 20 {
		if b.allow(now) {
			n++
		}
	}
	if n != 5 {
		t.Errorf("a burst of 20 let %d through, want 5", n)
	}
	if !b.allow(now.Add(150 * time.Millisecond)) {
		t.Error("no token after 150 ms at 10/s")
	}
}

// The queue grants slots in order and tells the waiting their new positions.
func TestSlots(t *testing.T) {
	q := newSlots(1, 2)
	a, err := q.enter()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := q.enter()
	c, _ := q.enter()
	if _, err := q.enter(); err == nil || err.limit != "queue" {
		t.Fatalf("a fourth session: %v, want the queue to be full", err)
	}
	if p := <-c.pos; p != 2 {
		t.Errorf("c is at %d, want 2", p)
	}
	q.leave(b) // leaves the queue before its turn
	if p := <-c.pos; p != 1 {
		t.Errorf("after b left, c is at %d, want 1", p)
	}
	q.leave(a)
	select {
	case <-c.ready:
	default:
		t.Fatal("c did not get the freed slot")
	}
	q.leave(a) // idempotent
	q.leave(c)
	if q.free != 1 || q.waiting() != 0 {
		t.Errorf("after everyone left: free %d, waiting %d", q.free, q.waiting())
	}
}

// Garbage lines and keys with options the server cannot honour are skipped; a from= key is
// kept with its restriction.
func TestReadAuthorizedKeysOptions(t *testing.T) {
	a, b, c := newKey(t), newKey(t), newKey(t)
	path := filepath.Join(t.TempDir(), "keys")
	content := keyLine("", a) + "\n" + keyLine(`from="10.0.0.0/8"`, b) + "\n" + keyLine("cert-authority", c) + "\nnot a key\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	ks, err := loadKeySet(path, "test", discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	here, inside := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("10.1.2.3")
	in := func(k gossh.Signer, from netip.Addr) bool {
		_, ok, _ := ks.lookup(gossh.FingerprintSHA256(k.PublicKey()), from, time.Now())
		return ok
	}
	if !in(a, here) || in(b, here) || !in(b, inside) || in(c, inside) {
		t.Errorf("plain key %v; from= key from outside %v, inside %v; cert-authority key %v: want true, false, true, false",
			in(a, here), in(b, here), in(b, inside), in(c, inside))
	}
	if ks.count() != 2 {
		t.Errorf("%d usable keys, want 2", ks.count())
	}
	// A file that disappears refuses everyone.
	os.Remove(path)
	if in(a, here) {
		t.Error("a key was accepted after its file disappeared")
	}
}

func TestLogUser(t *testing.T) {
	if got := logUser("a\x1b[2Jb\nc\u009b"); got != `a\x1b[2Jb\nc\u009b` {
		t.Errorf("control characters: %q", got)
	}
	if got := clientVersion([]byte("SSH-2.0-x\x1b]52;c;eA==\x07\r")); got != `SSH-2.0-x\x1b]52;c;eA==\x07\r` {
		t.Errorf("a client version: %q", got)
	}
	if got := logUser(strings.Repeat("é", 40)); len([]rune(got)) != 33 {
		t.Errorf("long name: %d runes", len([]rune(got)))
	}
}
