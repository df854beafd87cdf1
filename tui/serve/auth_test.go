package serve

import (
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"

	"sharpflat/internal/safetext"
)

// An authorized key gets the lab; q ends the session with status 0.
func TestAuthorizedKeyGetsTheLab(t *testing.T) {
	ts := startServer(t, nil)
	tm := openTerm(t, ts.login("alice", nil), 100, 30)
	tm.waitFor("sharpflat")
	tm.waitFor("running")
	if !strings.Contains(tm.out.String(), "\x1b[K") {
		t.Error("no line is erased to its end: the renderer does not know the terminal's width")
	}
	tm.send("w") // would write a run on the server's disk
	tm.waitFor("w is off over SSH")
	tm.send("q")
	if err := tm.waitExit(); err != nil {
		t.Fatalf("exit: %v", err)
	}
	if !strings.Contains(ts.logs.String(), gossh.FingerprintSHA256(ts.user.PublicKey())) {
		t.Errorf("the log does not name the key that logged in")
	}
}

// A key that is not in the file is refused.
func TestAuthUnknownKeyRefused(t *testing.T) {
	ts := startServer(t, nil)
	if c, err := ts.dial("mallory", gossh.PublicKeys(newKey(t))); err == nil {
		c.Close()
		t.Fatal("an unknown key logged in")
	}
}

// Passwords, keyboard-interactive and "none" are refused, and a password never reaches the
// logs.
func TestAuthPasswordNoneKeyboardRefused(t *testing.T) {
	ts := startServer(t, nil)
	const secret = "hunter2-correct-horse"
	for name, auth := range map[string][]gossh.AuthMethod{
		"password": {gossh.Password(secret)},
		"none":     nil, // the client sends only "none"
		"keyboard-interactive": {gossh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) {
			return []string{secret}, nil
		})},
	} {
		if c, err := ts.dial("eve", auth...); err == nil {
			c.Close()
			t.Errorf("%s: logged in", name)
		}
	}
	if strings.Contains(ts.logs.String(), secret) {
		t.Errorf("a password reached the log")
	}
}

// failingSigner offers a public key it cannot sign with: the client's side of "offer an
// authorized key without proving it". The client only tries to sign after the server has
// answered the offer with PK_OK, so asked records that the server did.
type failingSigner struct {
	pub   gossh.PublicKey
	asked *bool
}

func (f failingSigner) PublicKey() gossh.PublicKey { return f.pub }
func (f failingSigner) Sign(io.Reader, []byte) (*gossh.Signature, error) {
	*f.asked = true
	return nil, errors.New("no private key")
}

// impostorSigner claims one public key and signs with another's private key.
type impostorSigner struct {
	pub  gossh.PublicKey
	real gossh.Signer
}

func (s impostorSigner) PublicKey() gossh.PublicKey { return s.pub }
func (s impostorSigner) Sign(r io.Reader, data []byte) (*gossh.Signature, error) {
	return s.real.Sign(r, data)
}

// The identity comes from the key the client proved, never from one it offered.
func TestAuthOfferedKeyNotProven(t *testing.T) {
	t.Run("offered only", func(t *testing.T) {
		ts := startServer(t, nil)
		// The server answers the query for the authorized key (PK_OK) but the client cannot
		// sign, then falls back to its own unauthorized key: refused.
		var asked bool
		_, err := ts.dialSequence("mallory", []gossh.AuthMethod{
			gossh.PublicKeys(failingSigner{ts.user.PublicKey(), &asked}),
			gossh.PublicKeys(newKey(t))})
		if err == nil {
			t.Fatal("logged in with an offered but unproven key")
		}
		if !asked {
			t.Error("the server did not accept the offer (the case was not exercised)")
		}
	})
	t.Run("signed by another key", func(t *testing.T) {
		ts := startServer(t, nil)
		_, err := ts.dial("mallory", gossh.PublicKeys(impostorSigner{pub: ts.user.PublicKey(), real: newKey(t)}))
		if err == nil {
			t.Fatal("logged in with a signature by another key")
		}
	})
	t.Run("open classroom: offered controller key, proven own key", func(t *testing.T) {
		teacher, student := newKey(t), newKey(t)
		ts := startServer(t, func(c *Config, dir string) {
			c.Open, c.AuthorizedKeysPath, c.Classroom = true, "", true
			c.ControllersPath = filepath.Join(dir, "controllers")
			writeKeys(t, c.ControllersPath, teacher.PublicKey())
		})
		// The student offers the teacher's public key (query accepted: any key may log in
		// with --open), cannot sign with it, and logs in with their own key.
		var asked bool
		c, err := ts.dialSequence("student", []gossh.AuthMethod{
			gossh.PublicKeys(failingSigner{teacher.PublicKey(), &asked}),
			gossh.PublicKeys(student)})
		if err != nil {
			t.Fatalf("login: %v", err)
		}
		if !asked {
			t.Error("the server did not accept the offer (the case was not exercised)")
		}
		defer c.Close()
		tm := openTerm(t, c, 100, 30)
		tm.waitFor("read-only session")
		tm.send(" ")
		tm.waitFor("steering keys are disabled")
		logs := ts.logs.String()
		if !strings.Contains(logs, gossh.FingerprintSHA256(student.PublicKey())) || !strings.Contains(logs, "role=viewer") {
			t.Errorf("the session is not the student's viewer session:\n%s", logs)
		}
		if strings.Contains(logs, "role=controller") {
			t.Errorf("a controller session was started")
		}
	})
}

