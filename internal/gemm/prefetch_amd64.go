//go:build amd64 && !purego

package gemm

// prefetchRowsT1 asks for two cache lines from each of rows rows, the first at p, the next
// ld bytes on, to be brought into L2 (prefetch_amd64.s).
//
//go:noescape
func prefetchRowsT1(p *float64, ld, rows int)

// prefetchRows asks for the first 16 entries of rows rows, ld apart, from v[0] on. The rows
// past the first need not lie in v: a prefetch reads nothing and never faults.
func prefetchRows(v []float64, ld, rows int) { prefetchRowsT1(&v[0], 8*ld, rows) }
