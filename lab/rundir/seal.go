package rundir

// A file that a later run trusts (the resume checkpoint) carries a SHA-256 of its content at
// its end, so that one flipped bit, a torn copy or a file cut short is refused instead of
// silently changing the run that reads it. SHA-256 rather than a CRC: the config fingerprint
// is one already, and at a few hundred MB/s it costs nothing beside a training step.

import (
	"bytes"
	"crypto/sha256"
	"errors"
)

// ErrDamaged is wrapped by the errors of files whose checksum does not match.
var ErrDamaged = errors.New("damaged: its checksum does not match its content")

// Seal returns data followed by its SHA-256 (32 bytes).
func Seal(data []byte) []byte {
	sum := sha256.Sum256(data)
	return append(data, sum[:]...)
}

// Unseal checks what Seal wrote and returns the data without its checksum, or ErrDamaged.
func Unseal(sealed []byte) ([]byte, error) {
	if len(sealed) < sha256.Size {
		return nil, ErrDamaged
	}
	data, sum := sealed[:len(sealed)-sha256.Size], sealed[len(sealed)-sha256.Size:]
	if want := sha256.Sum256(data); !bytes.Equal(sum, want[:]) {
		return nil, ErrDamaged
	}
	return data, nil
}
