package train

// A run directory's resume checkpoint names the configuration it belongs to by a
// fingerprint, so that `run --resume` can refuse a checkpoint copied from another run, or a
// config.json edited since (see lab/rundir/resume.go).

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Fingerprint is the SHA-256 (hex) of the settings that determine a run's trajectory: every
// setting of Fields(), written "name=value\n" in their order with the values as their flags
// take them (floats in the shortest form that reads back exactly). The preset's name is
// only a label (a config.json holds every setting) and is left out, and so is a setting added
// later (omitempty in config.json) at its zero value, so that adding one does not change the
// fingerprint of any run written before it.
func (c *Config) Fingerprint() string {
	var b strings.Builder
	for _, f := range fields {
		if f.omitEmpty && f.value(c).IsZero() {
			continue
		}
		fmt.Fprintf(&b, "%s=%s\n", f.Name, f.Get(c))
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// ConfigDiff returns the settings in which a and b differ, in Fields() order (none when
// their fingerprints are equal); f.Get words each side.
func ConfigDiff(a, b *Config) []Field {
	var d []Field
	for _, f := range fields {
		if f.Get(a) != f.Get(b) {
			d = append(d, f)
		}
	}
	return d
}
