//go:build amd64 && !purego

#include "textflag.h"

// Micro-kernels: one MR×NR tile of C += α·A·B over k steps, row-major, C's columns in vector
// lanes, A's entries broadcast. Strides are in bytes. See kernel_amd64.go for the contracts.

// ---------------------------------------------------------------------------------------------
// AVX-512: an 8×16 tile in Z0–Z15 (row r in Z(2r), Z(2r+1)), B's row in Z30/Z31, A's eight
// entries broadcast into Z16–Z23. A row r of A is at SI, SI+DX, SI+2DX (rows 0–2), R8… (3–5),
// R9… (6–7); each step adds ksA to the three bases and ksB to BX. K1/K2 mask B's loads and C's
// loads and stores to the tile's first nc columns.

#define FMA_ROW8(bc, acc0, acc1) \
	VFMADD231PD Z30, bc, acc0 \
	VFMADD231PD Z31, bc, acc1

// START8x16 sets the bases of A's rows 3–5 (R8) and 6–7 (R9) from SI and DX, and zeroes the
// accumulators.
#define START8x16 \
	LEAQ (SI)(DX*2), R8 \
	ADDQ DX, R8 \
	LEAQ (R8)(DX*2), R9 \
	ADDQ DX, R9 \
	VPXORQ Z0, Z0, Z0 \
	VPXORQ Z1, Z1, Z1 \
	VPXORQ Z2, Z2, Z2 \
	VPXORQ Z3, Z3, Z3 \
	VPXORQ Z4, Z4, Z4 \
	VPXORQ Z5, Z5, Z5 \
	VPXORQ Z6, Z6, Z6 \
	VPXORQ Z7, Z7, Z7 \
	VPXORQ Z8, Z8, Z8 \
	VPXORQ Z9, Z9, Z9 \
	VPXORQ Z10, Z10, Z10 \
	VPXORQ Z11, Z11, Z11 \
	VPXORQ Z12, Z12, Z12 \
	VPXORQ Z13, Z13, Z13 \
	VPXORQ Z14, Z14, Z14 \
	VPXORQ Z15, Z15, Z15

// STEP8x16 is one step p of the tile: B's row p (masked) times A's column p, added to the
// accumulators; then the bases move to step p+1.
#define STEP8x16 \
	VMOVUPD.Z (BX), K1, Z30 \
	VMOVUPD.Z 64(BX), K2, Z31 \
	VBROADCASTSD (SI), Z16 \
	VBROADCASTSD (SI)(DX*1), Z17 \
	VBROADCASTSD (SI)(DX*2), Z18 \
	VBROADCASTSD (R8), Z19 \
	VBROADCASTSD (R8)(DX*1), Z20 \
	VBROADCASTSD (R8)(DX*2), Z21 \
	VBROADCASTSD (R9), Z22 \
	VBROADCASTSD (R9)(DX*1), Z23 \
	FMA_ROW8(Z16, Z0, Z1) \
	FMA_ROW8(Z17, Z2, Z3) \
	FMA_ROW8(Z18, Z4, Z5) \
	FMA_ROW8(Z19, Z6, Z7) \
	FMA_ROW8(Z20, Z8, Z9) \
	FMA_ROW8(Z21, Z10, Z11) \
	FMA_ROW8(Z22, Z12, Z13) \
	FMA_ROW8(Z23, Z14, Z15) \
	ADDQ R10, BX \
	ADDQ R11, SI \
	ADDQ R11, R8 \
	ADDQ R11, R9

// STORE_BETA writes a row: C = α·acc + β·C (β ≠ 0, 1), then moves DI to the next row.
#define STORE_BETA(acc0, acc1) \
	VMOVUPD.Z (DI), K1, Z24 \
	VMOVUPD.Z 64(DI), K2, Z25 \
	VMULPD Z24, Z29, Z24 \
	VMULPD Z25, Z29, Z25 \
	VFMADD231PD acc0, Z28, Z24 \
	VFMADD231PD acc1, Z28, Z25 \
	VMOVUPD Z24, K1, (DI) \
	VMOVUPD Z25, K2, 64(DI) \
	ADDQ R12, DI

// STORE_ONE: C = α·acc + C.
#define STORE_ONE(acc0, acc1) \
	VMOVUPD.Z (DI), K1, Z24 \
	VMOVUPD.Z 64(DI), K2, Z25 \
	VFMADD231PD acc0, Z28, Z24 \
	VFMADD231PD acc1, Z28, Z25 \
	VMOVUPD Z24, K1, (DI) \
	VMOVUPD Z25, K2, 64(DI) \
	ADDQ R12, DI

