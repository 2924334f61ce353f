//go:build amd64 && !purego

#include "textflag.h"

// func quoteBitsAVX2(b []byte, q *quoteBits) (special, high bool)
//
// Each 64 bytes of b give one word of q: the mask of the bytes equal to
// '"'. Bytes equal to '\\' or at most 0x1f (a saturating subtraction of
// 0x1f leaves 0) are OR-ed into Y15, and all bytes into Y14, whose sign
// bits then tell whether any byte is 0x80 or up. The last partial block
// is read as the last 64 bytes of b, overlapping the block before it,
// and its mask shifted down to the block's start. The constants are
// loaded with VEX instructions only: a legacy SSE instruction after a
// YMM write costs a state transition on every call.
TEXT ·quoteBitsAVX2(SB), NOSPLIT, $0-34
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX
	MOVQ q+24(FP), DI
	MOVL $0x22, AX
	VMOVD AX, X10
	VPBROADCASTB X10, Y10
	MOVL $0x5c, AX
	VMOVD AX, X11
	VPBROADCASTB X11, Y11
	MOVL $0x1f, AX
	VMOVD AX, X12
	VPBROADCASTB X12, Y12
	VPXOR Y13, Y13, Y13
	VPXOR Y14, Y14, Y14
	VPXOR Y15, Y15, Y15
	MOVQ CX, DX
	SHRQ $6, DX
	JZ   tail

loop:
	VMOVDQU (SI), Y0
	VMOVDQU 32(SI), Y1
	VPCMPEQB Y10, Y0, Y2
	VPCMPEQB Y10, Y1, Y3
	VPMOVMSKB Y2, AX
	VPMOVMSKB Y3, BX
	SHLQ $32, BX
	ORQ  BX, AX
	MOVQ AX, (DI)
	VPCMPEQB Y11, Y0, Y4
	VPCMPEQB Y11, Y1, Y5
	VPSUBUSB Y12, Y0, Y6
	VPSUBUSB Y12, Y1, Y7
	VPCMPEQB Y13, Y6, Y6
	VPCMPEQB Y13, Y7, Y7
	VPOR Y4, Y5, Y4
	VPOR Y6, Y7, Y6
	VPOR Y4, Y15, Y15
	VPOR Y6, Y15, Y15
	VPOR Y0, Y14, Y14
	VPOR Y1, Y14, Y14
	ADDQ $64, SI
	ADDQ $8, DI
	DECQ DX
	JNZ  loop

tail:
	ANDQ $63, CX
	JZ   done
	LEAQ -64(SI)(CX*1), BX
	VMOVDQU (BX), Y0
	VMOVDQU 32(BX), Y1
	VPCMPEQB Y10, Y0, Y2
	VPCMPEQB Y10, Y1, Y3
	VPMOVMSKB Y2, AX
	VPMOVMSKB Y3, BX
	SHLQ $32, BX
	ORQ  BX, AX
	VPCMPEQB Y11, Y0, Y4
	VPCMPEQB Y11, Y1, Y5
	VPSUBUSB Y12, Y0, Y6
	VPSUBUSB Y12, Y1, Y7
	VPCMPEQB Y13, Y6, Y6
	VPCMPEQB Y13, Y7, Y7
	VPOR Y4, Y5, Y4
	VPOR Y6, Y7, Y6
	VPOR Y4, Y15, Y15
	VPOR Y6, Y15, Y15
	VPOR Y0, Y14, Y14
	VPOR Y1, Y14, Y14
	// Keep the top CX bits: the bytes past the last full block.
	MOVQ CX, R8
	MOVQ $64, CX
	SUBQ R8, CX
	SHRQ CX, AX
	MOVQ AX, (DI)

done:
	VPTEST Y15, Y15
	SETNE  special+32(FP)
	VPMOVMSKB Y14, AX
	TESTL AX, AX
	SETNE  high+33(FP)
	VZEROUPPER
	RET

// func specialBitsAVX2(b []byte, s *quoteBits)
//
// As quoteBitsAVX2, with the mask of the bytes that are '\\' or at most
// 0x1f in place of the quotes'.
TEXT ·specialBitsAVX2(SB), NOSPLIT, $0-32
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX
	MOVQ s+24(FP), DI
	MOVL $0x5c, AX
	VMOVD AX, X11
	VPBROADCASTB X11, Y11
	MOVL $0x1f, AX
	VMOVD AX, X12
	VPBROADCASTB X12, Y12
	VPXOR Y13, Y13, Y13
	MOVQ CX, DX
	SHRQ $6, DX
	JZ   stail

sloop:
	VMOVDQU (SI), Y0
	VMOVDQU 32(SI), Y1
	VPCMPEQB Y11, Y0, Y4
	VPCMPEQB Y11, Y1, Y5
	VPSUBUSB Y12, Y0, Y6
	VPSUBUSB Y12, Y1, Y7
	VPCMPEQB Y13, Y6, Y6
	VPCMPEQB Y13, Y7, Y7
	VPOR Y4, Y6, Y4
	VPOR Y5, Y7, Y5
	VPMOVMSKB Y4, AX
	VPMOVMSKB Y5, BX
	SHLQ $32, BX
	ORQ  BX, AX
	MOVQ AX, (DI)
	ADDQ $64, SI
	ADDQ $8, DI
	DECQ DX
	JNZ  sloop

stail:
	ANDQ $63, CX
	JZ   sdone
	LEAQ -64(SI)(CX*1), BX
	VMOVDQU (BX), Y0
	VMOVDQU 32(BX), Y1
	VPCMPEQB Y11, Y0, Y4
	VPCMPEQB Y11, Y1, Y5
	VPSUBUSB Y12, Y0, Y6
	VPSUBUSB Y12, Y1, Y7
	VPCMPEQB Y13, Y6, Y6
	VPCMPEQB Y13, Y7, Y7
	VPOR Y4, Y6, Y4
	VPOR Y5, Y7, Y5
	VPMOVMSKB Y4, AX
	VPMOVMSKB Y5, BX
	SHLQ $32, BX
	ORQ  BX, AX
	MOVQ CX, R8
	MOVQ $64, CX
	SUBQ R8, CX
	SHRQ CX, AX
	MOVQ AX, (DI)

sdone:
	VZEROUPPER
	RET
