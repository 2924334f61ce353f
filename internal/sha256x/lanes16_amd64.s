//go:build amd64

#include "textflag.h"

// Sixteen messages at once with AVX-512: dword i of each Z register
// belongs to message i, and the rounds are the plain ones of FIPS 180-4,
// each instruction doing sixteen messages' step. VPRORD rotates and
// VPTERNLOGD merges three values bitwise in one instruction: 0x96 is
// x ^ y ^ z, 0xb8 is "choose" (the middle operand picks between the
// last and the first), 0xe8 is majority.
//
// Z0-Z7 hold a-h (the names rotate by a register each round rather than
// the values moving), Z16-Z31 the last sixteen message words, Z8-Z10 are
// scratch, Z11 and Z12 hold the addresses of messages 0-7's and 8-15's
// current blocks, Z14 the indexes that pick odd dwords, Z15 the
// byte-swap mask. SI is p, DI the states, BX the messages' block counts,
// DX the block, R9 zero (the gathers' base: their indexes are
// addresses).

// LOAD16 gathers words off/4 and off/4+1 of the current block of every
// message that has one (K2 for messages 0-7, K3 for 8-15), a quadword
// per message from the addresses in Z11 (messages 0-7) and Z12 (8-15),
// and splits them into the even words (we) and the odd (wo), made
// big-endian: half the loads of gathering each word on its own.
#define LOAD16(we, wo, off) \
	KMOVW K2, K1; \
	VPGATHERQQ off(R9)(Z11*1), K1, wo; \
	KMOVW K3, K4; \
	VPGATHERQQ off(R9)(Z12*1), K4, Z8; \
	VMOVDQU32 evenWords<>(SB), we; \
	VPERMI2D Z8, wo, we; \
	VPERMT2D Z8, Z14, wo; \
	VPSHUFB Z15, we, we; \
	VPSHUFB Z15, wo, wo

// SCHED16 turns wt = w[t-16] into w[t], given w15 = w[t-15], w7 = w[t-7]
// and w2 = w[t-2].
#define SCHED16(wt, w15, w7, w2) \
	VPRORD $7, w15, Z8; \
	VPRORD $18, w15, Z9; \
	VPSRLD $3, w15, Z10; \
	VPTERNLOGD $0x96, Z10, Z9, Z8; \
	VPADDD Z8, wt, wt; \
	VPRORD $17, w2, Z8; \
	VPRORD $19, w2, Z9; \
	VPSRLD $10, w2, Z10; \
	VPTERNLOGD $0x96, Z10, Z9, Z8; \
	VPADDD Z8, wt, wt; \
	VPADDD w7, wt, wt

// ROUND16 is round t of every message: h becomes the new a, d the new e.
#define ROUND16(a, b, c, d, e, f, g, h, w, koff) \
	VPADDD.BCST ·roundK+koff(SB), h, h; \
	VPADDD w, h, h; \
	VPRORD $6, e, Z8; \
	VPRORD $11, e, Z9; \
	VPRORD $25, e, Z10; \
	VPTERNLOGD $0x96, Z10, Z9, Z8; \
	VPADDD Z8, h, h; \
	VMOVDQA32 g, Z9; \
	VPTERNLOGD $0xb8, f, e, Z9; \
	VPADDD Z9, h, h; \
	VPADDD h, d, d; \
	VPRORD $2, a, Z8; \
	VPRORD $13, a, Z9; \
	VPRORD $22, a, Z10; \
	VPTERNLOGD $0x96, Z10, Z9, Z8; \
	VPADDD Z8, h, h; \
	VMOVDQA32 a, Z9; \
	VPTERNLOGD $0xe8, c, b, Z9; \
	VPADDD Z9, h, h

// func blocks16(l *Lanes, p *byte, offs, counts *[16]int32, n int)
TEXT ·blocks16(SB), NOSPLIT, $0-40
	MOVQ l+0(FP), DI
	MOVQ p+8(FP), SI
	MOVQ offs+16(FP), AX
	MOVQ counts+24(FP), BX
	MOVQ n+32(FP), CX
	TESTQ CX, CX
	JZ done16
	XORL DX, DX
	XORL R9, R9
	// Z11, Z12: the messages' addresses, p plus their offsets.
	VPBROADCASTQ SI, Z13
	VPMOVZXDQ (AX), Z11
	VPMOVZXDQ 32(AX), Z12
	VPADDQ Z13, Z11, Z11
	VPADDQ Z13, Z12, Z12
	VMOVDQU32 oddWords<>(SB), Z14
	VBROADCASTI32X4 ·flipBytes(SB), Z15
	VMOVDQU32 0(DI), Z0
	VMOVDQU32 64(DI), Z1
	VMOVDQU32 128(DI), Z2
	VMOVDQU32 192(DI), Z3
	VMOVDQU32 256(DI), Z4
	VMOVDQU32 320(DI), Z5
	VMOVDQU32 384(DI), Z6
	VMOVDQU32 448(DI), Z7