// STORE_ACC: C = acc (rot8x16AVX512: α = 1, β = 0).
#define STORE_ACC(acc0, acc1) \
	VMOVUPD acc0, K1, (DI) \
	VMOVUPD acc1, K2, 64(DI) \
	ADDQ R12, DI

// STORE_ZERO: C = α·acc; C's old values are never read (BLAS: β = 0 ignores NaN in C).
#define STORE_ZERO(acc0, acc1) \
	VMULPD acc0, Z28, Z24 \
	VMULPD acc1, Z28, Z25 \
	VMOVUPD Z24, K1, (DI) \
	VMOVUPD Z25, K2, 64(DI) \
	ADDQ R12, DI

// func kern8x16AVX512(k int, a *float64, rsA, ksA int, b *float64, ksB int, c *float64, ldc int, alpha, beta float64, mr int, mask uint64)
TEXT ·kern8x16AVX512(SB), NOSPLIT, $0-96
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ rsA+16(FP), DX
	MOVQ ksA+24(FP), R11
	MOVQ b+32(FP), BX
	MOVQ ksB+40(FP), R10
	MOVQ c+48(FP), DI
	MOVQ ldc+56(FP), R12
	MOVQ mr+80(FP), R13
	MOVQ mask+88(FP), AX
	KMOVW AX, K1
	KSHIFTRW $8, K1, K2

	START8x16

	TESTQ CX, CX
	JZ   store

loop:
	STEP8x16
	DECQ CX
	JNZ  loop

store:
	VBROADCASTSD alpha+64(FP), Z28
	VBROADCASTSD beta+72(FP), Z29
	MOVQ beta+72(FP), AX
	MOVQ AX, R11
	SHLQ $1, R11 // drop the sign: β = ±0
	JZ   zero
	MOVQ $0x3ff0000000000000, R11
	CMPQ AX, R11
	JEQ  one

	STORE_BETA(Z0, Z1)
	DECQ R13
	JZ   done
	STORE_BETA(Z2, Z3)
	DECQ R13
	JZ   done
	STORE_BETA(Z4, Z5)
	DECQ R13
	JZ   done
	STORE_BETA(Z6, Z7)
	DECQ R13
	JZ   done
	STORE_BETA(Z8, Z9)
	DECQ R13
	JZ   done
	STORE_BETA(Z10, Z11)
	DECQ R13
	JZ   done
	STORE_BETA(Z12, Z13)
	DECQ R13
	JZ   done
	STORE_BETA(Z14, Z15)
	JMP  done

one:
	STORE_ONE(Z0, Z1)
	DECQ R13
	JZ   done
	STORE_ONE(Z2, Z3)
	DECQ R13
	JZ   done
	STORE_ONE(Z4, Z5)
	DECQ R13
	JZ   done
	STORE_ONE(Z6, Z7)
	DECQ R13
	JZ   done
	STORE_ONE(Z8, Z9)
	DECQ R13
	JZ   done
	STORE_ONE(Z10, Z11)
	DECQ R13
	JZ   done
	STORE_ONE(Z12, Z13)
	DECQ R13
	JZ   done
	STORE_ONE(Z14, Z15)
	JMP  done

zero:
	STORE_ZERO(Z0, Z1)
	DECQ R13
	JZ   done
	STORE_ZERO(Z2, Z3)
	DECQ R13
	JZ   done
	STORE_ZERO(Z4, Z5)
	DECQ R13
	JZ   done
	STORE_ZERO(Z6, Z7)
	DECQ R13
	JZ   done
	STORE_ZERO(Z8, Z9)
	DECQ R13
	JZ   done
	STORE_ZERO(Z10, Z11)
	DECQ R13
	JZ   done
	STORE_ZERO(Z12, Z13)
	DECQ R13
	JZ   done
	STORE_ZERO(Z14, Z15)

done:
	VZEROUPPER
	RET

