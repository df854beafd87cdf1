//go:build amd64 && !purego

#include "textflag.h"

// Four lanes at a time with AVX2, the last n mod 4 entries one at a time with the scalar
// forms of the same instructions: every entry is rounded as the Go loop rounds it.

// func mulAVX2(dst, a, b *float64, n int)
TEXT ·mulAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX

mul4:
	CMPQ CX, $4
	JLT  mul1
	VMOVUPD (SI), Y0
	VMULPD  (DX), Y0, Y0
	VMOVUPD Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $4, CX
	JMP     mul4

mul1:
	TESTQ CX, CX
	JEQ   muldone
	VMOVSD (SI), X0
	VMULSD (DX), X0, X0
	VMOVSD X0, (DI)
	ADDQ   $8, SI
	ADDQ   $8, DX
	ADDQ   $8, DI
	DECQ   CX
	JMP    mul1

muldone:
	VZEROUPPER
	RET

// func mulAddMulAVX2(dst, a, b, c *float64, n int)
TEXT ·mulAddMulAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ c+24(FP), R8
	MOVQ n+32(FP), CX

mam4:
	CMPQ CX, $4
	JLT  mam1
	VMOVUPD (DI), Y0
	VMULPD  (SI), Y0, Y0
	VMOVUPD (DX), Y1
	VMULPD  (R8), Y1, Y1
	VADDPD  Y1, Y0, Y0
	VMOVUPD Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, R8
	ADDQ    $32, DI
	SUBQ    $4, CX
	JMP     mam4

mam1:
	TESTQ CX, CX
	JEQ   mamdone
	VMOVSD (DI), X0
	VMULSD (SI), X0, X0
	VMOVSD (DX), X1
	VMULSD (R8), X1, X1
	VADDSD X1, X0, X0
	VMOVSD X0, (DI)
	ADDQ   $8, SI
	ADDQ   $8, DX
	ADDQ   $8, R8
	ADDQ   $8, DI
	DECQ   CX
	JMP    mam1

mamdone:
	VZEROUPPER
	RET

// func addRowsAVX2(x *float64, rows int, v *float64, w int)
TEXT ·addRowsAVX2(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), DI
	MOVQ rows+8(FP), BX
	MOVQ v+16(FP), R8
	MOVQ w+24(FP), R9

row:
	TESTQ BX, BX
	JEQ   rowsdone
	MOVQ  R8, SI
	MOVQ  R9, CX

add4:
	CMPQ CX, $4
	JLT  add1
	VMOVUPD (DI), Y0
	VADDPD  (SI), Y0, Y0
	VMOVUPD Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $4, CX
	JMP     add4

add1:
	TESTQ CX, CX
	JEQ   rowdone
	VMOVSD (DI), X0
	VADDSD (SI), X0, X0
	VMOVSD X0, (DI)
	ADDQ   $8, SI
	ADDQ   $8, DI
	DECQ   CX
	JMP    add1

rowdone:
	DECQ BX
	JMP  row

rowsdone:
	VZEROUPPER
	RET
