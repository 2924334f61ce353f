//go:build amd64 && !purego

#include "textflag.h"

// func walkCompact(b []byte, q *quoteBits, spans *[16]uint32) (n, end, at, w int, m uint64)
//
// Registers: SI b, CX len(b), DI q, R8 spans, R9 n, R10 the index p of
// the next token, R11 the quotes of word R12 not yet taken. A quote is
// taken (POPQ) by BSF and clearing the lowest bit, moving on to the next
// word when R11 is empty. Every read of b is at p <= len(b)-1: b[len-1]
// is '}', which ends every run this walk reads. At the start of each
// member the state is written to n, at, w and m, so that on giving up
// the Go walk goes on from there.
#define POPQ(lbl, next, dst) \
lbl: \
	TESTQ R11, R11; \
	JNZ   next; \
	INCQ  R12; \
	CMPQ  R12, $33; \
	JAE   bail; \
	MOVQ  (DI)(R12*8), R11; \
	JMP   lbl; \
next: \
	BSFQ  R11, dst; \
	LEAQ  -1(R11), AX; \
	ANDQ  AX, R11; \
	MOVQ  R12, AX; \
	SHLQ  $6, AX; \
	ADDQ  AX, dst

TEXT ·walkCompact(SB), NOSPLIT, $0-80
	MOVQ b_base+0(FP), SI
	MOVQ b_len+8(FP), CX
	MOVQ q+24(FP), DI
	MOVQ spans+32(FP), R8
	XORQ R9, R9
	MOVQ $1, R10
	MOVQ (DI), R11
	ANDQ $-2, R11 // b[0] is '{'
	XORQ R12, R12
	LEAQ -1(CX), R15 // the index of '}'

member:
	MOVQ R9, n+40(FP)
	MOVQ R10, at+56(FP)
	MOVQ R12, w+64(FP)
	MOVQ R11, m+72(FP)
	CMPB (SI)(R10*1), $0x22
	JNE  bail
	POPQ(kopen, kopen1, BX)
	CMPQ BX, R10
	JNE  bail
	POPQ(kclose, kclose1, R13)
	CMPQ R9, $16
	JAE  bail
	LEAQ 1(R10), AX
	SHLQ $16, AX
	ORQ  R13, AX
	MOVL AX, (R8)(R9*4)
	INCQ R9
	CMPB 1(SI)(R13*1), $0x3a // ':'
	JNE  bail
	LEAQ 2(R13), R10
	CMPQ R10, R15
	JAE  bail
	MOVBLZX (SI)(R10*1), DX
	CMPB DX, $0x22
	JEQ  str
	CMPB DX, $0x2d // '-'
	JEQ  minus
	LEAL -0x30(DX), AX
	CMPL AX, $9
	JLS  digits
	CMPB DX, $0x74 // 't'
	JEQ  ltrue
	CMPB DX, $0x66 // 'f'
	JEQ  lfalse
	CMPB DX, $0x6e // 'n'
	JEQ  lnull
	JMP  bail

str:
	POPQ(vopen, vopen1, BX)
	CMPQ BX, R10
	JNE  bail
	POPQ(vclose, vclose1, R10)
	INCQ R10
	JMP  after

minus:
	INCQ R10
	MOVBLZX (SI)(R10*1), DX
	LEAL -0x30(DX), AX
	CMPL AX, $9
	JHI  bail

digits:
	// DX is the first digit, at R10.
	INCQ R10
	CMPB DX, $0x30
	JEQ  frac // a leading 0 stands alone

intdigits:
	MOVBLZX (SI)(R10*1), DX
	LEAL -0x30(DX), AX
	CMPL AX, $9
	JHI  frac
	INCQ R10
	JMP  intdigits

frac:
	MOVBLZX (SI)(R10*1), DX
	CMPB DX, $0x2e // '.'
	JNE  exp
	INCQ R10
	MOVBLZX (SI)(R10*1), DX
	LEAL -0x30(DX), AX
	CMPL AX, $9
	JHI  bail

fracdigits:
	INCQ R10
	MOVBLZX (SI)(R10*1), DX
	LEAL -0x30(DX), AX
	CMPL AX, $9
	JLS  fracdigits

exp:
	// DX is the byte at R10; an exponent is left to the Go walk.
	ORB  $0x20, DX
	CMPB DX, $0x65 // 'e' or 'E'
	JEQ  bail
	JMP  after

ltrue:
	LEAQ 4(R10), AX
	CMPQ AX, R15
	JA   bail
	CMPL (SI)(R10*1), $0x65757274 // "true"
	JNE  bail
	MOVQ AX, R10
	JMP  after

lnull:
	LEAQ 4(R10), AX
	CMPQ AX, R15
	JA   bail
	CMPL (SI)(R10*1), $0x6c6c756e // "null"
	JNE  bail
	MOVQ AX, R10
	JMP  after

lfalse:
	LEAQ 5(R10), AX
	CMPQ AX, R15
	JA   bail
	CMPL (SI)(R10*1), $0x736c6166 // "fals"
	JNE  bail
	CMPB 4(SI)(R10*1), $0x65 // 'e'
	JNE  bail
	MOVQ AX, R10
	JMP  after

after:
	// R10 <= len(b)-1.
	MOVBLZX (SI)(R10*1), DX
	CMPB DX, $0x2c // ','
	JNE  close
	INCQ R10
	JMP  member

close:
	CMPB DX, $0x7d // '}'
	JNE  bail
	CMPQ R10, R15
	JNE  bail
	MOVQ R9, n+40(FP)
	MOVQ R10, end+48(FP)
	RET

bail:
	MOVQ $-2, end+48(FP)
	RET
