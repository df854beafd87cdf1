package lab

import (
	"os"
	"testing"
)

// longEnv names the variable that turns on the long numerical checks: go test ./... stays
// within a few minutes on two cores, and .ci/run runs these in a step of their own
// (SHARPFLAT_LONG=1 go test ./lab/ …), as README.md says.
const longEnv = "SHARPFLAT_LONG"

// longCheck skips t unless the long checks are on.
func longCheck(t *testing.T) {
	t.Helper()
	if os.Getenv(longEnv) == "" {
		t.Skipf("a long numerical check (about a minute on two cores): %s=1 runs it; .ci/run does", longEnv)
	}
}
