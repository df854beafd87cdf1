package serve

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// The authorized keys file is read with bounds (issue 10, item 10). At start-up a file that
// cannot be used as a whole is an error naming it (and the line): a line over 1 MB used to
// stop the server with "bufio.Scanner: token too long" and no line number.
func TestAuthorizedKeysBoundedAtStart(t *testing.T) {
	good := keyLine("", newKey(t))
	for _, c := range []struct {
		name  string
		write func(path string) error
		want  string // in New's error, after the path
	}{
		{"long line", func(path string) error {
			return os.WriteFile(path, []byte(good+"\n#"+strings.Repeat("x", 2<<20)+"\n"), 0o600)
		}, ":2: a line of 2097153 bytes, more than the 65536 allowed"},
		{"large file", func(path string) error { // short comment lines, 17 MiB of them
			return os.WriteFile(path, bytes.Repeat([]byte("# "+strings.Repeat("x", 1021)+"\n"), 17<<10), 0o600)
		}, " is 17825792 bytes, more than the 16777216 allowed"},
		{"fifo", func(path string) error { return syscall.Mkfifo(path, 0o600) }, " is not a regular file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := testConfig(t, dir, &syncBuffer{})
			if err := c.write(cfg.AuthorizedKeysPath); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				srv, err := New(cfg)
				if err == nil {
					srv.Close()
				}
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), cfg.AuthorizedKeysPath+c.want) {
					t.Errorf("New: %v, want an error saying %q", err, cfg.AuthorizedKeysPath+c.want)
				}
			case <-time.After(hangGuard):
				t.Fatalf("New still runs after %v", hangGuard)
			}
		})
	}
}

// At a reload, a file that cannot be used as a whole is logged (naming file:line) and the
// keys read before stay in force; once it is fixed, it is read again.
func TestAuthorizedKeysReloadKeepsKeysOnError(t *testing.T) {
	ts := startServer(t, nil)
	newcomer := newKey(t)
	writeLines(t, ts.cfg.AuthorizedKeysPath, keyLine("", ts.user), keyLine("", newcomer), "#"+strings.Repeat("x", 2<<20))
	c, err := ts.dialFrom("127.0.0.1", "alice", gossh.PublicKeys(ts.user))
	if err != nil {
		t.Fatalf("a key read before was refused after a bad reload: %v", err)
	}
	c.Close()
	if c, err := ts.dialFrom("127.0.0.1", "bob", gossh.PublicKeys(newcomer)); err == nil {
		c.Close()
		t.Error("a key of the file that was not loaded logged in")
	}
	if !regexp.MustCompile(`ERRO.*keys not reloaded.*authorized_keys:3: a line of`).MatchString(ts.logs.String()) {
		t.Errorf("the bad reload is not logged with file:line:\n%s", ts.logs.String())
	}
	writeLines(t, ts.cfg.AuthorizedKeysPath, keyLine("", newcomer))
	c, err = ts.dialFrom("127.0.0.1", "bob", gossh.PublicKeys(newcomer))
	if err != nil {
		t.Fatalf("the fixed file was not read: %v", err)
	}
	c.Close()
}

// A file without one usable key starts a server nobody can enter: it says so, loudly.
func TestNoUsableKeysWarns(t *testing.T) {
	for name, content := range map[string]string{
		"empty":    "",
		"unusable": "# only keys this server cannot honour\n" + keyLine(`command="ls"`, newKey(t)) + "\nnot a key\n",
	} {
		t.Run(name, func(t *testing.T) {
			ts := startServer(t, func(c *Config, _ string) {
				if err := os.WriteFile(c.AuthorizedKeysPath, []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			})
			want := "WARN no usable keys in " + ts.cfg.AuthorizedKeysPath + ": nobody can log in"
			if !strings.Contains(ts.logs.String(), want) {
				t.Errorf("no %q in the log:\n%s", want, ts.logs.String())
			}
		})
	}
	// A classroom whose controllers have keys is not empty: it says who can log in.
	ts := startServer(t, func(c *Config, dir string) {
		c.Classroom, c.ControllersPath = true, filepath.Join(dir, "controllers")
		writeLines(t, c.ControllersPath, keyLine("", newKey(t)))
		writeLines(t, c.AuthorizedKeysPath, "# no students yet")
	})
	if !strings.Contains(ts.logs.String(), "only the controllers can log in") {
		t.Errorf("the classroom without students' keys is not reported:\n%s", ts.logs.String())
	}
}
