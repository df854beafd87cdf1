//go:build amd64 && !purego

#include "textflag.h"

// Constants: the masks and thresholds, Cephes' tanh coefficients (as math.Tanh), and the
// Taylor coefficients 1/n! of eʳ, n = 13 … 0.
DATA tanhc<>+0(SB)/8, $0x7fffffffffffffff // abs
DATA tanhc<>+8(SB)/8, $0x3fe4000000000000 // small = 0.625
DATA tanhc<>+16(SB)/8, $0x4056000000000000 // clamp = 88.0
DATA tanhc<>+24(SB)/8, $0x3ff71547652b82fe // log2e = 1.4426950408889634
DATA tanhc<>+32(SB)/8, $0x3fe62e42fee00000 // ln2hi = 0.6931471803691238
DATA tanhc<>+40(SB)/8, $0x3dea39ef35793c76 // ln2lo = 1.9082149292705877e-10
DATA tanhc<>+48(SB)/8, $0x3ff0000000000000 // one = 1.0
DATA tanhc<>+56(SB)/8, $0x4000000000000000 // two = 2.0
DATA tanhc<>+64(SB)/8, $0xbfeedc5baafd6f4b // p0 = -0.9643991794250523
DATA tanhc<>+72(SB)/8, $0xc058d26a0e26682d // p1 = -99.28772310019185
DATA tanhc<>+80(SB)/8, $0xc0993ac030580563 // p2 = -1614.6876844170845
DATA tanhc<>+88(SB)/8, $0x405c33f28a581b86 // q0 = 112.81167849163293
DATA tanhc<>+96(SB)/8, $0x40a176fa0e5535fa // q1 = 2235.4883906010045
DATA tanhc<>+104(SB)/8, $0x40b2ec102442040c // q2 = 4844.063053251255
DATA tanhc<>+112(SB)/8, $0x3de6124613a86d09 // e13 = 1.6059043836821613e-10
DATA tanhc<>+120(SB)/8, $0x3e21eed8eff8d898 // e12 = 2.08767569878681e-09
DATA tanhc<>+128(SB)/8, $0x3e5ae64567f544e4 // e11 = 2.505210838544172e-08
DATA tanhc<>+136(SB)/8, $0x3e927e4fb7789f5c // e10 = 2.755731922398589e-07
DATA tanhc<>+144(SB)/8, $0x3ec71de3a556c734 // e9 = 2.7557319223985893e-06
DATA tanhc<>+152(SB)/8, $0x3efa01a01a01a01a // e8 = 2.48015873015873e-05
DATA tanhc<>+160(SB)/8, $0x3f2a01a01a01a01a // e7 = 0.0001984126984126984
DATA tanhc<>+168(SB)/8, $0x3f56c16c16c16c17 // e6 = 0.001388888888888889
DATA tanhc<>+176(SB)/8, $0x3f81111111111111 // e5 = 0.008333333333333333
DATA tanhc<>+184(SB)/8, $0x3fa5555555555555 // e4 = 0.041666666666666664
DATA tanhc<>+192(SB)/8, $0x3fc5555555555555 // e3 = 0.16666666666666666
DATA tanhc<>+200(SB)/8, $0x3fe0000000000000 // e2 = 0.5
DATA tanhc<>+208(SB)/8, $0x3ff0000000000000 // e1 = 1.0
DATA tanhc<>+216(SB)/8, $0x3ff0000000000000 // e0 = 1.0
DATA tanhc<>+224(SB)/8, $0x4338000000000000 // magic = 1.5·2⁵²
DATA tanhc<>+232(SB)/8, $0xbcc80000000003ff // bias = 1023 − bits(magic), int64
GLOBL tanhc<>(SB), RODATA|NOPTR, $240

