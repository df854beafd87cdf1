package serve

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// Real clients against authorized_keys options (issue 10, item 8). The option semantics are
// sshd(8)'s AUTHORIZED_KEYS FILE FORMAT; keyopts_test.go checks the parsing and matching
// one case at a time.

// mustRefuse dials and fails the test if the key gets in.
func mustRefuse(t *testing.T, ts *testServer, ip, what string, k gossh.Signer) {
	t.Helper()
	if c, err := ts.dialFrom(ip, "u", gossh.PublicKeys(k)); err == nil {
		c.Close()
		t.Errorf("%s: logged in", what)
	}
}

// mustGetLab dials, opens a terminal and waits for the running lab.
func mustGetLab(t *testing.T, ts *testServer, ip, what string, k gossh.Signer) *term {
	t.Helper()
	c, err := ts.dialFrom(ip, "u", gossh.PublicKeys(k))
	if err != nil {
		t.Fatalf("%s: refused: %v", what, err)
	}
	t.Cleanup(func() { c.Close() })
	tm := openTerm(t, c, 100, 30)
	tm.waitFor("step ") // the header's step: a snapshot has arrived
	return tm
}

// A key past its expiry-time is refused at authentication, and the log says so; a key whose
// expiry is ahead gets in. (Whole days far from now: the system time zone cannot matter.)
func TestKeyExpiryTime(t *testing.T) {
	expired, later := newKey(t), newKey(t)
	ts := startServer(t, func(c *Config, _ string) {
		writeLines(t, c.AuthorizedKeysPath,
			keyLine(`expiry-time="20200101"`, expired),
			keyLine(`expiry-time="20991231"`, later))
	})
	mustRefuse(t, ts, "127.0.0.1", "expired key", expired)
	logs := ts.logs.String()
	if !regexp.MustCompile(`auth refused.*key expired`).MatchString(logs) ||
		!strings.Contains(logs, gossh.FingerprintSHA256(expired.PublicKey())) {
		t.Errorf("the refusal of the expired key is not logged with its fingerprint:\n%s", logs)
	}
	mustGetLab(t, ts, "127.0.0.1", "key expiring in 2099", later)
}

// restrict and no-pty forbid a terminal: the PTY request is refused, and the session says
// why and ends with status 1 (the lab needs a terminal). restrict,pty gives it back.
func TestKeyRestrictAndNoPTY(t *testing.T) {
	restricted, noPTY, ptyAgain := newKey(t), newKey(t), newKey(t)
	ts := startServer(t, func(c *Config, _ string) {
		writeLines(t, c.AuthorizedKeysPath,
			keyLine("restrict", restricted),
			keyLine("no-pty", noPTY),
			keyLine("restrict,pty", ptyAgain))
	})
	for name, k := range map[string]gossh.Signer{"restrict": restricted, "no-pty": noPTY} {
		c, err := ts.dialFrom("127.0.0.1", name, gossh.PublicKeys(k))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		defer c.Close()
		sess, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		if err := sess.RequestPty("xterm-256color", 30, 100, gossh.TerminalModes{}); err == nil {
			t.Errorf("%s: the PTY request was granted", name)
		}
		out := &syncBuffer{}
		sess.Stdout, sess.Stderr = out, out
		if err := sess.Shell(); err != nil {
			t.Fatalf("%s: shell: %v", name, err)
		}
		done := make(chan error, 1)
		go func() { done <- sess.Wait() }()
		select {
		case err := <-done:
			if st := exitStatus(err); st != 1 {
				t.Errorf("%s: exit status %d, want 1", name, st)
			}
		case <-time.After(hangGuard):
			t.Fatalf("%s: the session without a terminal still runs after %v: %q", name, hangGuard, out.String())
		}
		if !strings.Contains(out.String(), "may not open a terminal") {
			t.Errorf("%s: the session said %q, want why it ended", name, out.String())
		}
	}
	mustGetLab(t, ts, "127.0.0.1", "restrict,pty", ptyAgain)
}

