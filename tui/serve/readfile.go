package serve

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// Bounds on the files the server reads: a path given by mistake (/dev/zero, a log, a FIFO)
// must fail at once with an error naming it, not fill memory or block.
const (
	maxHostKeyBytes  = 64 << 10 // an OpenSSH private key is at most a few KiB (RSA 16384: ~13 KiB)
	maxKeysFileBytes = 16 << 20 // an authorized_keys file: some 30,000 RSA-4096 keys
	maxKeyLineBytes  = 64 << 10 // one line: a key (RSA 16384: ~2.8 KiB) with its options
)

// readBounded reads the regular file at path, refusing anything else and anything longer
// than limit bytes. It opens without blocking (a FIFO would otherwise wait for a writer)
// and checks the file it opened, not the path. Errors name the path; a missing file's
// error satisfies errors.Is(err, fs.ErrNotExist).
func readBounded(path string, limit int64) ([]byte, os.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s is not a regular file (%v)", path, fi.Mode().Type())
	}
	if fi.Size() > limit {
		return nil, nil, fmt.Errorf("%s is %d bytes, more than the %d allowed", path, fi.Size(), limit)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(b)) > limit { // it grew while being read
		return nil, nil, fmt.Errorf("%s is more than the %d bytes allowed", path, limit)
	}
	return b, fi, nil
}