// TANH8 sets Z0 = tanh(Z0) for eight lanes, as math.Tanh computes it:
//	|x| < 0.625:  |x| + ((|x|·s)·P(s))/Q(s), s = x²  (math.Tanh's operations, in its order)
//	otherwise:    1 − 2/(e^{2|x|} + 1), with e^{2|x|} = 2ᵏ·eʳ, 2|x| = k·ln2 + r (capped at 88)
// and the sign of x put back. Uses Z1–Z9 and K1. Registers: Z1 = |x|, Z9 = x's sign bit,
// Z2 = s, then 2|x|, then r; Z3 = P; Z6 = Q; Z7 = the small-|x| result; Z8 = k; Z4 = r and
// Z5 = eʳ by Horner's rule, then the large-|x| result; K1 = lanes with |x| < 0.625.
#define TANH8 \
	VPANDQ.BCST tanhc<>+0(SB), Z0, Z1 \
	VPANDNQ Z0, Z1, Z9 \
	VMULPD Z1, Z1, Z2 \
	VMULPD.BCST tanhc<>+64(SB), Z2, Z3 \
	VADDPD.BCST tanhc<>+72(SB), Z3, Z3 \
	VMULPD Z2, Z3, Z3 \
	VADDPD.BCST tanhc<>+80(SB), Z3, Z3 \
	VADDPD.BCST tanhc<>+88(SB), Z2, Z6 \
	VMULPD Z2, Z6, Z6 \
	VADDPD.BCST tanhc<>+96(SB), Z6, Z6 \
	VMULPD Z2, Z6, Z6 \
	VADDPD.BCST tanhc<>+104(SB), Z6, Z6 \
	VMULPD Z2, Z1, Z7 \
	VMULPD Z3, Z7, Z7 \
	VDIVPD Z6, Z7, Z7 \
	VADDPD Z7, Z1, Z7 \
	VADDPD Z1, Z1, Z2 \
	VBROADCASTSD tanhc<>+16(SB), Z8 \
	VMINPD Z2, Z8, Z2 \
	VMULPD.BCST tanhc<>+24(SB), Z2, Z8 \
	VRNDSCALEPD $0, Z8, Z8 \
	VFNMADD231PD.BCST tanhc<>+32(SB), Z8, Z2 \
	VFNMADD231PD.BCST tanhc<>+40(SB), Z8, Z2 \
	VMOVAPD Z2, Z4 \
	VBROADCASTSD tanhc<>+112(SB), Z5 \
	VFMADD213PD.BCST tanhc<>+120(SB), Z4, Z5 \
	VFMADD213PD.BCST tanhc<>+128(SB), Z4, Z5 \
	VFMADD213PD.BCST tanhc<>+136(SB), Z4, Z5 \
	VFMADD213PD.BCST tanhc<>+144(SB), Z4, Z5 \
	VFMADD213PD.BCST tanhc<>+152(SB), Z4, Z5 \
	VFMADD213PD.BCST tanhc<>+160(SB), Z4, Z5 \
	VFMADD213PD.BCST tanhc<>+168(SB), Z4, Z5 \
	VFMADD213PD.BCST tanhc<>+176(SB), Z4, Z5 \
	VFMADD213PD.BCST tanhc<>+184(SB), Z4, Z5 \
	VFMADD213PD.BCST tanhc<>+192(SB), Z4, Z5 \
	VFMADD213PD.BCST tanhc<>+200(SB), Z4, Z5 \
	VFMADD213PD.BCST tanhc<>+208(SB), Z4, Z5 \
	VFMADD213PD.BCST tanhc<>+216(SB), Z4, Z5 \
	VSCALEFPD Z8, Z5, Z5 \
	VADDPD.BCST tanhc<>+48(SB), Z5, Z5 \
	VBROADCASTSD tanhc<>+56(SB), Z6 \
	VDIVPD Z5, Z6, Z6 \
	VBROADCASTSD tanhc<>+48(SB), Z5 \
	VSUBPD Z6, Z5, Z5 \
	VCMPPD.BCST $1, tanhc<>+8(SB), Z1, K1 \
	VBLENDMPD Z7, Z5, K1, Z0 \
	VPORQ Z9, Z0, Z0

// func tanhAVX512(dst, x *float64, n int)
TEXT ·tanhAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	CMPQ CX, $8
	JLT  tail

loop:
	VMOVUPD (SI), Z0
	TANH8
	VMOVUPD Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $8, CX
	CMPQ CX, $8
	JGE  loop

tail:
	TESTQ CX, CX
	JZ   done
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K2
	VMOVUPD.Z (SI), K2, Z0
	TANH8
	VMOVUPD Z0, K2, (DI)

done:
	VZEROUPPER
	RET

