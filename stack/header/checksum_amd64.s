//go:build amd64 && !purego

#include "textflag.h"

// func sum64ADC(b []byte) uint64
// len(b) is a multiple of 64. One ADCQ chain over eight quadwords per
// iteration; LEAQ and DECQ leave the carry flag alone, so the chain runs
// across iterations and the final carry is folded back in at the end.
TEXT ·sum64ADC(SB), NOSPLIT, $0-32
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX
	SHRQ $6, CX
	XORQ AX, AX
	TESTQ CX, CX
	JZ   adcdone

adcloop:
	ADCQ 0(SI), AX
	ADCQ 8(SI), AX
	ADCQ 16(SI), AX
	ADCQ 24(SI), AX
	ADCQ 32(SI), AX
	ADCQ 40(SI), AX
	ADCQ 48(SI), AX
	ADCQ 56(SI), AX
	LEAQ 64(SI), SI
	DECQ CX
	JNZ  adcloop

	// Two end-around carries: the first can itself carry out only when
	// AX was all ones, leaving AX zero for the second.
	ADCQ $0, AX
	ADCQ $0, AX

adcdone:
	MOVQ AX, ret+24(FP)
	RET

// func sum64AVX2(b []byte) uint64
// len(b) is a multiple of 64. Each 32-byte load is split into its eight
// little-endian doublewords, zero-extended to quadwords by interleaving with
// a zero register, and added into four independent quadword accumulators:
// no carries to track: each of the 16 lanes adds len/64 doublewords, so
// even their final total stays below 2^64 for any buffer under 2^34 bytes
// (16 GiB), far beyond any packet or slice this package sums.
TEXT ·sum64AVX2(SB), NOSPLIT, $0-32
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX
	SHRQ $6, CX
	XORQ AX, AX
	TESTQ CX, CX
	JZ   avxret
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y15, Y15, Y15

avxloop:
	VMOVDQU    0(SI), Y4
	VMOVDQU    32(SI), Y5
	VPUNPCKLDQ Y15, Y4, Y6
	VPUNPCKHDQ Y15, Y4, Y7
	VPUNPCKLDQ Y15, Y5, Y8
	VPUNPCKHDQ Y15, Y5, Y9
	VPADDQ     Y6, Y0, Y0
	VPADDQ     Y7, Y1, Y1
	VPADDQ     Y8, Y2, Y2
	VPADDQ     Y9, Y3, Y3
	ADDQ       $64, SI
	DECQ       CX
	JNZ        avxloop

	VPADDQ       Y1, Y0, Y0
	VPADDQ       Y3, Y2, Y2
	VPADDQ       Y2, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDQ       X1, X0, X0
	VPSHUFD      $0x4e, X0, X1
	VPADDQ       X1, X0, X0
	VMOVQ        X0, AX
	VZEROUPPER

avxret:
	MOVQ AX, ret+24(FP)
	RET

// func copySum64AVX2(dst, src []byte) uint64
// sum64AVX2 with a store of each loaded vector to dst: the data is read
// once for both the copy and the checksum. len(src) is a multiple of 64.
TEXT ·copySum64AVX2(SB), NOSPLIT, $0-56
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	SHRQ $6, CX
	XORQ AX, AX
	TESTQ CX, CX
	JZ   cpret
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y15, Y15, Y15

cploop:
	VMOVDQU    0(SI), Y4
	VMOVDQU    32(SI), Y5
	VMOVDQU    Y4, 0(DI)
	VMOVDQU    Y5, 32(DI)
	VPUNPCKLDQ Y15, Y4, Y6
	VPUNPCKHDQ Y15, Y4, Y7
	VPUNPCKLDQ Y15, Y5, Y8
	VPUNPCKHDQ Y15, Y5, Y9
	VPADDQ     Y6, Y0, Y0
	VPADDQ     Y7, Y1, Y1
	VPADDQ     Y8, Y2, Y2
	VPADDQ     Y9, Y3, Y3
	ADDQ       $64, SI
	ADDQ       $64, DI
	DECQ       CX
	JNZ        cploop

	VPADDQ       Y1, Y0, Y0
	VPADDQ       Y3, Y2, Y2
	VPADDQ       Y2, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDQ       X1, X0, X0
	VPSHUFD      $0x4e, X0, X1
	VPADDQ       X1, X0, X0
	VMOVQ        X0, AX
	VZEROUPPER

cpret:
	MOVQ AX, ret+48(FP)
	RET
