//go:build amd64

#include "textflag.h"

// The state of a lane lives in two registers in the order the SHA
// instructions want it (State): abef holds a, b, e, f from the high
// dword down, cdgh holds c, d, g, h. Message words are kept four to a
// register, the earliest in the low dword, as SHA256MSG1 and SHA256MSG2
// take them.
//
// Lane 0: abef X1, cdgh X2, words X3-X6, data SI.
// Lane 1: abef X7, cdgh X8, words X9-X12, data DI.
// X0 is the implicit operand of SHA256RNDS2 (two words plus their round
// constants); X13 is scratch; X14 holds the byte-swap mask. The two lanes'
// rounds alternate: each lane's rounds form one long dependency chain,
// and the other lane's instructions run in its gaps.

// LOAD reads 16 bytes of a block and makes them four big-endian words.
#define LOAD(off, ptr, m) \
	MOVOU off(ptr), m; \
	PSHUFB X14, m

// SCHED turns a = w[t-16..t-13] into w[t..t+3], given
// b = w[t-12..t-9], c = w[t-8..t-5] and d = w[t-4..t-1]:
// w[t] = σ1(w[t-2]) + w[t-7] + σ0(w[t-15]) + w[t-16].
#define SCHED(a, b, c, d) \
	SHA256MSG1 b, a; \
	MOVO d, X13; \
	PALIGNR $4, c, X13; \
	PADDL X13, a; \
	SHA256MSG2 d, a

// ROUNDS runs the four rounds that use the words in m and the round
// constants from k+koff, two at a time. The first SHA256RNDS2 leaves the
// new a, b, e, f in cdgh and the old ones, which are the new c, d, g, h,
// in abef; the second swaps them back.
#define ROUNDS(m, koff, abef, cdgh) \
	MOVOU ·roundK+koff(SB), X0; \
	PADDL m, X0; \
	SHA256RNDS2 X0, abef, cdgh; \
	PSHUFD $0x0e, X0, X0; \
	SHA256RNDS2 X0, cdgh, abef

// func blocks2(s0, s1 *State, p0, p1 *byte, n int)
TEXT ·blocks2(SB), NOSPLIT, $64-40
	MOVQ s0+0(FP), AX
	MOVQ s1+8(FP), BX
	MOVQ p0+16(FP), SI
	MOVQ p1+24(FP), DI
	MOVQ n+32(FP), CX
	TESTQ CX, CX
	JZ done2
	MOVOU ·flipBytes(SB), X14
	MOVOU 0(AX), X1
	MOVOU 16(AX), X2
	MOVOU 0(BX), X7
	MOVOU 16(BX), X8

loop2:
	// The chaining values, added back after the block's 64 rounds.
	MOVOU X1, 0(SP)
	MOVOU X2, 16(SP)
	MOVOU X7, 32(SP)
	MOVOU X8, 48(SP)

	LOAD(0, SI, X3)
	LOAD(16, SI, X4)
	LOAD(32, SI, X5)
	LOAD(48, SI, X6)
	LOAD(0, DI, X9)
	LOAD(16, DI, X10)
	LOAD(32, DI, X11)
	LOAD(48, DI, X12)
	ROUNDS(X3, 0, X1, X2)
	ROUNDS(X9, 0, X7, X8)
	ROUNDS(X4, 16, X1, X2)
	ROUNDS(X10, 16, X7, X8)
	ROUNDS(X5, 32, X1, X2)
	ROUNDS(X11, 32, X7, X8)
	ROUNDS(X6, 48, X1, X2)
	ROUNDS(X12, 48, X7, X8)
	SCHED(X3, X4, X5, X6)
	ROUNDS(X3, 64, X1, X2)
	SCHED(X9, X10, X11, X12)
	ROUNDS(X9, 64, X7, X8)
	SCHED(X4, X5, X6, X3)
	ROUNDS(X4, 80, X1, X2)
	SCHED(X10, X11, X12, X9)
	ROUNDS(X10, 80, X7, X8)
	SCHED(X5, X6, X3, X4)
	ROUNDS(X5, 96, X1, X2)
	SCHED(X11, X12, X9, X10)
	ROUNDS(X11, 96, X7, X8)
	SCHED(X6, X3, X4, X5)
	ROUNDS(X6, 112, X1, X2)
	SCHED(X12, X9, X10, X11)
	ROUNDS(X12, 112, X7, X8)
	SCHED(X3, X4, X5, X6)
	ROUNDS(X3, 128, X1, X2)
	SCHED(X9, X10, X11, X12)
	ROUNDS(X9, 128, X7, X8)
	SCHED(X4, X5, X6, X3)
	ROUNDS(X4, 144, X1, X2)
	SCHED(X10, X11, X12, X9)
	ROUNDS(X10, 144, X7, X8)
	SCHED(X5, X6, X3, X4)
	ROUNDS(X5, 160, X1, X2)
	SCHED(X11, X12, X9, X10)
	ROUNDS(X11, 160, X7, X8)
	SCHED(X6, X3, X4, X5)
	ROUNDS(X6, 176, X1, X2)
	SCHED(X12, X9, X10, X11)
	ROUNDS(X12, 176, X7, X8)
	SCHED(X3, X4, X5, X6)
	ROUNDS(X3, 192, X1, X2)
	SCHED(X9, X10, X11, X12)
	ROUNDS(X9, 192, X7, X8)
	SCHED(X4, X5, X6, X3)
	ROUNDS(X4, 208, X1, X2)
	SCHED(X10, X11, X12, X9)
	ROUNDS(X10, 208, X7, X8)
	SCHED(X5, X6, X3, X4)
	ROUNDS(X5, 224, X1, X2)
	SCHED(X11, X12, X9, X10)
	ROUNDS(X11, 224, X7, X8)
	SCHED(X6, X3, X4, X5)
	ROUNDS(X6, 240, X1, X2)
	SCHED(X12, X9, X10, X11)
	ROUNDS(X12, 240, X7, X8)

	MOVOU 0(SP), X13
	PADDL X13, X1
	MOVOU 16(SP), X13
	PADDL X13, X2
	MOVOU 32(SP), X13
	PADDL X13, X7
	MOVOU 48(SP), X13
	PADDL X13, X8
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ loop2

	MOVOU X1, 0(AX)
	MOVOU X2, 16(AX)
	MOVOU X7, 0(BX)
	MOVOU X8, 16(BX)

