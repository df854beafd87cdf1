//go:build amd64 && !purego

#include "textflag.h"

// TRANSPOSE8 transposes the 8×8 block in Z0–Z7 (row i in Zi) into Z16–Z23 (column j in
// Z(16+j)), through Z8–Z15: pairs within 128-bit lanes, then 128-bit lanes twice.
#define TRANSPOSE8 \
	VUNPCKLPD Z1, Z0, Z8 \
	VUNPCKHPD Z1, Z0, Z9 \
	VUNPCKLPD Z3, Z2, Z10 \
	VUNPCKHPD Z3, Z2, Z11 \
	VUNPCKLPD Z5, Z4, Z12 \
	VUNPCKHPD Z5, Z4, Z13 \
	VUNPCKLPD Z7, Z6, Z14 \
	VUNPCKHPD Z7, Z6, Z15 \
	VSHUFF64X2 $0x88, Z10, Z8, Z0 \
	VSHUFF64X2 $0xdd, Z10, Z8, Z1 \
	VSHUFF64X2 $0x88, Z11, Z9, Z2 \
	VSHUFF64X2 $0xdd, Z11, Z9, Z3 \
	VSHUFF64X2 $0x88, Z14, Z12, Z4 \
	VSHUFF64X2 $0xdd, Z14, Z12, Z5 \
	VSHUFF64X2 $0x88, Z15, Z13, Z6 \
	VSHUFF64X2 $0xdd, Z15, Z13, Z7 \
	VSHUFF64X2 $0x88, Z4, Z0, Z16 \
	VSHUFF64X2 $0xdd, Z4, Z0, Z20 \
	VSHUFF64X2 $0x88, Z5, Z1, Z18 \
	VSHUFF64X2 $0xdd, Z5, Z1, Z22 \
	VSHUFF64X2 $0x88, Z6, Z2, Z17 \
	VSHUFF64X2 $0xdd, Z6, Z2, Z21 \
	VSHUFF64X2 $0x88, Z7, Z3, Z19 \
	VSHUFF64X2 $0xdd, Z7, Z3, Z23

// LOAD8 loads eight consecutive entries from rows 0–7 of a block whose row 0 is at base
// (rows R9 bytes apart; R10 = base + 3·R9, R11 = base + 6·R9), at byte offset off.
#define LOAD8(base, b3, b6, off) \
	VMOVUPD off(base), Z0 \
	VMOVUPD off(base)(R9*1), Z1 \
	VMOVUPD off(base)(R9*2), Z2 \
	VMOVUPD off(b3), Z3 \
	VMOVUPD off(b3)(R9*1), Z4 \
	VMOVUPD off(b3)(R9*2), Z5 \
	VMOVUPD off(b6), Z6 \
	VMOVUPD off(b6)(R9*1), Z7

// STORE8 stores Z16–Z23 as eight rows of 16 entries, at byte offset off in each.
#define STORE8(off) \
	VMOVUPD Z16, off(DI) \
	VMOVUPD Z17, off+128(DI) \
	VMOVUPD Z18, off+256(DI) \
	VMOVUPD Z19, off+384(DI) \
	VMOVUPD Z20, off+512(DI) \
	VMOVUPD Z21, off+640(DI) \
	VMOVUPD Z22, off+768(DI) \
	VMOVUPD Z23, off+896(DI)

// func packT16AVX512(dst *float64, b *float64, ldb int, idx *int64, kb int, mask uint64)
//
// dst[16p + j] = b[j·ldb + p] for p < kb and the columns j set in mask, 0 for the others
// (idx[j] = j·ldb). A full panel (mask 0xffff) goes eight steps of p at a time through two
// 8×8 transposes; the rest, and partial panels, through two gathers of eight a step.
TEXT ·packT16AVX512(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ b+8(FP), SI
	MOVQ ldb+16(FP), R9
	SHLQ $3, R9
	MOVQ kb+32(FP), CX
	MOVQ mask+40(FP), DX
	CMPQ DX, $0xffff
	JNE  gather

	LEAQ (SI)(R9*2), R10
	ADDQ R9, R10 // row 3
	LEAQ (R10)(R9*2), R11
	ADDQ R9, R11 // row 6
	LEAQ (R11)(R9*2), R12 // row 8
	LEAQ (R12)(R9*2), R13
	ADDQ R9, R13 // row 11
	LEAQ (R13)(R9*2), BX
	ADDQ R9, BX // row 14

block:
	CMPQ CX, $8
	JLT  gather
	LOAD8(SI, R10, R11, 0)
	TRANSPOSE8
	STORE8(0)
	LOAD8(R12, R13, BX, 0)
	TRANSPOSE8
	STORE8(64)
	ADDQ $64, SI
	ADDQ $64, R10
	ADDQ $64, R11
	ADDQ $64, R12
	ADDQ $64, R13
	ADDQ $64, BX
	ADDQ $1024, DI
	SUBQ $8, CX
	JMP  block

gather:
	TESTQ CX, CX
	JZ   done
	MOVQ idx+24(FP), AX
	VMOVDQU64 (AX), Z30
	VMOVDQU64 64(AX), Z31
	MOVQ DX, R8
	SHRQ $8, R8

gloop:
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	KMOVW DX, K1
	KMOVW R8, K2
	VGATHERQPD (SI)(Z30*8), K1, Z0
	VGATHERQPD (SI)(Z31*8), K2, Z1
	VMOVUPD Z0, (DI)
	VMOVUPD Z1, 64(DI)
	ADDQ $8, SI
	ADDQ $128, DI
	DECQ CX
	JNZ  gloop

done:
	VZEROUPPER
	RET
