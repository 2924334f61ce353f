//go:build amd64 && !purego

#include "textflag.h"

// func plainPrefixAVX2(s []byte) int
//
// 32 bytes a step: a byte stops the scan if it equals '"' or '\\', or if
// 0x20 is greater than it as a signed byte (below 0x20, or 0x80 and up).
// The last partial block is read as the last 32 bytes of s, overlapping
// the one before, and its mask shifted past the bytes already looked at.
// len(s) must be 32 or more.
TEXT ·plainPrefixAVX2(SB), NOSPLIT, $0-32
	MOVQ s_base+0(FP), SI
	MOVQ s_len+8(FP), R9
	MOVL $0x22, AX
	VMOVD AX, X10
	VPBROADCASTB X10, Y10
	MOVL $0x5c, AX
	VMOVD AX, X11
	VPBROADCASTB X11, Y11
	MOVL $0x20, AX
	VMOVD AX, X12
	VPBROADCASTB X12, Y12
	XORQ DX, DX
	MOVQ R9, BX
	SUBQ $32, BX // the start of the last whole block

loop:
	CMPQ DX, BX
	JA   tail
	VMOVDQU (SI)(DX*1), Y0
	VPCMPEQB Y10, Y0, Y1
	VPCMPEQB Y11, Y0, Y2
	VPCMPGTB Y0, Y12, Y3
	VPOR Y1, Y2, Y1
	VPOR Y1, Y3, Y1
	VPMOVMSKB Y1, AX
	TESTL AX, AX
	JNZ  found
	ADDQ $32, DX
	JMP  loop

tail:
	CMPQ DX, R9
	JEQ  none
	VMOVDQU (SI)(BX*1), Y0
	VPCMPEQB Y10, Y0, Y1
	VPCMPEQB Y11, Y0, Y2
	VPCMPGTB Y0, Y12, Y3
	VPOR Y1, Y2, Y1
	VPOR Y1, Y3, Y1
	VPMOVMSKB Y1, AX
	MOVQ DX, CX
	SUBQ BX, CX // bytes of this block already looked at: 1 to 31
	SHRL CX, AX
	TESTL AX, AX
	JZ   none

found:
	BSFL AX, AX
	ADDQ DX, AX
	VZEROUPPER
	MOVQ AX, ret+24(FP)
	RET

none:
	VZEROUPPER
	MOVQ R9, ret+24(FP)
	RET
