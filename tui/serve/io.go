package serve

import (
	"bytes"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// deadlineWriter bounds every write to a session: a write that has not finished after
// timeout calls cut (which closes the connection, so the write returns). An SSH channel's
// Write blocks as soon as the client stops granting window, long before TCP notices, so a
// client that stops reading would otherwise hold its goroutines forever. It also counts
// frames (writes) and bytes, and remembers a failed write (the client is gone).
type deadlineWriter struct {
	w       io.Writer
	timeout time.Duration
	cut     func()

	mu     sync.Mutex
	timer  *time.Timer
	frames atomic.Int64
	bytes  atomic.Int64
	failed atomic.Bool
}

func newDeadlineWriter(w io.Writer, timeout time.Duration, cut func()) *deadlineWriter {
	d := &deadlineWriter{w: w, timeout: timeout, cut: cut}
	d.timer = time.AfterFunc(time.Hour, cut)
	d.timer.Stop()
	return d
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.failed.Load() {
		return 0, io.ErrClosedPipe
	}
	d.timer.Reset(d.timeout)
	n, err := d.w.Write(p)
	d.timer.Stop()
	d.frames.Add(1)
	d.bytes.Add(int64(n))
	if err != nil {
		d.failed.Store(true)
	}
	return n, err
}

// stop disarms the timer for good.
func (d *deadlineWriter) stop() {
	d.mu.Lock()
	d.timer.Stop()
	d.failed.Store(true)
	d.mu.Unlock()
}

// inputPump reads the session's input in one goroutine, so that the server can ask the
// terminal a question with a timeout (the background colour) and hand every other byte to
// the program; so that the end of input (the client closed the channel) is noticed; and so
// that input is read as fast as the client sends it, cut into keys, and bounded (keyQueue:
// the newest keys are kept, a flood or a long paste dropped) whatever the program's pace.
type inputPump struct {
	wake    chan struct{} // a token: keys were queued
	eof     chan struct{} // closed when the source fails or ends
	done    chan struct{} // closed by the session: Read returns io.EOF
	bytesIn atomic.Int64  // bytes read (for the logs)

	mu     sync.Mutex
	q      keyQueue
	parked []byte // bytes read during a query that belong to the program
}

func newInputPump(src io.Reader, done chan struct{}) *inputPump {
	p := &inputPump{wake: make(chan struct{}, 1), eof: make(chan struct{}), done: done}
	go p.run(src)
	return p
}

// run reads src into the queue until src fails (the channel closed) or, after the session
// has ended, on the next read.
func (p *inputPump) run(src io.Reader) {
	defer close(p.eof)
	buf := make([]byte, 4096)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.bytesIn.Add(int64(n))
			p.mu.Lock()
			p.q.add(buf[:n])
			p.mu.Unlock()
			select {
			case p.wake <- struct{}{}:
			default: // a wake-up is pending
			}
		}
		if err != nil {
			return
		}
		select {
		case <-p.done:
			return
		default:
		}
	}
}

// dropped is how many keys the queue has dropped (for the logs).
func (p *inputPump) dropped() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.q.dropped
}

// take gives the program the parked bytes first, then whole keys from the queue. It fills
// at most len(b)-1 bytes: bubbletea takes a full read to mean that a sequence may go on in
// the next, and a short one to end at a key's end, which is where this one ends.
func (p *inputPump) take(b []byte) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(b) > 1 {
		b = b[:len(b)-1]
	}
	if len(p.parked) > 0 {
		n := copy(b, p.parked)
		p.parked = p.parked[n:]
		return n
	}
	return p.q.pop(b)
}

// Read blocks until there is input, and returns io.EOF once the session has ended or the
// source has ended and everything read from it has been taken.
func (p *inputPump) Read(b []byte) (int, error) {
	for {
		if n := p.take(b); n > 0 {
			return n, nil
		}
		select {
		case <-p.wake:
		case <-p.done:
			return 0, io.EOF
		case <-p.eof:
			if n := p.take(b); n > 0 {
				return n, nil
			}
			return 0, io.EOF
		}
	}
}

// queued takes everything queued, as bytes (the query's reading).
func (p *inputPump) queued() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []byte
	for _, k := range p.q.keys {
		out = append(out, k...)
	}
	p.q.keys = p.q.keys[:0]
	return out
}