// func rot8x16AVX512(k int, a *float64, rsA, ksA int, b *float64, ksB int, c *float64, ldc int, mr int, mask uint64, ahead int)
// kern8x16AVX512 with α = 1 and β = 0, whose steps also prefetch (PREFETCHT1) the two cache
// lines of B's row ahead bytes on: Rotate's first tile of a panel. The same steps and so the
// same sums; a row is stored as it is, which is what kern8x16AVX512 stores for α = 1 (acc·1).
// A kernel of its own, so that Dgemm's kernel keeps its code, and its loop its alignment.
TEXT ·rot8x16AVX512(SB), NOSPLIT, $0-88
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ rsA+16(FP), DX
	MOVQ ksA+24(FP), R11
	MOVQ b+32(FP), BX
	MOVQ ksB+40(FP), R10
	MOVQ c+48(FP), DI
	MOVQ ldc+56(FP), R12
	MOVQ mr+64(FP), R13
	MOVQ mask+72(FP), AX
	KMOVW AX, K1
	KSHIFTRW $8, K1, K2
	MOVQ ahead+80(FP), AX

	START8x16

	TESTQ CX, CX
	JZ   rotstore

rotloop:
	PREFETCHT1 (BX)(AX*1)
	PREFETCHT1 64(BX)(AX*1)
	STEP8x16
	DECQ CX
	JNZ  rotloop

rotstore:
	STORE_ACC(Z0, Z1)
	DECQ R13
	JZ   rotdone
	STORE_ACC(Z2, Z3)
	DECQ R13
	JZ   rotdone
	STORE_ACC(Z4, Z5)
	DECQ R13
	JZ   rotdone
	STORE_ACC(Z6, Z7)
	DECQ R13
	JZ   rotdone
	STORE_ACC(Z8, Z9)
	DECQ R13
	JZ   rotdone
	STORE_ACC(Z10, Z11)
	DECQ R13
	JZ   rotdone
	STORE_ACC(Z12, Z13)
	DECQ R13
	JZ   rotdone
	STORE_ACC(Z14, Z15)

rotdone:
	VZEROUPPER
	RET

// ---------------------------------------------------------------------------------------------
// AVX2+FMA: a full 4×12 tile in Y0–Y11 (row r in Y(3r)…Y(3r+2)), B's row in Y12–Y14, A's
// entry broadcast into Y15. Rows of A at SI, SI+DX, SI+2DX, R8 = SI+3DX.

#define FMA_ROW4(acc0, acc1, acc2) \
	VFMADD231PD Y12, Y15, acc0 \
	VFMADD231PD Y13, Y15, acc1 \
	VFMADD231PD Y14, Y15, acc2

// STORE4 writes a row: C = α·acc + β·C as the AVX-512 kernel computes it, fma(acc, α, β·C),
// or α·acc when β = 0 (R13 = 0, C not read); then moves DI on. Y12 = α, Y13 = β, Y14 scratch.
#define STORE4(acc0, acc1, acc2, lbl, done) \
	TESTQ R13, R13 \
	JZ   lbl \
	VMULPD (DI), Y13, Y14 \
	VFMADD213PD Y14, Y12, acc0 \
	VMULPD 32(DI), Y13, Y14 \
	VFMADD213PD Y14, Y12, acc1 \
	VMULPD 64(DI), Y13, Y14 \
	VFMADD213PD Y14, Y12, acc2 \
	JMP  done \
lbl: \
	VMULPD acc0, Y12, acc0 \
	VMULPD acc1, Y12, acc1 \
	VMULPD acc2, Y12, acc2 \
done: \
	VMOVUPD acc0, (DI) \
	VMOVUPD acc1, 32(DI) \
	VMOVUPD acc2, 64(DI) \
	ADDQ R12, DI

// func kern4x12AVX2(k int, a *float64, rsA, ksA int, b *float64, ksB int, c *float64, ldc int, alpha, beta float64)
TEXT ·kern4x12AVX2(SB), NOSPLIT, $0-80
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ rsA+16(FP), DX
	MOVQ ksA+24(FP), R11
	MOVQ b+32(FP), BX
	MOVQ ksB+40(FP), R10
	MOVQ c+48(FP), DI
	MOVQ ldc+56(FP), R12
	LEAQ (SI)(DX*2), R8
	ADDQ DX, R8

	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	VXORPD Y10, Y10, Y10
	VXORPD Y11, Y11, Y11

	TESTQ CX, CX
	JZ   store4

