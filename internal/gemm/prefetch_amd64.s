//go:build amd64 && !purego

#include "textflag.h"

// func prefetchRowsT1(p *float64, ld, rows int)
// Asks for the two cache lines at p, p+ld, …, p+(rows−1)·ld (ld in bytes) to be brought
// into L2 (PREFETCHT1). A prefetch never faults and changes no value.
TEXT ·prefetchRowsT1(SB), NOSPLIT, $0-24
	MOVQ  p+0(FP), SI
	MOVQ  ld+8(FP), DX
	MOVQ  rows+16(FP), CX
	TESTQ CX, CX
	JLE   done

loop:
	PREFETCHT1 (SI)
	PREFETCHT1 64(SI)
	ADDQ       DX, SI
	DECQ       CX
	JNZ        loop

done:
	RET