// from= admits the key only from matching addresses: single addresses, CIDR, wildcards and
// negation (a negated match refuses whatever else matches). A refusal is logged with why.
func TestKeyFromOption(t *testing.T) {
	one, cidr, wild := newKey(t), newKey(t), newKey(t)
	ts := startServer(t, func(c *Config, _ string) {
		writeLines(t, c.AuthorizedKeysPath,
			keyLine(`from="127.0.0.2"`, one),
			keyLine(`from="!127.0.0.3,127.0.0.0/8"`, cidr),
			keyLine(`from="10.*,127.0.0.?"`, wild))
	})
	mustRefuse(t, ts, "127.0.0.1", `from="127.0.0.2" from 127.0.0.1`, one)
	if !regexp.MustCompile(`auth refused.*not from a permitted address.*remote=127\.0\.0\.1`).MatchString(ts.logs.String()) {
		t.Errorf("the from= refusal is not logged with the address:\n%s", ts.logs.String())
	}
	mustGetLab(t, ts, "127.0.0.2", `from="127.0.0.2" from 127.0.0.2`, one)
	mustRefuse(t, ts, "127.0.0.3", "negated address", cidr)
	mustGetLab(t, ts, "127.0.0.4", "CIDR", cidr)
	mustRefuse(t, ts, "127.0.0.10", "wildcard ? matches one character", wild)
	mustGetLab(t, ts, "127.0.0.5", "wildcard", wild)
}

// Options the server cannot honour make the key unusable (skipped at load, with a warning
// naming file:line and the option); the harmless ones are accepted.
func TestKeyUnsupportedOptionsRefused(t *testing.T) {
	refused := []string{`command="ls"`, `permitopen="localhost:22"`, `environment="A=b"`, `permitlisten="8080"`,
		`tunnel="1"`, `principals="alice"`, `cert-authority`, `no-such-option`, `verify-required`}
	keys := make([]gossh.Signer, len(refused))
	harmless := newKey(t)
	var path string
	ts := startServer(t, func(c *Config, _ string) {
		path = c.AuthorizedKeysPath
		lines := []string{"# refused"}
		for i, o := range refused {
			keys[i] = newKey(t)
			lines = append(lines, keyLine(o, keys[i]))
		}
		lines = append(lines, keyLine("no-port-forwarding,no-agent-forwarding,no-X11-forwarding,no-user-rc,pty", harmless))
		writeLines(t, c.AuthorizedKeysPath, lines...)
	})
	logs := ts.logs.String()
	for i, o := range refused {
		name, _, _ := strings.Cut(o, "=")
		at := fmt.Sprintf("%s:%d", path, i+2)
		if !regexp.MustCompile(`WARN.*option.*` + regexp.QuoteMeta(at) + `.*option=` + regexp.QuoteMeta(name)).MatchString(logs) {
			t.Errorf("%s: no warning naming %s and the option", o, at)
		}
		mustRefuse(t, ts, "127.0.0.1", o, keys[i])
	}
	mustGetLab(t, ts, "127.0.0.1", "harmless options", harmless)
}

// A classroom's controllers log in without being repeated in --authorized-keys, with their
// options honoured in the same way.
func TestControllersAreAuthorized(t *testing.T) {
	teacher, expired, restricted := newKey(t), newKey(t), newKey(t)
	ts := startServer(t, func(c *Config, dir string) {
		c.Classroom, c.ControllersPath = true, filepath.Join(dir, "controllers")
		writeLines(t, c.ControllersPath,
			keyLine("", teacher),
			keyLine(`expiry-time="20200101"`, expired),
			keyLine("restrict", restricted))
	})
	tc := mustGetLab(t, ts, "127.0.0.1", "teacher in the controllers file only", teacher)
	tc.waitFor("paused") // a classroom starts paused
	tc.send(" ")
	tc.waitFor("running") // it steers
	if strings.Contains(tc.text(), "read-only session") {
		t.Error("the controller's session is read-only")
	}
	mustRefuse(t, ts, "127.0.0.1", "expired controller", expired)
	c, err := ts.dialFrom("127.0.0.1", "ta", gossh.PublicKeys(restricted))
	if err != nil {
		t.Fatalf("restricted controller: %v", err)
	}
	defer c.Close()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm", 30, 100, gossh.TerminalModes{}); err == nil {
		t.Error("a controller with restrict was granted a PTY")
	}
	// The students' file still works as before.
	openTerm(t, ts.login("student", nil), 100, 30).waitFor("read-only session")
}