done2:
	RET

// func blocks1(s *State, p *byte, n int)
TEXT ·blocks1(SB), NOSPLIT, $32-24
	MOVQ s+0(FP), AX
	MOVQ p+8(FP), SI
	MOVQ n+16(FP), CX
	TESTQ CX, CX
	JZ done1
	MOVOU ·flipBytes(SB), X14
	MOVOU 0(AX), X1
	MOVOU 16(AX), X2

loop1:
	MOVOU X1, 0(SP)
	MOVOU X2, 16(SP)

	LOAD(0, SI, X3)
	LOAD(16, SI, X4)
	LOAD(32, SI, X5)
	LOAD(48, SI, X6)
	ROUNDS(X3, 0, X1, X2)
	ROUNDS(X4, 16, X1, X2)
	ROUNDS(X5, 32, X1, X2)
	ROUNDS(X6, 48, X1, X2)
	SCHED(X3, X4, X5, X6)
	ROUNDS(X3, 64, X1, X2)
	SCHED(X4, X5, X6, X3)
	ROUNDS(X4, 80, X1, X2)
	SCHED(X5, X6, X3, X4)
	ROUNDS(X5, 96, X1, X2)
	SCHED(X6, X3, X4, X5)
	ROUNDS(X6, 112, X1, X2)
	SCHED(X3, X4, X5, X6)
	ROUNDS(X3, 128, X1, X2)
	SCHED(X4, X5, X6, X3)
	ROUNDS(X4, 144, X1, X2)
	SCHED(X5, X6, X3, X4)
	ROUNDS(X5, 160, X1, X2)
	SCHED(X6, X3, X4, X5)
	ROUNDS(X6, 176, X1, X2)
	SCHED(X3, X4, X5, X6)
	ROUNDS(X3, 192, X1, X2)
	SCHED(X4, X5, X6, X3)
	ROUNDS(X4, 208, X1, X2)
	SCHED(X5, X6, X3, X4)
	ROUNDS(X5, 224, X1, X2)
	SCHED(X6, X3, X4, X5)
	ROUNDS(X6, 240, X1, X2)

	MOVOU 0(SP), X13
	PADDL X13, X1
	MOVOU 16(SP), X13
	PADDL X13, X2
	ADDQ $64, SI
	DECQ CX
	JNZ loop1

	MOVOU X1, 0(AX)
	MOVOU X2, 16(AX)

done1:
	RET

// func cpuid(leaf, sub uint32) (a, b, c, d uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, a+8(FP)
	MOVL BX, b+12(FP)
	MOVL CX, c+16(FP)
	MOVL DX, d+20(FP)
	RET

// PSHUFB mask reversing the bytes of each dword: SHA-256 reads its
// message as big-endian words.
DATA ·flipBytes+0(SB)/8, $0x0405060700010203
DATA ·flipBytes+8(SB)/8, $0x0c0d0e0f08090a0b
GLOBL ·flipBytes(SB), RODATA|NOPTR, $16