// Failed attempts beyond MaxAuthTries end the connection.
func TestAuthMaxAuthTries(t *testing.T) {
	ts := startServer(t, func(c *Config, _ string) { c.MaxAuthTries = 2 })
	tries := 0
	_, err := ts.dial("eve", gossh.RetryableAuthMethod(gossh.PasswordCallback(func() (string, error) {
		tries++
		return "guess", nil
	}), 10))
	if err == nil {
		t.Fatal("logged in")
	}
	if tries > 2 {
		t.Errorf("the server let the client try %d passwords, want ≤ 2", tries)
	}
}

// The authorized keys file is re-read when it changes: a new key gets in, a removed one
// no longer does.
func TestAuthorizedKeysReload(t *testing.T) {
	ts := startServer(t, nil)
	newcomer := newKey(t)
	if c, err := ts.dial("bob", gossh.PublicKeys(newcomer)); err == nil {
		c.Close()
		t.Fatal("a key not yet in the file logged in")
	}
	writeKeys(t, ts.cfg.AuthorizedKeysPath, newcomer.PublicKey())
	c, err := ts.dial("bob", gossh.PublicKeys(newcomer))
	if err != nil {
		t.Fatalf("the key added to the file was refused: %v", err)
	}
	c.Close()
	if c, err := ts.dial("alice", gossh.PublicKeys(ts.user)); err == nil {
		c.Close()
		t.Fatal("a key removed from the file still logged in")
	}
}

// With --open a client without a key gets in anonymously (keyboard-interactive, no
// prompts); "none" and passwords stay refused.
func TestOpenAnonymous(t *testing.T) {
	ts := startServer(t, func(c *Config, _ string) { c.Open, c.AuthorizedKeysPath = true, "" })
	if c, err := ts.dial("anon"); err == nil {
		c.Close()
		t.Error(`"none" logged in`)
	}
	if c, err := ts.dial("anon", gossh.Password("x")); err == nil {
		c.Close()
		t.Error("a password logged in")
	}
	prompts := -1
	c, err := ts.dial("anon", gossh.KeyboardInteractive(func(_, _ string, q []string, _ []bool) ([]string, error) {
		prompts = len(q)
		return nil, nil
	}))
	if err != nil {
		t.Fatalf("anonymous login: %v", err)
	}
	defer c.Close()
	if prompts > 0 {
		t.Errorf("anonymous login asked %d questions", prompts)
	}
	tm := openTerm(t, c, 100, 30)
	tm.waitFor("running")
	if !strings.Contains(ts.logs.String(), "open: anyone") {
		t.Errorf("--open did not log a warning")
	}
}

// Text from a peer or a key file reaches the log escaped (issue 25, item 2): a key's
// comment, an option the server refuses, a user name, a client's version string and its
// terminal name, each carrying one of safetext.Hostile's sequences, logged on the way in
// (auth ok with the comment, auth refused by from= with its reason, session start with the
// terminal), and none of them executable in the log.
func TestPeerTextEscapedInLogs(t *testing.T) {
	hostile := safetext.Hostile()
	keys := make([]gossh.Signer, len(hostile))
	far := newKey(t) // listed only from an address the test never uses
	ts := startServer(t, func(c *Config, _ string) {
		var lines []string
		for i, h := range hostile {
			keys[i] = newKey(t)
			lines = append(lines, keyLine("", keys[i])+" student"+h+"@laptop",
				keyLine(`environment="X=`+h+`"`, newKey(t))+" skipped"+h)
		}
		lines = append(lines, keyLine(`from="192.0.2.1"`, far)+" far"+hostile[0])
		writeLines(t, c.AuthorizedKeysPath, lines...)
	})
	for i, h := range hostile {
		// x/crypto's client sends no byte below 0x20 in its version line (the server reads
		// any: TestLogUser covers those); C1, DEL, bidi and invalid bytes it sends.
		version := "SSH-2.0-evil" + strings.Map(func(r rune) rune {
			if r < 0x20 {
				return '_'
			}
			return r
		}, h)
		c, err := gossh.Dial("tcp", ts.addr, &gossh.ClientConfig{
			User: "u" + h, ClientVersion: version, Auth: []gossh.AuthMethod{gossh.PublicKeys(keys[i])},
			HostKeyCallback: gossh.FixedHostKey(ts.hostKey)})
		if err != nil {
			t.Fatalf("login %d: %v", i, err)
		}
		sess, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		if err := sess.RequestPty("xterm"+h, 30, 100, gossh.TerminalModes{}); err != nil {
			t.Fatal(err)
		}
		if err := sess.Shell(); err != nil {
			t.Fatal(err)
		}
		eventually(t, "no session start", func() bool { return strings.Count(ts.logs.String(), "session start") == i+1 })
		c.Close()
	}
	if _, err := ts.dial("far"+hostile[1], gossh.PublicKeys(far)); err == nil {
		t.Error("a from= key was let in from elsewhere")
	}
	logs := ts.logs.String()
	for _, want := range []string{`student\x1b[2J\x1b[H@laptop`, `SSH-2.0-evil\u009d0;t\u009c`, `skipped\u009b2J`, `xterm\u202egnp.exe`, `far\x1b[2J`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log does not show %s", want)
		}
	}
	if safetext.Executable(logs) {
		for _, l := range strings.Split(logs, "\n") {
			if safetext.Executable(l) {
				t.Errorf("an executable sequence in the log: %q", l)
			}
		}
	}
}
