package serve

import (
	"bytes"
	"unicode/utf8"
)

// keyQueue is a session's pending input, cut into keys and bounded: it holds at most
// maxQueuedKeys keys, and when more arrive than the program has read, the OLDEST are
// dropped. A lab takes a few keys a frame; a paste of megabytes, or a script writing as
// fast as the connection goes, is of no use to it, and handed on byte by byte it held the
// keys typed after it for minutes (issue 25: a 10 MB paste was read at 5–70 KB/s, because
// every byte became a key message for the program). Cut and dropped here, at the speed of
// the connection, the input costs what reading it costs, and the newest keys (a q after
// the paste) are answered at once.
//
// A key is one byte, one UTF-8 rune, or one escape sequence, whole: CSI (ESC [ … final,
// X10 mouse reports with their three bytes), SS3 (ESC O x), OSC, DCS, APC, PM and SOS up to
// their terminator, or ESC and a rune (alt+key). ESC ], ESC P, ESC _, ESC ^ and ESC X are
// also what alt+], alt+P … send, and a terminator that never comes must not hold the keys
// typed after them: a control string is taken only while it is plausibly one (see
// controlString), else ESC and its byte are alt+key and the rest are keys; ctrl+c and q are
// never swallowed into a sequence. A bracketed paste (ESC [200~ … ESC [201~)
// is one key if it is short (maxPasteBytes: the lab has no text to paste into, but a
// bubbles filter may take a word), and dropped whole otherwise. A sequence cut at the end of
// a read waits for the next read; a lone ESC at the end of a read is the Esc key.
type keyQueue struct {
	keys    [][]byte // oldest first
	partial []byte   // an incomplete sequence or rune from the last read
	paste   []byte   // the body of a bracketed paste in progress
	inPaste bool
	bigPast bool // the paste in progress is over maxPasteBytes: dropped at its end
	dropped int  // keys dropped (oldest first, or a long paste's bytes)
}

const (
	maxQueuedKeys = 64
	maxPasteBytes = 200  // a bracketed paste and its markers fit one read of the program (256)
	maxSeqBytes   = 4096 // a longer escape sequence is dropped (an answer to a query is short)
)

var (
	pasteStart = []byte("\x1b[200~")
	pasteEnd   = []byte("\x1b[201~")
)

// add cuts b (one read's bytes) into keys and queues them.
func (q *keyQueue) add(b []byte) {
	carried := len(q.partial) > 0 // the first key began in an earlier read
	if carried {
		b = append(q.partial, b...)
		q.partial = nil
	}
	for len(b) > 0 {
		n := keyLen(b, carried)
		carried = false
		switch {
		case n == 0 && len(b) == 1: // a lone ESC at the end of a read: the Esc key
			n = 1
		case n == 0 && len(b) > maxSeqBytes:
			q.dropped++
			return
		case n == 0:
			q.partial = append([]byte(nil), b...)
			return
		}
		q.push(b[:n])
		b = b[n:]
	}
}

// push queues one key, or takes it into the bracketed paste in progress.
func (q *keyQueue) push(k []byte) {
	switch {
	case bytes.Equal(k, pasteStart):
		q.inPaste, q.bigPast, q.paste = true, false, q.paste[:0]
		return
	case q.inPaste && bytes.Equal(k, pasteEnd):
		q.inPaste = false
		if q.bigPast {
			q.dropped++
			return
		}
		k = append(append(append([]byte(nil), pasteStart...), q.paste...), pasteEnd...)
	case q.inPaste:
		if len(q.paste)+len(k) > maxPasteBytes {
			q.bigPast, q.paste = true, q.paste[:0]
		}
		if !q.bigPast {
			q.paste = append(q.paste, k...)
		}
		return
	default:
		k = append([]byte(nil), k...)
	}
	if len(q.keys) >= maxQueuedKeys {
		q.keys = q.keys[1:]
		q.dropped++
	}
	q.keys = append(q.keys, k)
}

