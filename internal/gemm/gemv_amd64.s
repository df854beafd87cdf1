//go:build amd64 && !purego

#include "textflag.h"

// Gemv's kernels (gemv.go has the order of the sums they keep).

// DOTLANES sums the even lanes za and the odd lanes zb of a dot (ya, xa, yb, xb: the same
// registers' lower halves) into the low lane of xa, in the order Gemv defines:
// s_b = za_b + zb_b, then ((s₀+s₄)+(s₂+s₆)) + ((s₁+s₅)+(s₃+s₇)).
#define DOTLANES(za, zb, ya, yb, xa, xb) \
	VADDPD        zb, za, za; \
	VEXTRACTF64X4 $1, za, yb; \
	VADDPD        yb, ya, ya; \
	VEXTRACTF128  $1, ya, xb; \
	VADDPD        xb, xa, xa; \
	VUNPCKHPD     xa, xa, xb; \
	VADDSD        xb, xa, xa

// func dot16AVX512(n16 int, a, x *float64) float64
// Z0: lanes of the even 8-blocks, Z1: of the odd ones.
TEXT ·dot16AVX512(SB), NOSPLIT, $0-32
	MOVQ n16+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ x+16(FP), DI
	VXORPD Z0, Z0, Z0
	VXORPD Z1, Z1, Z1

dotloop:
	VMOVUPD (SI), Z2
	VMOVUPD 64(SI), Z3
	VFMADD231PD (DI), Z2, Z0
	VFMADD231PD 64(DI), Z3, Z1
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $16, CX
	JNZ  dotloop

	DOTLANES(Z0, Z1, Y0, Y1, X0, X1)
	VMOVSD X0, ret+24(FP)
	VZEROUPPER
	RET

// func subMulT32AVX512(m, n32 int, a *float64, lda int, y, x *float64)
// For each block of 32 entries of x: Z0–Z3 = Σᵢ y[i]·A[i][block], i = 0 … m−1, then x −= Z.
TEXT ·subMulT32AVX512(SB), NOSPLIT, $0-48
	MOVQ m+0(FP), R8
	MOVQ n32+8(FP), CX
	MOVQ a+16(FP), SI
	MOVQ lda+24(FP), R9
	MOVQ y+32(FP), DX
	MOVQ x+40(FP), DI

block:
	VXORPD Z0, Z0, Z0
	VXORPD Z1, Z1, Z1
	VXORPD Z2, Z2, Z2
	VXORPD Z3, Z3, Z3
	MOVQ   SI, R10
	MOVQ   DX, R11
	MOVQ   R8, R12

rows:
	VBROADCASTSD (R11), Z4
	VFMADD231PD  (R10), Z4, Z0
	VFMADD231PD  64(R10), Z4, Z1
	VFMADD231PD  128(R10), Z4, Z2
	VFMADD231PD  192(R10), Z4, Z3
	ADDQ         R9, R10
	ADDQ         $8, R11
	DECQ         R12
	JNZ          rows

	VMOVUPD (DI), Z5
	VMOVUPD 64(DI), Z6
	VMOVUPD 128(DI), Z7
	VMOVUPD 192(DI), Z8
	VSUBPD  Z0, Z5, Z5
	VSUBPD  Z1, Z6, Z6
	VSUBPD  Z2, Z7, Z7
	VSUBPD  Z3, Z8, Z8
	VMOVUPD Z5, (DI)
	VMOVUPD Z6, 64(DI)
	VMOVUPD Z7, 128(DI)
	VMOVUPD Z8, 192(DI)
	ADDQ    $256, SI
	ADDQ    $256, DI
	SUBQ    $32, CX
	JNZ     block
	VZEROUPPER
	RET

// func dot16x4AVX512(n16 int, a *float64, lda int, x, y *float64)
// dot16AVX512 of four rows a, a+lda, a+2·lda, a+3·lda (lda in bytes) with x at once, into
// y[0…3]: each x block is loaded once, and four rows stream from memory together. Row r
// keeps its even and odd lanes in Z(2r) and Z(2r+1), so each dot is summed in dot16's order.
TEXT ·dot16x4AVX512(SB), NOSPLIT, $0-40
	MOVQ n16+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R9
	MOVQ x+24(FP), DI
	MOVQ y+32(FP), DX
	LEAQ (SI)(R9*1), R10
	LEAQ (R10)(R9*1), R11
	LEAQ (R11)(R9*1), R12
	VXORPD Z0, Z0, Z0
	VXORPD Z1, Z1, Z1
	VXORPD Z2, Z2, Z2
	VXORPD Z3, Z3, Z3
	VXORPD Z4, Z4, Z4
	VXORPD Z5, Z5, Z5
	VXORPD Z6, Z6, Z6
	VXORPD Z7, Z7, Z7