// bgQueryTimeout is how long to wait for the terminal's answer about its background colour.
const bgQueryTimeout = 500 * time.Millisecond

// queryDarkBackground asks the terminal for its background colour (OSC 11) followed by its
// device attributes (DA1, which every terminal answers, so the wait usually lasts one round
// trip), reads the answers off the input for at most timeout, and parks every other byte
// for the program. It reports whether the background is dark, and whether it learned it.
func (p *inputPump) queryDarkBackground(out io.Writer, timeout time.Duration) (dark, ok bool) {
	if _, err := io.WriteString(out, "\x1b]11;?\x07\x1b[c"); err != nil {
		return true, false
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	var got []byte
	for {
		select {
		case <-p.wake:
			got = append(got, p.queued()...)
			if end, found := findDA1(got); found {
				dark, ok = parseOSC11(got[:end])
				rest := stripReplies(got)
				p.park(rest)
				return dark, ok
			}
			if len(got) > 4096 {
				p.park(got)
				return true, false
			}
			continue
		case <-t.C:
		case <-p.done:
		case <-p.eof:
			got = append(got, p.queued()...)
		}
		dark, ok = parseOSC11(got)
		p.park(stripReplies(got))
		return dark, ok
	}
}

func (p *inputPump) park(b []byte) {
	if len(b) == 0 {
		return
	}
	p.mu.Lock()
	p.parked = append(p.parked, b...)
	p.mu.Unlock()
}

// findDA1 finds a primary device attributes reply, ESC [ ? … c, and returns its end.
func findDA1(b []byte) (end int, ok bool) {
	i := bytes.Index(b, []byte("\x1b[?"))
	for i >= 0 {
		j := i + 3
		for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == ';') {
			j++
		}
		if j < len(b) && b[j] == 'c' {
			return j + 1, true
		}
		k := bytes.Index(b[i+1:], []byte("\x1b[?"))
		if k < 0 {
			break
		}
		i += 1 + k
	}
	return 0, false
}

// stripReplies removes the OSC 11 and DA1 replies from b, keeping everything else (keys
// the user typed meanwhile).
func stripReplies(b []byte) []byte {
	out := append([]byte(nil), b...)
	if i := bytes.Index(out, []byte("\x1b]11;")); i >= 0 {
		if j := oscEnd(out[i:]); j > 0 {
			out = append(out[:i], out[i+j:]...)
		}
	}
	if i := bytes.Index(out, []byte("\x1b[?")); i >= 0 {
		if end, ok := findDA1(out[i:]); ok {
			out = append(out[:i], out[i+end:]...)
		}
	}
	return out
}

// oscEnd is the length of the OSC sequence at the start of b (terminated by BEL or ST),
// or 0 if it is incomplete.
func oscEnd(b []byte) int {
	for j := 0; j < len(b); j++ {
		switch {
		case b[j] == 0x07:
			return j + 1
		case b[j] == 0x1b && j+1 < len(b) && b[j+1] == '\\':
			return j + 2
		}
	}
	return 0
}

// parseOSC11 reads "ESC ] 11 ; rgb:RRRR/GGGG/BBBB" and reports whether its luma is below ½.
func parseOSC11(b []byte) (dark, ok bool) {
	i := bytes.Index(b, []byte("\x1b]11;rgb:"))
	if i < 0 {
		return true, false
	}
	s := b[i+len("\x1b]11;rgb:"):]
	var rgb [3]float64
	for c := range 3 {
		j := 0
		for j < len(s) && isHex(s[j]) {
			j++
		}
		if j == 0 || j > 4 {
			return true, false
		}
		v, err := strconv.ParseUint(string(s[:j]), 16, 16)
		if err != nil {
			return true, false
		}
		rgb[c] = float64(v) / float64(uint64(1)<<(4*j)-1)
		s = s[j:]
		if c < 2 {
			if len(s) == 0 || s[0] != '/' {
				return true, false
			}
			s = s[1:]
		}
	}
	luma := 0.2126*rgb[0] + 0.7152*rgb[1] + 0.0722*rgb[2]
	return luma < 0.5, true
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }
