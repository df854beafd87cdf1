package serve

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

// Input is cut into whole keys, each escape sequence in one piece, also when a read ends
// in the middle of one. Expected keys written by hand from ECMA-48 and xterm's sequences.
func TestKeyQueueCutsKeys(t *testing.T) {
	var q keyQueue
	for _, read := range []string{
		"ab\x1b[A",              // two runes, ↑
		"λ\x1b[1;5",             // a two-byte rune; ctrl+→ cut after its parameters
		"C\x1bOP\x1b",           // … its final byte; F1 (SS3); a lone ESC at the end of a read
		"\x1b]11;rgb:0/0/0\x07", // an OSC answer
		"\x1bx\xe2\x82",         // alt+x; a rune cut in the middle
		"\xac\x1b[M !!",         // … its last byte; an X10 mouse report
		"\x1b[200~hi\x1b[201~",  // a short bracketed paste: one key
		"\x1bP+q\x1b\\",         // DCS
	} {
		q.add([]byte(read))
	}
	want := []string{"a", "b", "\x1b[A", "λ", "\x1b[1;5C", "\x1bOP", "\x1b", "\x1b]11;rgb:0/0/0\x07",
		"\x1bx", "€", "\x1b[M !!", "\x1b[200~hi\x1b[201~", "\x1bP+q\x1b\\"}
	var got []string
	for _, k := range q.keys {
		got = append(got, string(k))
	}
	if !slices.Equal(got, want) {
		t.Errorf("keys\n%q\nwant\n%q", got, want)
	}
	if q.dropped != 0 {
		t.Errorf("%d dropped, want 0", q.dropped)
	}
}

// More keys than the program has read: the oldest go, the newest stay; a long bracketed
// paste is dropped whole.
func TestKeyQueueKeepsTheNewest(t *testing.T) {
	var q keyQueue
	q.add([]byte(strings.Repeat("x", 10000) + "q"))
	if len(q.keys) != maxQueuedKeys || string(q.keys[len(q.keys)-1]) != "q" {
		t.Fatalf("%d keys queued, the last %q; want %d, ending in q", len(q.keys), q.keys[len(q.keys)-1], maxQueuedKeys)
	}
	if q.dropped != 10001-maxQueuedKeys {
		t.Errorf("%d dropped, want %d", q.dropped, 10001-maxQueuedKeys)
	}
	q = keyQueue{}
	q.add(pasteStart)
	for range 100 {
		q.add([]byte(strings.Repeat("y", 1000)))
	}
	q.add(append(append([]byte{}, pasteEnd...), 'q'))
	if len(q.keys) != 1 || string(q.keys[0]) != "q" || q.dropped != 1 {
		t.Errorf("after a 100 kB bracketed paste and q: keys %q, %d dropped; want [q], 1", q.keys, q.dropped)
	}
	// The program reads whole keys, as many as fit.
	q = keyQueue{}
	q.add([]byte("ab\x1b[Acd"))
	buf := make([]byte, 4)
	if n := q.pop(buf); string(buf[:n]) != "ab" {
		t.Errorf("pop into 4 bytes: %q, want %q (↑ does not fit whole)", buf[:n], "ab")
	}
	if n := q.pop(buf); string(buf[:n]) != "\x1b[Ac" {
		t.Errorf("then %q, want ↑ and c", buf[:n])
	}
}

// A 10 MB write is read as fast as it comes, whatever the program's pace: the program, which
// reads one key at a time here, then gets the newest keys, the q last among them.
func TestInputPumpFlood(t *testing.T) {
	r, w := io.Pipe()
	done := make(chan struct{})
	defer close(done)
	p := newInputPump(r, done)
	go func() {
		chunk := bytes.Repeat([]byte("K"), 64<<10)
		for range 160 { // 10 MiB
			w.Write(chunk)
		}
		w.Write([]byte("q"))
		w.Close()
	}()
	select { // everything was read, though the program read nothing yet
	case <-p.eof:
	case <-time.After(hangGuard):
		t.Fatalf("the pump read %d bytes in %v", p.bytesIn.Load(), hangGuard)
	}
	if n := p.bytesIn.Load(); n != 160<<16+1 {
		t.Fatalf("read %d bytes, want %d", n, 160<<16+1)
	}
	var last byte
	buf := make([]byte, 2) // one key a read
	keys := 0
	for {
		n, err := p.Read(buf)
		if err != nil {
			break
		}
		keys++
		last = buf[n-1]
	}
	if last != 'q' || keys > maxQueuedKeys {
		t.Errorf("the program read %d keys, the last %q; want at most %d, the last q", keys, last, maxQueuedKeys)
	}
}

// alt+] (ESC ]), alt+P (ESC P), alt+_ , alt+^ and alt+X begin what a terminal reads as OSC,
// DCS, APC, PM and SOS strings, and ESC O begins SS3; keys typed after them must not wait
// for a terminator that never comes (issue 25, review of item 14). A control string is one
// key only while it is plausibly one: its terminator in the same read, or bytes such strings
// hold; a C0 byte ends it as keys, and ctrl+c and q always pass. Expected keys by hand.
func TestKeyQueueAltBracket(t *testing.T) {
	cases := []struct {
		name  string
		reads []string
		want  []string
	}{
		{"alt+] q ctrl+c, one read", []string{"\x1b]q\x03"}, []string{"\x1b]", "q", "\x03"}},
		{"alt+] q ctrl+c, a read each", []string{"\x1b]", "q", "\x03"}, []string{"\x1b]", "q", "\x03"}},
		{"alt+] then ctrl+c", []string{"\x1b]", "\x03"}, []string{"\x1b]", "\x03"}},
		{"alt+P then q", []string{"\x1bP", "q"}, []string{"\x1bP", "q"}},
		{"alt+_ a ctrl+c", []string{"\x1b_", "a", "\x03"}, []string{"\x1b_", "a", "\x03"}},
		{"alt+^ then enter", []string{"\x1b^", "\r"}, []string{"\x1b^", "\r"}},
		{"alt+X then ↑", []string{"\x1bX", "\x1b[A"}, []string{"\x1bX", "\x1b[A"}},
		{"alt+O then ctrl+c", []string{"\x1bO", "\x03"}, []string{"\x1bO", "\x03"}},
		{"alt+O then q", []string{"\x1bOq"}, []string{"\x1bO", "q"}},
		{"alt+[ then q", []string{"\x1b[q"}, []string{"\x1b[", "q"}},
		{"F1 (SS3) still one key", []string{"\x1bOP"}, []string{"\x1bOP"}},
		{"an OSC reply (BEL) in one read", []string{"\x1b]11;rgb:ffff/ffff/ffff\x07q"},
			[]string{"\x1b]11;rgb:ffff/ffff/ffff\x07", "q"}},
		{"an OSC reply (ST) cut across reads", []string{"\x1b]11;rgb:0000/", "0000/0000\x1b", "\\q"},
			[]string{"\x1b]11;rgb:0000/0000/0000\x1b\\", "q"}},
		{"a DCS reply holding q, whole in one read", []string{"\x1bP+q544e\x1b\\"}, []string{"\x1bP+q544e\x1b\\"}},
	}
	for _, c := range cases {
		var q keyQueue
		for _, r := range c.reads {
			q.add([]byte(r))
		}
		var got []string
		for _, k := range q.keys {
			got = append(got, string(k))
		}
		if !slices.Equal(got, c.want) || len(q.partial) != 0 {
			t.Errorf("%s: keys %q, partial %q; want %q and nothing waiting", c.name, got, q.partial, c.want)
		}
	}
}