dot4loop:
	VMOVUPD     (DI), Z8
	VMOVUPD     64(DI), Z9
	VFMADD231PD (SI), Z8, Z0
	VFMADD231PD 64(SI), Z9, Z1
	VFMADD231PD (R10), Z8, Z2
	VFMADD231PD 64(R10), Z9, Z3
	VFMADD231PD (R11), Z8, Z4
	VFMADD231PD 64(R11), Z9, Z5
	VFMADD231PD (R12), Z8, Z6
	VFMADD231PD 64(R12), Z9, Z7
	ADDQ        $128, SI
	ADDQ        $128, R10
	ADDQ        $128, R11
	ADDQ        $128, R12
	ADDQ        $128, DI
	SUBQ        $16, CX
	JNZ         dot4loop

	DOTLANES(Z0, Z1, Y0, Y1, X0, X1)
	VMOVSD X0, (DX)

	DOTLANES(Z2, Z3, Y2, Y3, X2, X3)
	VMOVSD X2, 8(DX)

	DOTLANES(Z4, Z5, Y4, Y5, X4, X5)
	VMOVSD X4, 16(DX)

	DOTLANES(Z6, Z7, Y6, Y7, X6, X7)
	VMOVSD X6, 24(DX)
	VZEROUPPER
	RET

// func dot16x8AVX512(n16 int, a *float64, lda int, x, y *float64)
// dot16AVX512 of eight rows a, a+lda, …, a+7·lda (lda in bytes) with x at once, into
// y[0…7]: row r keeps its even and odd lanes in Z(2r) and Z(2r+1). Rows are addressed from
// SI alone: R9 = lda, R10 = 3·lda, R11 = 5·lda, R12 = 7·lda.
TEXT ·dot16x8AVX512(SB), NOSPLIT, $0-40
	MOVQ n16+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R9
	MOVQ x+24(FP), DI
	MOVQ y+32(FP), DX
	LEAQ (R9)(R9*2), R10
	LEAQ (R9)(R9*4), R11
	LEAQ (R10)(R9*4), R12
	VXORPD Z0, Z0, Z0
	VXORPD Z1, Z1, Z1
	VXORPD Z2, Z2, Z2
	VXORPD Z3, Z3, Z3
	VXORPD Z4, Z4, Z4
	VXORPD Z5, Z5, Z5
	VXORPD Z6, Z6, Z6
	VXORPD Z7, Z7, Z7
	VXORPD Z8, Z8, Z8
	VXORPD Z9, Z9, Z9
	VXORPD Z10, Z10, Z10
	VXORPD Z11, Z11, Z11
	VXORPD Z12, Z12, Z12
	VXORPD Z13, Z13, Z13
	VXORPD Z14, Z14, Z14
	VXORPD Z15, Z15, Z15

dot8loop:
	VMOVUPD     (DI), Z16
	VMOVUPD     64(DI), Z17
	VFMADD231PD (SI), Z16, Z0
	VFMADD231PD 64(SI), Z17, Z1
	VFMADD231PD (SI)(R9*1), Z16, Z2
	VFMADD231PD 64(SI)(R9*1), Z17, Z3
	VFMADD231PD (SI)(R9*2), Z16, Z4
	VFMADD231PD 64(SI)(R9*2), Z17, Z5
	VFMADD231PD (SI)(R10*1), Z16, Z6
	VFMADD231PD 64(SI)(R10*1), Z17, Z7
	VFMADD231PD (SI)(R9*4), Z16, Z8
	VFMADD231PD 64(SI)(R9*4), Z17, Z9
	VFMADD231PD (SI)(R11*1), Z16, Z10
	VFMADD231PD 64(SI)(R11*1), Z17, Z11
	VFMADD231PD (SI)(R10*2), Z16, Z12
	VFMADD231PD 64(SI)(R10*2), Z17, Z13
	VFMADD231PD (SI)(R12*1), Z16, Z14
	VFMADD231PD 64(SI)(R12*1), Z17, Z15
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $16, CX
	JNZ         dot8loop

	DOTLANES(Z0, Z1, Y0, Y1, X0, X1)
	VMOVSD X0, (DX)
	DOTLANES(Z2, Z3, Y2, Y3, X2, X3)
	VMOVSD X2, 8(DX)
	DOTLANES(Z4, Z5, Y4, Y5, X4, X5)
	VMOVSD X4, 16(DX)
	DOTLANES(Z6, Z7, Y6, Y7, X6, X7)
	VMOVSD X6, 24(DX)
	DOTLANES(Z8, Z9, Y8, Y9, X8, X9)
	VMOVSD X8, 32(DX)
	DOTLANES(Z10, Z11, Y10, Y11, X10, X11)
	VMOVSD X10, 40(DX)
	DOTLANES(Z12, Z13, Y12, Y13, X12, X13)
	VMOVSD X12, 48(DX)
	DOTLANES(Z14, Z15, Y14, Y15, X14, X15)
	VMOVSD X14, 56(DX)
	VZEROUPPER
	RET
