package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// The web door's protocol, over one WebSocket (/ws):
//
//	client → server, text messages, JSON, each at most maxWebMessage bytes:
//	  {"type":"hello","token":T,"cols":C,"rows":R}  first, within HandshakeTimeout
//	  {"type":"keys","data":S}                       bytes as a terminal sends them (UTF-8)
//	  {"type":"size","cols":C,"rows":R}              the terminal was resized
//	server → client:
//	  binary messages                                frames: bytes for the terminal to draw
//	  {"type":"joined","name":N,"role":R}            text: the token was accepted
//	  {"type":"error","message":M}                   text: why the server is closing
//
// The server closes with 1000 when the session ended (its last words are in the frames),
// 1008 for a wrong token or a bad message, 1003 for a binary message, 1009 for a message
// over the limit, 1013 when the server is full or stopping. Anything else than the above
// is a bad message: the client is told so and closed.

// maxWebMessage bounds a client's message: a paste longer than that is not a key press
// (keyqueue.go drops long pastes anyway).
const maxWebMessage = 64 << 10

// webMsg is any message of the protocol.
type webMsg struct {
	Type    string `json:"type"`
	Token   string `json:"token,omitempty"`
	Data    string `json:"data,omitempty"`
	Cols    int    `json:"cols,omitempty"`
	Rows    int    `json:"rows,omitempty"`
	Name    string `json:"name,omitempty"`
	Role    string `json:"role,omitempty"`
	Message string `json:"message,omitempty"`
}

// badMessage is a client's message that breaks the protocol.
type badMessage struct {
	code websocket.StatusCode
	what string
}

func (e *badMessage) Error() string { return e.what }

// readWebMsg reads one message of the protocol.
func readWebMsg(ctx context.Context, c *websocket.Conn) (webMsg, error) {
	typ, b, err := c.Read(ctx)
	if err != nil {
		return webMsg{}, err
	}
	if typ != websocket.MessageText {
		return webMsg{}, &badMessage{websocket.StatusUnsupportedData, "a binary message: this server takes only text (JSON) messages"}
	}
	var m webMsg
	if err := json.Unmarshal(b, &m); err != nil {
		return webMsg{}, &badMessage{websocket.StatusPolicyViolation, "a message that is not the protocol's JSON"}
	}
	switch m.Type {
	case "hello", "keys", "size":
	default:
		return webMsg{}, &badMessage{websocket.StatusPolicyViolation, "a message of an unknown type"}
	}
	return m, nil
}

// sendWebMsg writes one text message.
func sendWebMsg(ctx context.Context, c *websocket.Conn, m webMsg) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("web message: %w", err)
	}
	return c.Write(ctx, websocket.MessageText, b)
}

// webPeer is a WebSocket as the session core sees it. Its reader goroutine turns keys into
// a byte stream (a pipe the core's input pump reads) and sizes into resizes.
type webPeer struct {
	c            *websocket.Conn
	writeTimeout time.Duration // of its protocol messages (frames: the core's deadlineWriter)
	log          func(msg string, kv ...any)
	first        window
	sizes        chan window
	pr           *io.PipeReader
	pw           *io.PipeWriter
	goneCh       chan struct{}
	ctx          context.Context // the connection's life
	cancel       context.CancelFunc

	mu     sync.Mutex
	code   websocket.StatusCode // how to close once the session has ended
	reason string
}

func newWebPeer(c *websocket.Conn, first window, writeTimeout time.Duration, log func(string, ...any)) *webPeer {
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	p := &webPeer{c: c, writeTimeout: writeTimeout, log: log, first: first, sizes: make(chan window, 1), pr: pr, pw: pw,
		goneCh: make(chan struct{}), ctx: ctx, cancel: cancel, code: websocket.StatusNormalClosure, reason: "session ended"}
	go p.readLoop()
	return p
}

// readLoop reads the client's messages until the connection fails or closes.
func (p *webPeer) readLoop() {
	defer close(p.goneCh)
	for {
		m, err := readWebMsg(p.ctx, p.c)
		var bad *badMessage
		switch {
		case errors.As(err, &bad):
			p.log("closing a web client: "+bad.what, "code", int(bad.code))
			ctx, cancel := context.WithTimeout(p.ctx, p.writeTimeout)
			_ = sendWebMsg(ctx, p.c, webMsg{Type: "error", Message: "closed: the server received " + bad.what})
			cancel()
			p.setClose(bad.code, "bad message")
			p.pw.CloseWithError(io.EOF)
			return
		case errors.Is(err, websocket.ErrMessageTooBig): // our read limit (a client's own 1009 close is not)
			p.log("closing a web client: a message over the limit", "max", maxWebMessage)
			p.pw.CloseWithError(io.EOF)
			return
		case err != nil:
			p.pw.CloseWithError(io.EOF)
			return
		}
		switch m.Type {
		case "keys":
			if _, err := io.WriteString(p.pw, m.Data); err != nil {
				return // the session has ended
			}
		case "size":
			offer(p.sizes, window{m.Cols, m.Rows})
		case "hello": // once is enough; later ones change nothing
		}
	}
}

func (p *webPeer) Read(b []byte) (int, error) { return p.pr.Read(b) }

func (p *webPeer) Write(b []byte) (int, error) {
	if err := p.c.Write(p.ctx, websocket.MessageBinary, b); err != nil {
		return 0, err
	}
	return len(b), nil
}

func (p *webPeer) term() string { return "xterm-256color" }

// environ: xterm.js draws 24-bit colour.
func (p *webPeer) environ() []string      { return []string{"COLORTERM=truecolor"} }
func (p *webPeer) size() window           { return p.first }
func (p *webPeer) resized() <-chan window { return p.sizes }
func (p *webPeer) gone() <-chan struct{}  { return p.goneCh }
func (p *webPeer) cut()                   { p.cancel(); _ = p.c.CloseNow() }

func (p *webPeer) exit(status int) {
	_ = p.pr.Close() // the reader's pending keys have nowhere to go
	if status != 0 {
		p.setClose(websocket.StatusTryAgainLater, "session refused")
	}
}

func (p *webPeer) refuse(msg string) {
	ctx, cancel := context.WithTimeout(p.ctx, p.writeTimeout)
	defer cancel()
	_ = sendWebMsg(ctx, p.c, webMsg{Type: "error", Message: msg})
	p.exit(1)
}

func (p *webPeer) setClose(code websocket.StatusCode, reason string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.code == websocket.StatusNormalClosure {
		p.code, p.reason = code, reason
	}
}

// close ends the connection after the session: the close handshake, bounded by the
// library (5 s), then the reader's end.
func (p *webPeer) close() {
	p.mu.Lock()
	code, reason := p.code, p.reason
	p.mu.Unlock()
	_ = p.c.Close(code, reason)
	p.cancel()
	<-p.goneCh
}
