package serve

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// The host key is generated once with mode 0600 and the server presents the same key after
// a restart.
func TestHostKeyStableAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state", "ssh_host_ed25519_key")
	seen := func() string {
		ts := startServer(t, func(c *Config, _ string) { c.HostKeyPath = path })
		var got gossh.PublicKey
		c, err := gossh.Dial("tcp", ts.addr, &gossh.ClientConfig{
			User: "alice", Auth: []gossh.AuthMethod{gossh.PublicKeys(ts.user)},
			HostKeyCallback: func(_ string, _ net.Addr, k gossh.PublicKey) error { got = k; return nil },
		})
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		c.Close()
		ts.srv.Close()
		return gossh.FingerprintSHA256(got)
	}
	first := seen()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o600 {
		t.Errorf("host key mode %04o, want 0600", m)
	}
	if di, _ := os.Stat(filepath.Dir(path)); di.Mode().Perm()&0o077 != 0 {
		t.Errorf("host key directory mode %04o: open to others", di.Mode().Perm())
	}
	if second := seen(); second != first {
		t.Errorf("host key changed across a restart: %s, then %s", first, second)
	}
}

// A host key that others may read is refused, with the fix in the message.
func TestHostKeyLoosePermissionsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	if err := createHostKey(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := loadHostKey(path)
	if err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("loose host key: err = %v, want a refusal naming chmod 600", err)
	}
}

// hangGuard turns a hang into a failure; nothing here should come near it.
const hangGuard = 2 * time.Minute

// The host key is read with a bound: a device, a FIFO or a large file fails at once with an
// error naming the path (/dev/zero was read without end: 688 MB in 8 s).
func TestHostKeyBoundedRead(t *testing.T) {
	dir := t.TempDir()
	large := filepath.Join(dir, "large")
	if err := os.WriteFile(large, bytes.Repeat([]byte("x"), 100<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, path, want string }{
		{"fifo", fifo, "not a regular file"},
		{"large", large, "more than the 65536 allowed"},
		{"dev-zero", "/dev/zero", "not a regular file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() { _, _, err := loadHostKey(c.path); done <- err }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), c.path) || !strings.Contains(err.Error(), c.want) {
					t.Errorf("err = %v, want one naming %s and saying %q", err, c.path, c.want)
				}
			case <-time.After(hangGuard):
				t.Fatalf("loading the host key from %s still runs after %v", c.path, hangGuard)
			}
		})
	}
}