loop16:
	// K2: the messages that have block DX. The others' lanes compute
	// on whatever they hold, and their states in l are left alone.
	VMOVDQU32 (BX), Z8
	VPBROADCASTD DX, Z9
	VPCMPGTD Z9, Z8, K2
	KSHIFTRW $8, K2, K3
	LOAD16(Z16, Z17, 0)
	LOAD16(Z18, Z19, 8)
	LOAD16(Z20, Z21, 16)
	LOAD16(Z22, Z23, 24)
	LOAD16(Z24, Z25, 32)
	LOAD16(Z26, Z27, 40)
	LOAD16(Z28, Z29, 48)
	LOAD16(Z30, Z31, 56)
	ROUND16(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z16, 0)
	ROUND16(Z7, Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z17, 4)
	ROUND16(Z6, Z7, Z0, Z1, Z2, Z3, Z4, Z5, Z18, 8)
	ROUND16(Z5, Z6, Z7, Z0, Z1, Z2, Z3, Z4, Z19, 12)
	ROUND16(Z4, Z5, Z6, Z7, Z0, Z1, Z2, Z3, Z20, 16)
	ROUND16(Z3, Z4, Z5, Z6, Z7, Z0, Z1, Z2, Z21, 20)
	ROUND16(Z2, Z3, Z4, Z5, Z6, Z7, Z0, Z1, Z22, 24)
	ROUND16(Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z0, Z23, 28)
	ROUND16(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z24, 32)
	ROUND16(Z7, Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z25, 36)
	ROUND16(Z6, Z7, Z0, Z1, Z2, Z3, Z4, Z5, Z26, 40)
	ROUND16(Z5, Z6, Z7, Z0, Z1, Z2, Z3, Z4, Z27, 44)
	ROUND16(Z4, Z5, Z6, Z7, Z0, Z1, Z2, Z3, Z28, 48)
	ROUND16(Z3, Z4, Z5, Z6, Z7, Z0, Z1, Z2, Z29, 52)
	ROUND16(Z2, Z3, Z4, Z5, Z6, Z7, Z0, Z1, Z30, 56)
	ROUND16(Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z0, Z31, 60)
	SCHED16(Z16, Z17, Z25, Z30)
	ROUND16(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z16, 64)
	SCHED16(Z17, Z18, Z26, Z31)
	ROUND16(Z7, Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z17, 68)
	SCHED16(Z18, Z19, Z27, Z16)
	ROUND16(Z6, Z7, Z0, Z1, Z2, Z3, Z4, Z5, Z18, 72)
	SCHED16(Z19, Z20, Z28, Z17)
	ROUND16(Z5, Z6, Z7, Z0, Z1, Z2, Z3, Z4, Z19, 76)
	SCHED16(Z20, Z21, Z29, Z18)
	ROUND16(Z4, Z5, Z6, Z7, Z0, Z1, Z2, Z3, Z20, 80)
	SCHED16(Z21, Z22, Z30, Z19)
	ROUND16(Z3, Z4, Z5, Z6, Z7, Z0, Z1, Z2, Z21, 84)
	SCHED16(Z22, Z23, Z31, Z20)
	ROUND16(Z2, Z3, Z4, Z5, Z6, Z7, Z0, Z1, Z22, 88)
	SCHED16(Z23, Z24, Z16, Z21)
	ROUND16(Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z0, Z23, 92)
	SCHED16(Z24, Z25, Z17, Z22)
	ROUND16(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z24, 96)
	SCHED16(Z25, Z26, Z18, Z23)
	ROUND16(Z7, Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z25, 100)
	SCHED16(Z26, Z27, Z19, Z24)
	ROUND16(Z6, Z7, Z0, Z1, Z2, Z3, Z4, Z5, Z26, 104)
	SCHED16(Z27, Z28, Z20, Z25)
	ROUND16(Z5, Z6, Z7, Z0, Z1, Z2, Z3, Z4, Z27, 108)
	SCHED16(Z28, Z29, Z21, Z26)
	ROUND16(Z4, Z5, Z6, Z7, Z0, Z1, Z2, Z3, Z28, 112)
	SCHED16(Z29, Z30, Z22, Z27)
	ROUND16(Z3, Z4, Z5, Z6, Z7, Z0, Z1, Z2, Z29, 116)
	SCHED16(Z30, Z31, Z23, Z28)
	ROUND16(Z2, Z3, Z4, Z5, Z6, Z7, Z0, Z1, Z30, 120)
	SCHED16(Z31, Z16, Z24, Z29)
	ROUND16(Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z0, Z31, 124)
	SCHED16(Z16, Z17, Z25, Z30)
	ROUND16(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z16, 128)
	SCHED16(Z17, Z18, Z26, Z31)
	ROUND16(Z7, Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z17, 132)
	SCHED16(Z18, Z19, Z27, Z16)
	ROUND16(Z6, Z7, Z0, Z1, Z2, Z3, Z4, Z5, Z18, 136)
	SCHED16(Z19, Z20, Z28, Z17)
	ROUND16(Z5, Z6, Z7, Z0, Z1, Z2, Z3, Z4, Z19, 140)
	SCHED16(Z20, Z21, Z29, Z18)
	ROUND16(Z4, Z5, Z6, Z7, Z0, Z1, Z2, Z3, Z20, 144)
	SCHED16(Z21, Z22, Z30, Z19)
	ROUND16(Z3, Z4, Z5, Z6, Z7, Z0, Z1, Z2, Z21, 148)
	SCHED16(Z22, Z23, Z31, Z20)
	ROUND16(Z2, Z3, Z4, Z5, Z6, Z7, Z0, Z1, Z22, 152)
	SCHED16(Z23, Z24, Z16, Z21)
	ROUND16(Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z0, Z23, 156)
	SCHED16(Z24, Z25, Z17, Z22)
	ROUND16(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z24, 160)
	SCHED16(Z25, Z26, Z18, Z23)
	ROUND16(Z7, Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z25, 164)
	SCHED16(Z26, Z27, Z19, Z24)
	ROUND16(Z6, Z7, Z0, Z1, Z2, Z3, Z4, Z5, Z26, 168)
	SCHED16(Z27, Z28, Z20, Z25)
	ROUND16(Z5, Z6, Z7, Z0, Z1, Z2, Z3, Z4, Z27, 172)
	SCHED16(Z28, Z29, Z21, Z26)
	ROUND16(Z4, Z5, Z6, Z7, Z0, Z1, Z2, Z3, Z28, 176)
	SCHED16(Z29, Z30, Z22, Z27)
	ROUND16(Z3, Z4, Z5, Z6, Z7, Z0, Z1, Z2, Z29, 180)
	SCHED16(Z30, Z31, Z23, Z28)
	ROUND16(Z2, Z3, Z4, Z5, Z6, Z7, Z0, Z1, Z30, 184)
	SCHED16(Z31, Z16, Z24, Z29)
	ROUND16(Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z0, Z31, 188)
	SCHED16(Z16, Z17, Z25, Z30)
	ROUND16(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z16, 192)
	SCHED16(Z17, Z18, Z26, Z31)
	ROUND16(Z7, Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z17, 196)
	SCHED16(Z18, Z19, Z27, Z16)
	ROUND16(Z6, Z7, Z0, Z1, Z2, Z3, Z4, Z5, Z18, 200)
	SCHED16(Z19, Z20, Z28, Z17)
	ROUND16(Z5, Z6, Z7, Z0, Z1, Z2, Z3, Z4, Z19, 204)
	SCHED16(Z20, Z21, Z29, Z18)
	ROUND16(Z4, Z5, Z6, Z7, Z0, Z1, Z2, Z3, Z20, 208)
	SCHED16(Z21, Z22, Z30, Z19)
	ROUND16(Z3, Z4, Z5, Z6, Z7, Z0, Z1, Z2, Z21, 212)
	SCHED16(Z22, Z23, Z31, Z20)
	ROUND16(Z2, Z3, Z4, Z5, Z6, Z7, Z0, Z1, Z22, 216)
	SCHED16(Z23, Z24, Z16, Z21)
	ROUND16(Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z0, Z23, 220)
	SCHED16(Z24, Z25, Z17, Z22)
	ROUND16(Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z24, 224)
	SCHED16(Z25, Z26, Z18, Z23)
	ROUND16(Z7, Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z25, 228)
	SCHED16(Z26, Z27, Z19, Z24)
	ROUND16(Z6, Z7, Z0, Z1, Z2, Z3, Z4, Z5, Z26, 232)
	SCHED16(Z27, Z28, Z20, Z25)
	ROUND16(Z5, Z6, Z7, Z0, Z1, Z2, Z3, Z4, Z27, 236)
	SCHED16(Z28, Z29, Z21, Z26)
	ROUND16(Z4, Z5, Z6, Z7, Z0, Z1, Z2, Z3, Z28, 240)
	SCHED16(Z29, Z30, Z22, Z27)
	ROUND16(Z3, Z4, Z5, Z6, Z7, Z0, Z1, Z2, Z29, 244)
	SCHED16(Z30, Z31, Z23, Z28)
	ROUND16(Z2, Z3, Z4, Z5, Z6, Z7, Z0, Z1, Z30, 248)
	SCHED16(Z31, Z16, Z24, Z29)
	ROUND16(Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z0, Z31, 252)

	// Sixty-four rounds bring the names back to Z0-Z7; the chaining
	// values, kept in l, are added and the sums kept there for the
	// messages that had this block.
	VPADDD 0(DI), Z0, Z0
	VPADDD 64(DI), Z1, Z1
	VPADDD 128(DI), Z2, Z2
	VPADDD 192(DI), Z3, Z3
	VPADDD 256(DI), Z4, Z4
	VPADDD 320(DI), Z5, Z5
	VPADDD 384(DI), Z6, Z6
	VPADDD 448(DI), Z7, Z7
	VMOVDQU32 Z0, K2, 0(DI)
	VMOVDQU32 Z1, K2, 64(DI)
	VMOVDQU32 Z2, K2, 128(DI)
	VMOVDQU32 Z3, K2, 192(DI)
	VMOVDQU32 Z4, K2, 256(DI)
	VMOVDQU32 Z5, K2, 320(DI)
	VMOVDQU32 Z6, K2, 384(DI)
	VMOVDQU32 Z7, K2, 448(DI)
	VPADDQ.BCST blocksize<>(SB), Z11, Z11
	VPADDQ.BCST blocksize<>(SB), Z12, Z12
	INCL DX
	DECQ CX
	JNZ loop16

