package serve

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The web door's sessions over their life: past the HTTP server's timeouts, a client that
// stops reading, the drain on shutdown, the tokens file changing, generated links, TLS.

// A session outlives the HTTP server's deadlines (which stay on a hijacked connection
// unless lifted).
func TestWebSessionOutlivesHTTPTimeouts(t *testing.T) {
	ts := startServer(t, func(c *Config, dir string) {
		withWeb(c, dir, t, true, map[string]role{"alice": roleController})
		c.HandshakeTimeout, c.WriteTimeout = 500*time.Millisecond, time.Second
	})
	wt := ts.openWebAs("alice", 90, 28)
	wt.waitFor("running")
	<-time.After(3 * time.Second) // the HTTP deadlines must pass: what is tested, not a synchronisation
	wt.send(" ")
	wt.waitForNew("paused")
}

// A client that stops reading is cut off after the write timeout; the others go on
// (TestSlowClientCutOff).
func TestWebStalledClientCutOff(t *testing.T) {
	ts := startServer(t, func(c *Config, dir string) {
		withWeb(c, dir, t, true, map[string]role{"slow": roleWatcher, "alice": roleWatcher})
		c.hooks.writeTimeout = stalledOnly
		c.hooks.conn = smallBuffersFirst()
	})
	g := newGate()
	defer g.open()
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		nc.(*net.TCPConn).SetReadBuffer(4096)
		return &stallingConn{Conn: nc, gate: g}, nil
	}}
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+ts.webAddr+"/ws", &websocket.DialOptions{HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() }) // after the gate opens (deferred): its reader waits there
	// A frame of a 200×60 lab is larger than the client's default read limit (32 KiB): the
	// client would close with 1009 instead of stalling.
	c.SetReadLimit(16 << 20)
	slow := &webTerm{t: t, c: c, out: &syncBuffer{}, msgs: &syncBuffer{}, closed: make(chan websocket.StatusCode, 1)}
	slow.write(webMsg{Type: "hello", Token: testToken("slow"), Cols: 200, Rows: 60})
	go slow.read()
	slow.waitFor("running")
	other := ts.openWebAs("alice", 90, 28)
	other.waitFor("running")

	g.close()
	eventually(t, "the stalled client was not cut off", func() bool {
		return strings.Contains(ts.logs.String(), "write timeout")
	})
	slowEnded := regexp.MustCompile(`session end .*key="token slow"`)
	eventually(t, "the stalled session did not end", func() bool { return slowEnded.MatchString(ts.logs.String()) })
	n := other.frames()
	eventually(t, "the other session stopped receiving frames", func() bool { return other.frames() > n+3 })
}

// Shutdown tells web sessions too, and ends them with a normal close (TestShutdownDrains).
func TestWebShutdownDrains(t *testing.T) {
	ts := startServer(t, func(c *Config, dir string) {
		withWeb(c, dir, t, false, map[string]role{"alice": roleController})
		c.hooks.stopNotice = 500 * time.Millisecond
	})
	web := ts.openWebAs("alice", 90, 28)
	web.waitFor("running")
	ssh := openTerm(t, ts.login("alice", nil), 90, 28)
	ssh.waitFor("running")
	// A notice of 0.5 s, and no deadline but the hang guard: the sessions end by the notice
	// (the event Shutdown waits on), however slow the machine.
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if code := web.waitClosed(); code != websocket.StatusNormalClosure {
		t.Errorf("closed with %v", code)
	}
	ssh.waitExit()
	for _, want := range []string{"The server is stopping: this session ends in", "session ended: the server is stopping"} {
		if !strings.Contains(web.text(), want) || !strings.Contains(ssh.text(), want) {
			t.Errorf("not told %q", want)
		}
	}
	if _, _, err := ts.dialWS(nil); err == nil {
		t.Error("a WebSocket was accepted after Shutdown")
	}
}