// pop moves whole keys into b, oldest first, while they fit, and says how many bytes; a key
// longer than b (only if b is shorter than a paste) is cut, its rest staying first in line.
func (q *keyQueue) pop(b []byte) int {
	n := 0
	for len(q.keys) > 0 {
		k := q.keys[0]
		if len(k) > len(b)-n {
			if n == 0 {
				n = copy(b, k)
				q.keys[0] = k[n:]
			}
			break
		}
		n += copy(b[n:], k)
		q.keys[0] = nil
		q.keys = q.keys[1:]
	}
	return n
}

func (q *keyQueue) empty() bool { return len(q.keys) == 0 }

// keyLen is the length of the key at the start of b, or 0 if b ends before it does.
// carried says b's first key began in an earlier read.
func keyLen(b []byte, carried bool) int {
	if b[0] != 0x1b {
		if b[0] < utf8.RuneSelf {
			return 1
		}
		if !utf8.FullRune(b) {
			return 0
		}
		_, n := utf8.DecodeRune(b)
		return n
	}
	if len(b) < 2 {
		return 0
	}
	switch b[1] {
	case '[': // CSI: parameters 0x30–0x3f, intermediates 0x20–0x2f, a final byte 0x40–0x7e
		if len(b) >= 3 && b[2] == 'M' { // an X10 mouse report: three raw bytes follow
			if len(b) < 6 {
				return 0
			}
			for _, c := range b[3:6] {
				if c < 0x20 { // not a report: a control key follows CSI M
					return 3
				}
			}
			return 6
		}
		for i := 2; i < len(b); i++ {
			switch c := b[i]; {
			case c == 'q': // no key ends so: alt+[ and a q
				return i
			case c >= 0x40 && c <= 0x7e:
				return i + 1
			case c < 0x20 || c > 0x7e:
				return i // not a CSI after all: ESC [ and what came before, as they are
			}
		}
		return 0
	case 'O': // SS3: one more byte, a final one; anything else follows alt+O
		if len(b) < 3 {
			return 0
		}
		if c := b[2]; c < 0x40 || c > 0x7e || c == 'q' {
			return 2
		}
		return 3
	case ']', 'P', '_', '^', 'X': // OSC, DCS, APC, PM, SOS; or alt+], alt+P …
		return controlString(b, carried)
	case 0x1b: // ESC ESC: the first is a key of its own
		return 1
	}
	if r := b[1:]; r[0] >= utf8.RuneSelf { // alt and a rune
		if !utf8.FullRune(r) {
			return 0
		}
		_, n := utf8.DecodeRune(r)
		return 1 + n
	}
	return 2
}

// controlString is the length of the control string (OSC, DCS, APC, PM or SOS) at the start
// of b, up to its terminator (BEL or ST); 0 if it plausibly goes on in the next read; 2 if it
// is not one (then ESC and its byte are alt+key, and what follows is keys). A terminal's
// answer to a query comes in one write, whatever it holds; one cut across reads (carried, or
// b ending before its terminator) is taken only while it holds what such answers hold,
// printable ASCII, and never q: a student's alt+] and the keys after it are not a string.
// A C0 control byte (ctrl+c, Enter …) ends it as keys wherever it comes.
func controlString(b []byte, carried bool) int {
	plausible := true
	for i := 2; i < len(b); i++ {
		switch c := b[i]; {
		case c == 0x07: // BEL: OSC's terminator (xterm takes it for the others too)
			return i + 1
		case c == 0x1b:
			if i+1 == len(b) {
				break // ST may be cut: decided at the end
			}
			if b[i+1] == '\\' {
				return i + 2
			}
			return 2 // another key begins: this was alt+key
		case c < 0x20 || c == 0x7f:
			return 2
		case c == 'q' || c > 0x7e:
			plausible = false
			if carried {
				return 2
			}
		}
	}
	if !plausible {
		return 2
	}
	return 0
}