done16:
	VZEROUPPER
	RET

DATA blocksize<>+0(SB)/8, $64
GLOBL blocksize<>(SB), RODATA|NOPTR, $8

// evenWords and oddWords pick the even and the odd dwords of two
// registers of quadwords for VPERMI2D and VPERMT2D.
DATA evenWords<>+0(SB)/4, $0
DATA evenWords<>+4(SB)/4, $2
DATA evenWords<>+8(SB)/4, $4
DATA evenWords<>+12(SB)/4, $6
DATA evenWords<>+16(SB)/4, $8
DATA evenWords<>+20(SB)/4, $10
DATA evenWords<>+24(SB)/4, $12
DATA evenWords<>+28(SB)/4, $14
DATA evenWords<>+32(SB)/4, $16
DATA evenWords<>+36(SB)/4, $18
DATA evenWords<>+40(SB)/4, $20
DATA evenWords<>+44(SB)/4, $22
DATA evenWords<>+48(SB)/4, $24
DATA evenWords<>+52(SB)/4, $26
DATA evenWords<>+56(SB)/4, $28
DATA evenWords<>+60(SB)/4, $30
GLOBL evenWords<>(SB), RODATA|NOPTR, $64
DATA oddWords<>+0(SB)/4, $1
DATA oddWords<>+4(SB)/4, $3
DATA oddWords<>+8(SB)/4, $5
DATA oddWords<>+12(SB)/4, $7
DATA oddWords<>+16(SB)/4, $9
DATA oddWords<>+20(SB)/4, $11
DATA oddWords<>+24(SB)/4, $13
DATA oddWords<>+28(SB)/4, $15
DATA oddWords<>+32(SB)/4, $17
DATA oddWords<>+36(SB)/4, $19
DATA oddWords<>+40(SB)/4, $21
DATA oddWords<>+44(SB)/4, $23
DATA oddWords<>+48(SB)/4, $25
DATA oddWords<>+52(SB)/4, $27
DATA oddWords<>+56(SB)/4, $29
DATA oddWords<>+60(SB)/4, $31
GLOBL oddWords<>(SB), RODATA|NOPTR, $64