// The tokens file is re-read when it changes; tokens never reach the log.
func TestWebTokensReload(t *testing.T) {
	ts := startServer(t, func(c *Config, dir string) {
		withWeb(c, dir, t, true, map[string]role{"alice": roleWatcher})
	})
	bob := ts.openWebAs("bob", 90, 28)
	bob.waitClosed()
	if !strings.Contains(bob.text(), "wrong or expired token") {
		t.Errorf("bob before his line: %q", bob.text())
	}
	writeTokens(t, ts.cfg.WebTokensPath, map[string]role{"alice": roleWatcher, "bob": roleWatcher})
	ts.openWebAs("bob", 90, 28).waitFor("running")
	writeTokens(t, ts.cfg.WebTokensPath, map[string]role{"bob": roleWatcher})
	alice := ts.openWebAs("alice", 90, 28)
	alice.waitClosed()
	if !strings.Contains(alice.text(), "wrong or expired token") {
		t.Errorf("alice after her line went: %q", alice.text())
	}
	for _, n := range []string{"alice", "bob"} {
		if strings.Contains(ts.logs.String(), testToken(n)) {
			t.Errorf("%s's token is in the log", n)
		}
	}
}

// Bad lines of a tokens file are errors naming file:line:col.
func TestReadTokensErrors(t *testing.T) {
	dir := t.TempDir()
	good := "abcdefghijklmnop0123"
	for _, c := range []struct{ file, want string }{
		{"# c\n\n" + good + " alice watcher\n", ""},
		{good + " alice\n", ":1:1: 2 fields, want 3"},
		{"  short alice watcher\n", ":1:3: the token is 5 characters long"},
		{good + " alice  teacher\n", ":1:29: role teacher: want controller or watcher"},
		{good + " alice watcher\n" + good + " bob controller\n", ":2:1: the same token as line 1"},
		{"abcdefghijklmnop01+/ alice watcher\n", ":1:1: the token has a character"},
		{good + " \x1b[31mred watcher\n", ":1:22: the name"},
	} {
		p := filepath.Join(dir, "tokens")
		if err := os.WriteFile(p, []byte(c.file), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := readTokens(p)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q: %v", c.file, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%q: %v, want %q", c.file, err, c.want)
		case err != nil && strings.ContainsRune(err.Error(), 0x1b):
			t.Errorf("an escape in the error: %q", err)
		}
	}
}

// Without a tokens file a classroom generates a controller's and a watcher's link; the
// token is in the fragment.
func TestWebGeneratedLinks(t *testing.T) {
	ts := startServer(t, func(c *Config, dir string) {
		c.Addr, c.WebAddr, c.Classroom = "", "127.0.0.1:0", true
	})
	links := ts.srv.WebLinks()
	if len(links) != 2 || links[0].Role != "controller" || links[1].Role != "watcher" {
		t.Fatalf("links %+v", links)
	}
	for _, l := range links {
		u, tok, ok := strings.Cut(l.URL, "/#t=")
		if !ok || strings.ContainsAny(u, "?#") || len(tok) < minTokenLen {
			t.Errorf("link %q: want BASE/#t=TOKEN", l.URL)
		}
		if strings.Contains(ts.logs.String(), tok) {
			t.Errorf("the %s token is in the log", l.Role)
		}
	}
	_, tok, _ := strings.Cut(links[0].URL, "#t=")
	ctl := ts.openWeb(tok, 100, 30)
	ctl.waitFor("paused")
	if !strings.Contains(ctl.msgs.String(), "joined: controller") {
		t.Errorf("the teacher's link: %q", ctl.msgs.String())
	}
}

// --tls-cert/--tls-key: the page and the WebSocket over TLS.
func TestWebTLS(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := selfSigned(t)
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cert, certPEM, 0o600)
	os.WriteFile(key, keyPEM, 0o600)
	ts := startServer(t, func(c *Config, dir string) {
		withWeb(c, dir, t, true, map[string]role{"alice": roleWatcher})
		c.TLSCert, c.TLSKey = cert, key
	})
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}}}
	r, err := hc.Get("https://" + ts.webAddr + "/")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 200 {
		t.Errorf("GET / over TLS: %s", r.Status)
	}
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "wss://"+ts.webAddr+"/ws", &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	wt := &webTerm{t: t, c: c, out: &syncBuffer{}, msgs: &syncBuffer{}, closed: make(chan websocket.StatusCode, 1)}
	wt.write(webMsg{Type: "hello", Token: testToken("alice"), Cols: 90, Rows: 28})
	go wt.read()
	wt.waitFor("running")
	if r, err := http.Get("http://" + ts.webAddr + "/"); err == nil {
		r.Body.Close()
		if r.StatusCode == 200 {
			t.Error("the page served in clear on the TLS port")
		}
	}
}

// selfSigned is a certificate for 127.0.0.1 and its key, PEM.
func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sharpflat test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}