loop4:
	VMOVUPD (BX), Y12
	VMOVUPD 32(BX), Y13
	VMOVUPD 64(BX), Y14
	VBROADCASTSD (SI), Y15
	FMA_ROW4(Y0, Y1, Y2)
	VBROADCASTSD (SI)(DX*1), Y15
	FMA_ROW4(Y3, Y4, Y5)
	VBROADCASTSD (SI)(DX*2), Y15
	FMA_ROW4(Y6, Y7, Y8)
	VBROADCASTSD (R8), Y15
	FMA_ROW4(Y9, Y10, Y11)
	ADDQ R10, BX
	ADDQ R11, SI
	ADDQ R11, R8
	DECQ CX
	JNZ  loop4

store4:
	VBROADCASTSD alpha+64(FP), Y12
	VBROADCASTSD beta+72(FP), Y13
	MOVQ beta+72(FP), R13
	SHLQ $1, R13 // β = ±0: C is not read
	STORE4(Y0, Y1, Y2, zero0, done0)
	STORE4(Y3, Y4, Y5, zero1, done1)
	STORE4(Y6, Y7, Y8, zero2, done2)
	STORE4(Y9, Y10, Y11, zero3, done3)
	VZEROUPPER
	RET

// func row16AVX512(k int, a *float64, ksA int, b *float64, ksB int, c *float64, mask uint64)
// One row of a tile: c[j] = Σ_p a[p·ksA]·b[p·ksB + j] for the columns j set in mask (bit j;
// strides in bytes), each entry summed by fused multiply-adds in the order of p from 0, as
// kern8x16AVX512 sums it (and stores it with α = 1, β = 0). A short last tile of a
// rotation's rows costs a row each here, not a whole tile of eight.
TEXT ·row16AVX512(SB), NOSPLIT, $0-56
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ ksA+16(FP), R11
	MOVQ b+24(FP), BX
	MOVQ ksB+32(FP), R10
	MOVQ c+40(FP), DI
	MOVQ mask+48(FP), AX
	KMOVW AX, K1
	KSHIFTRW $8, K1, K2
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	TESTQ CX, CX
	JZ   rowstore

rowloop:
	VMOVUPD.Z    (BX), K1, Z30
	VMOVUPD.Z    64(BX), K2, Z31
	VBROADCASTSD (SI), Z16
	VFMADD231PD  Z30, Z16, Z0
	VFMADD231PD  Z31, Z16, Z1
	ADDQ         R10, BX
	ADDQ         R11, SI
	DECQ         CX
	JNZ          rowloop

rowstore:
	VMOVUPD Z0, K1, (DI)
	VMOVUPD Z1, K2, 64(DI)
	VZEROUPPER
	RET

// func row64AVX512(k int, a *float64, ksA int, b *float64, ksB int, c *float64)
// row16AVX512 for 64 columns, all of them: eight independent sums per step instead of two,
// so a row costs the FMA units' throughput, not their latency. The same sums in the same
// order, so the same bits.
TEXT ·row64AVX512(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ ksA+16(FP), R11
	MOVQ b+24(FP), BX
	MOVQ ksB+32(FP), R10
	MOVQ c+40(FP), DI
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	VPXORQ Z2, Z2, Z2
	VPXORQ Z3, Z3, Z3
	VPXORQ Z4, Z4, Z4
	VPXORQ Z5, Z5, Z5
	VPXORQ Z6, Z6, Z6
	VPXORQ Z7, Z7, Z7
	TESTQ CX, CX
	JZ   row64store

row64loop:
	VBROADCASTSD (SI), Z16
	VFMADD231PD  (BX), Z16, Z0
	VFMADD231PD  64(BX), Z16, Z1
	VFMADD231PD  128(BX), Z16, Z2
	VFMADD231PD  192(BX), Z16, Z3
	VFMADD231PD  256(BX), Z16, Z4
	VFMADD231PD  320(BX), Z16, Z5
	VFMADD231PD  384(BX), Z16, Z6
	VFMADD231PD  448(BX), Z16, Z7
	ADDQ         R10, BX
	ADDQ         R11, SI
	DECQ         CX
	JNZ          row64loop

row64store:
	VMOVUPD Z0, (DI)
	VMOVUPD Z1, 64(DI)
	VMOVUPD Z2, 128(DI)
	VMOVUPD Z3, 192(DI)
	VMOVUPD Z4, 256(DI)
	VMOVUPD Z5, 320(DI)
	VMOVUPD Z6, 384(DI)
	VMOVUPD Z7, 448(DI)
	VZEROUPPER
	RET
