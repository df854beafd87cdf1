//go:build !amd64 || purego

package gemm

// prefetchRows does nothing in the portable build.
func prefetchRows(v []float64, ld, rows int) {}
