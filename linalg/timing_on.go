//go:build sftiming

package linalg

// timing is set by -tags sftiming (timing.go).
const timing = true