// The round constants of FIPS 180-4, section 4.2.2: the first 32 bits of
// the fractional parts of the cube roots of the first 64 primes.
DATA ·roundK+0(SB)/4, $0x428a2f98
DATA ·roundK+4(SB)/4, $0x71374491
DATA ·roundK+8(SB)/4, $0xb5c0fbcf
DATA ·roundK+12(SB)/4, $0xe9b5dba5
DATA ·roundK+16(SB)/4, $0x3956c25b
DATA ·roundK+20(SB)/4, $0x59f111f1
DATA ·roundK+24(SB)/4, $0x923f82a4
DATA ·roundK+28(SB)/4, $0xab1c5ed5
DATA ·roundK+32(SB)/4, $0xd807aa98
DATA ·roundK+36(SB)/4, $0x12835b01
DATA ·roundK+40(SB)/4, $0x243185be
DATA ·roundK+44(SB)/4, $0x550c7dc3
DATA ·roundK+48(SB)/4, $0x72be5d74
DATA ·roundK+52(SB)/4, $0x80deb1fe
DATA ·roundK+56(SB)/4, $0x9bdc06a7
DATA ·roundK+60(SB)/4, $0xc19bf174
DATA ·roundK+64(SB)/4, $0xe49b69c1
DATA ·roundK+68(SB)/4, $0xefbe4786
DATA ·roundK+72(SB)/4, $0x0fc19dc6
DATA ·roundK+76(SB)/4, $0x240ca1cc
DATA ·roundK+80(SB)/4, $0x2de92c6f
DATA ·roundK+84(SB)/4, $0x4a7484aa
DATA ·roundK+88(SB)/4, $0x5cb0a9dc
DATA ·roundK+92(SB)/4, $0x76f988da
DATA ·roundK+96(SB)/4, $0x983e5152
DATA ·roundK+100(SB)/4, $0xa831c66d
DATA ·roundK+104(SB)/4, $0xb00327c8
DATA ·roundK+108(SB)/4, $0xbf597fc7
DATA ·roundK+112(SB)/4, $0xc6e00bf3
DATA ·roundK+116(SB)/4, $0xd5a79147
DATA ·roundK+120(SB)/4, $0x06ca6351
DATA ·roundK+124(SB)/4, $0x14292967
DATA ·roundK+128(SB)/4, $0x27b70a85
DATA ·roundK+132(SB)/4, $0x2e1b2138
DATA ·roundK+136(SB)/4, $0x4d2c6dfc
DATA ·roundK+140(SB)/4, $0x53380d13
DATA ·roundK+144(SB)/4, $0x650a7354
DATA ·roundK+148(SB)/4, $0x766a0abb
DATA ·roundK+152(SB)/4, $0x81c2c92e
DATA ·roundK+156(SB)/4, $0x92722c85
DATA ·roundK+160(SB)/4, $0xa2bfe8a1
DATA ·roundK+164(SB)/4, $0xa81a664b
DATA ·roundK+168(SB)/4, $0xc24b8b70
DATA ·roundK+172(SB)/4, $0xc76c51a3
DATA ·roundK+176(SB)/4, $0xd192e819
DATA ·roundK+180(SB)/4, $0xd6990624
DATA ·roundK+184(SB)/4, $0xf40e3585
DATA ·roundK+188(SB)/4, $0x106aa070
DATA ·roundK+192(SB)/4, $0x19a4c116
DATA ·roundK+196(SB)/4, $0x1e376c08
DATA ·roundK+200(SB)/4, $0x2748774c
DATA ·roundK+204(SB)/4, $0x34b0bcb5
DATA ·roundK+208(SB)/4, $0x391c0cb3
DATA ·roundK+212(SB)/4, $0x4ed8aa4a
DATA ·roundK+216(SB)/4, $0x5b9cca4f
DATA ·roundK+220(SB)/4, $0x682e6ff3
DATA ·roundK+224(SB)/4, $0x748f82ee
DATA ·roundK+228(SB)/4, $0x78a5636f
DATA ·roundK+232(SB)/4, $0x84c87814
DATA ·roundK+236(SB)/4, $0x8cc70208
DATA ·roundK+240(SB)/4, $0x90befffa
DATA ·roundK+244(SB)/4, $0xa4506ceb
DATA ·roundK+248(SB)/4, $0xbef9a3f7
DATA ·roundK+252(SB)/4, $0xc67178f2
GLOBL ·roundK(SB), RODATA|NOPTR, $256