// TANH4 is TANH8 for four lanes with AVX2 and FMA: Y0 = tanh(Y0). Without VSCALEFPD, 2ᵏ is
// built from k's bits (k + 1.5·2⁵² holds k in its low bits; k ∈ [0, 127]); without masks, the
// two results are blended by a compare. Uses Y1–Y11 and Y15.
#define TANH4 \
	VBROADCASTSD tanhc<>+0(SB), Y15 \
	VANDPD Y15, Y0, Y1 \
	VANDNPD Y0, Y15, Y9 \
	VMULPD Y1, Y1, Y2 \
	VBROADCASTSD tanhc<>+64(SB), Y15 \
	VMULPD Y15, Y2, Y3 \
	VBROADCASTSD tanhc<>+72(SB), Y15 \
	VADDPD Y15, Y3, Y3 \
	VMULPD Y2, Y3, Y3 \
	VBROADCASTSD tanhc<>+80(SB), Y15 \
	VADDPD Y15, Y3, Y3 \
	VBROADCASTSD tanhc<>+88(SB), Y15 \
	VADDPD Y15, Y2, Y6 \
	VMULPD Y2, Y6, Y6 \
	VBROADCASTSD tanhc<>+96(SB), Y15 \
	VADDPD Y15, Y6, Y6 \
	VMULPD Y2, Y6, Y6 \
	VBROADCASTSD tanhc<>+104(SB), Y15 \
	VADDPD Y15, Y6, Y6 \
	VMULPD Y2, Y1, Y7 \
	VMULPD Y3, Y7, Y7 \
	VDIVPD Y6, Y7, Y7 \
	VADDPD Y7, Y1, Y7 \
	VADDPD Y1, Y1, Y2 \
	VBROADCASTSD tanhc<>+16(SB), Y15 \
	VMINPD Y2, Y15, Y2 \
	VBROADCASTSD tanhc<>+24(SB), Y15 \
	VMULPD Y15, Y2, Y8 \
	VROUNDPD $0, Y8, Y8 \
	VBROADCASTSD tanhc<>+32(SB), Y15 \
	VFNMADD231PD Y15, Y8, Y2 \
	VBROADCASTSD tanhc<>+40(SB), Y15 \
	VFNMADD231PD Y15, Y8, Y2 \
	VBROADCASTSD tanhc<>+112(SB), Y5 \
	VBROADCASTSD tanhc<>+120(SB), Y15 \
	VFMADD213PD Y15, Y2, Y5 \
	VBROADCASTSD tanhc<>+128(SB), Y15 \
	VFMADD213PD Y15, Y2, Y5 \
	VBROADCASTSD tanhc<>+136(SB), Y15 \
	VFMADD213PD Y15, Y2, Y5 \
	VBROADCASTSD tanhc<>+144(SB), Y15 \
	VFMADD213PD Y15, Y2, Y5 \
	VBROADCASTSD tanhc<>+152(SB), Y15 \
	VFMADD213PD Y15, Y2, Y5 \
	VBROADCASTSD tanhc<>+160(SB), Y15 \
	VFMADD213PD Y15, Y2, Y5 \
	VBROADCASTSD tanhc<>+168(SB), Y15 \
	VFMADD213PD Y15, Y2, Y5 \
	VBROADCASTSD tanhc<>+176(SB), Y15 \
	VFMADD213PD Y15, Y2, Y5 \
	VBROADCASTSD tanhc<>+184(SB), Y15 \
	VFMADD213PD Y15, Y2, Y5 \
	VBROADCASTSD tanhc<>+192(SB), Y15 \
	VFMADD213PD Y15, Y2, Y5 \
	VBROADCASTSD tanhc<>+200(SB), Y15 \
	VFMADD213PD Y15, Y2, Y5 \
	VBROADCASTSD tanhc<>+208(SB), Y15 \
	VFMADD213PD Y15, Y2, Y5 \
	VBROADCASTSD tanhc<>+216(SB), Y15 \
	VFMADD213PD Y15, Y2, Y5 \
	VBROADCASTSD tanhc<>+224(SB), Y15 \
	VADDPD Y15, Y8, Y10 \
	VBROADCASTSD tanhc<>+232(SB), Y15 \
	VPADDQ Y15, Y10, Y10 \
	VPSLLQ $52, Y10, Y10 \
	VMULPD Y10, Y5, Y5 \
	VBROADCASTSD tanhc<>+48(SB), Y15 \
	VADDPD Y15, Y5, Y5 \
	VBROADCASTSD tanhc<>+56(SB), Y6 \
	VDIVPD Y5, Y6, Y6 \
	VSUBPD Y6, Y15, Y5 \
	VBROADCASTSD tanhc<>+8(SB), Y15 \
	VCMPPD $1, Y15, Y1, Y11 \
	VBLENDVPD Y11, Y7, Y5, Y0 \
	VORPD Y9, Y0, Y0

// func tanhAVX2(dst, x *float64, n int)
//
// n is a multiple of 4.
TEXT ·tanhAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $2, CX
	JZ   done4

loop4:
	VMOVUPD (SI), Y0
	TANH4
	VMOVUPD Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  loop4

done4:
	VZEROUPPER
	RET
