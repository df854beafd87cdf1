package serve

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	gossh "golang.org/x/crypto/ssh"
)

// loadHostKey reads the host key at path, or generates an ed25519 key there if the file does
// not exist: created with O_EXCL and mode 0600 (never overwriting a key another process just
// wrote), in a directory created 0700 if missing. A key that group or others may read is
// refused, as OpenSSH refuses it: a leaked host key lets anyone impersonate the server.
//
// The file must be a regular file of at most maxHostKeyBytes: a path given by mistake
// (/dev/zero, a FIFO, a large file) fails at once, naming it.
func loadHostKey(path string) (signer gossh.Signer, created bool, err error) {
	b, fi, err := readBounded(path, maxHostKeyBytes)
	if errors.Is(err, fs.ErrNotExist) {
		if err = createHostKey(path); err != nil {
			return nil, false, err
		}
		created = true
		b, fi, err = readBounded(path, maxHostKeyBytes)
	}
	if err != nil {
		return nil, false, fmt.Errorf("host key: %w", err)
	}
	if m := fi.Mode().Perm(); m&0o077 != 0 {
		return nil, false, fmt.Errorf("host key %s has mode %04o: group or others can read it; chmod 600 %s (or remove it to generate a new one)", path, m, path)
	}
	signer, err = gossh.ParsePrivateKey(b)
	if err != nil {
		var pe *gossh.PassphraseMissingError
		if errors.As(err, &pe) {
			return nil, false, fmt.Errorf("host key %s is encrypted; use an unencrypted key (the server starts unattended)", path)
		}
		return nil, false, fmt.Errorf("host key %s: %w", path, err)
	}
	return signer, created, nil
}

// createHostKey writes a new ed25519 key in OpenSSH format to path, unless another process
// created the file first (then that one is used).
func createHostKey(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("host key directory: %w", err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	blk, err := gossh.MarshalPrivateKey(priv, "sharpflat host key")
	if err != nil {
		return err
	}
	b := pem.EncodeToMemory(blk)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil // another process created it first: use that one
	}
	if err != nil {
		return fmt.Errorf("host key: %w", err)
	}
	_, werr := f.Write(b)
	if serr := f.Sync(); werr == nil {
		werr = serr
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(path)
		return fmt.Errorf("host key: %w", werr)
	}
	return nil
}
