package record

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"slices"

	"github.com/sluicelog/sluice/internal/sha256x"
)

// IDLen is the length of an id written by AppendID.
const IDLen = 22

// AppendID appends the record's deterministic document id (DESIGN.md,
// Delivery). A replay of the same line at the same place gets the same id;
// any other line does not. It appends nothing when the source has neither
// seed nor key, or the record no offset.
//
// The format is fixed so that ids stay the same across processes, nodes and
// versions of the agent; changing it changes every id, and replays across
// the upgrade would no longer collide with what was stored before. The id
// is base64url without padding (22 characters) of the first 16 bytes of
//
//	SHA-256(uint32 BE len(IDSeed) ‖ IDSeed ‖ uint64 BE byte offset ‖ line bytes)
//
// IDSeed is the source's node, file identity and truncation generation; the
// length prefix keeps seed and line apart.
//
// A numbered source (IDKey set: syslog, a random key per listener, a number
// per connection and per message) needs no hash: its id is base64url of
//
//	AES-128-Encrypt(IDKey, uint64 BE IDConn ‖ uint64 BE Offset)
//
// A block cipher is a permutation, so under one key two different numbers
// never share an id, and ids under different random keys collide no more
// often than truncated SHA-256 ones. It costs a third of the hash (~40 ns).
//
// Why SHA-256 and not a cheaper MAC such as GMAC under a fixed public key
// (measured at about half the cost, bench/RESULTS.md): a collision means a
// line answered with 409 and never stored, silent loss, so ids must differ
// for different lines even when someone crafts lines on purpose. SHA-256 is
// collision resistant; a polynomial MAC with a known key is not. What
// makes it cheaper instead is hashing a batch's records several at a time
// (AppendIDs), which gives the same ids.
func AppendID(dst []byte, src *Source, r *Record) []byte {
	if r.Offset < 0 {
		return dst
	}
	if src.IDKey != nil {
		return appendNumberedID(dst, src.IDKey, src.IDConn, uint64(r.Offset))
	}
	if len(src.IDSeed) == 0 {
		return dst
	}
	var num [8]byte
	h := sha256.New() // does not escape: no allocation
	binary.BigEndian.PutUint32(num[:4], uint32(len(src.IDSeed)))
	h.Write(num[:4])
	h.Write(src.IDSeed)
	binary.BigEndian.PutUint64(num[:], uint64(r.Offset))
	h.Write(num[:])
	h.Write(r.Line)
	var sum [sha256.Size]byte
	return base64.RawURLEncoding.AppendEncode(dst, h.Sum(sum[:0])[:16])
}

// appendNumberedID appends the id of message n of connection conn. The
// block is encrypted in dst's spare room past the id, so nothing escapes
// to the heap through the cipher.Block interface.
func appendNumberedID(dst []byte, key cipher.Block, conn, n uint64) []byte {
	at := len(dst)
	dst = slices.Grow(dst, IDLen+aes.BlockSize)[:at+IDLen+aes.BlockSize]
	block := dst[at+IDLen:]
	binary.BigEndian.PutUint64(block, conn)
	binary.BigEndian.PutUint64(block[8:], n)
	key.Encrypt(block, block)
	base64.RawURLEncoding.Encode(dst[at:at+IDLen], block)
	return dst[:at+IDLen]
}

// AppendNumberedIDs appends the ids of recs, IDLen bytes each in order,
// when src is numbered (IDKey) and their offsets are n, n+1, n+2, … with
// n ≥ 0, as a syslog connection numbers its messages: the same ids that
// AppendID gives one by one. A run of consecutive numbers is encrypted
// as AES-CTR keystream from (IDConn ‖ n): counter block i is
// (IDConn ‖ n+i), whose low half cannot carry into IDConn because n+i
// stays below 2^63 + len(recs). ks is scratch space for the keystream,
// returned for reuse. ok is false, with dst unchanged, for anything else;
// the caller then asks AppendID per record.
func AppendNumberedIDs(dst, ks []byte, src *Source, recs []Record) (_, _ []byte, ok bool) {
	if src.IDKey == nil || len(recs) == 0 || recs[0].Offset < 0 {
		return dst, ks, false
	}
	first := recs[0].Offset
	for i := range recs {
		if recs[i].Offset != first+int64(i) {
			return dst, ks, false
		}
	}
	n := len(recs) * aes.BlockSize
	ks = slices.Grow(ks[:0], n)[:n]
	clear(ks)
	var iv [aes.BlockSize]byte
	binary.BigEndian.PutUint64(iv[:8], src.IDConn)
	binary.BigEndian.PutUint64(iv[8:], uint64(first))
	cipher.NewCTR(src.IDKey, iv[:]).XORKeyStream(ks, ks)
	at := len(dst)
	dst = slices.Grow(dst, len(recs)*IDLen)[:at+len(recs)*IDLen]
	for i := range recs {
		base64.RawURLEncoding.Encode(dst[at+i*IDLen:at+(i+1)*IDLen], ks[i*aes.BlockSize:(i+1)*aes.BlockSize])
	}
	return dst, ks, true
}

// hashInPairs is whether AppendIDs hashes with the SHA extensions, and
// hashIn16 whether it hashes sixteen records at a time with AVX-512
// where there are min16 or more left. Where both are missing it asks
// crypto/sha256 per record (AppendID); the tests switch them to check
// every path.
var (
	hashInPairs = sha256x.Supported()
	hashIn16    = sha256x.Supported16()
)

// min16 is the fewest records hashed sixteen at a time: the lanes left
// empty cost as much as the others, and below eleven records two at a
// time costs less (bench/RESULTS.md). Without the SHA extensions those
// few go one by one (AppendID).
const min16 = 11

// AppendIDs appends the ids of recs, IDLen bytes each in order: the same
// ids that AppendID gives one by one, when every record gets one. A
// numbered source's are AppendNumberedIDs'; a seeded source's are hashed
// sixteen records at a time with AVX-512, or two at a time with the SHA
// extensions, whose rounds share the CPU's SHA unit better than one
// message's chain of rounds (internal/sha256x); the blocks of seed that
// begin every record's message are hashed once per call, and lines
// over 4 KiB one by one where they are (AppendID). scratch is working
// space, returned for reuse; it holds at most sixteen messages of lines
// up to 4 KiB. ok is false, with dst unchanged, when a record gets no id
// (no seed, or an offset below 0) or a numbered run does not apply; the
// caller then asks AppendID per record.
func AppendIDs(dst, scratch []byte, src *Source, recs []Record) (_, _ []byte, ok bool) {
	if src.IDKey != nil {
		return AppendNumberedIDs(dst, scratch, src, recs)
	}
	if len(src.IDSeed) == 0 || len(recs) == 0 {
		return dst, scratch, false
	}
	for i := range recs {
		if recs[i].Offset < 0 {
			return dst, scratch, false
		}
	}
	dst = slices.Grow(dst, len(recs)*IDLen)
	if !hashInPairs && !hashIn16 {
		for i := range recs {
			dst = AppendID(dst, src, &recs[i])
		}
		return dst, scratch, true
	}
	seed := src.IDSeed
	var seedLen [4]byte
	binary.BigEndian.PutUint32(seedLen[:], uint32(len(seed)))
	// Every message begins with the seed's length and the seed; the
	// whole blocks of that are the same for all of recs. The first is
	// put together in first; the others are the seed's own bytes.
	mid := sha256x.Init()
	head, rest := seedLen[:], seed
	if shared := (len(seedLen) + len(seed)) / sha256x.BlockSize * sha256x.BlockSize; shared > 0 {
		var first [sha256x.BlockSize]byte
		copy(first[copy(first[:], seedLen[:]):], seed)
		blocksOne(&mid, first[:])
		blocksOne(&mid, seed[sha256x.BlockSize-len(seedLen):shared-len(seedLen)])
		head, rest = nil, seed[shared-len(seedLen):]
	}
	// Lines over maxCopiedLine are hashed where they are, one by one, so
	// that scratch stays small.
	for len(recs) > 0 {
		n := 0
		for n < len(recs) && len(recs[n].Line) <= maxCopiedLine {
			n++
		}
		dst, scratch = appendHashedIDs(dst, scratch, src, &mid, head, rest, recs[:n])
		if n < len(recs) {
			dst = AppendID(dst, src, &recs[n])
			n++
		}
		recs = recs[n:]
	}
	return dst, scratch, true
}

// maxCopiedLine is the longest line AppendIDs copies into its scratch
// space, which holds sixteen: the rest of a line's message is copied
// behind its offset to make whole blocks.
const maxCopiedLine = 4 << 10

// appendHashedIDs appends the ids of recs from their messages' blocks
// after the shared ones, which mid has taken (head and rest are what
// follows of the seed's length and the seed), sixteen or two at a time.
func appendHashedIDs(dst, scratch []byte, src *Source, mid *sha256x.State, head, rest []byte, recs []Record) (_, _ []byte) {
	seedLen := len(src.IDSeed)
	for hashIn16 && len(recs) >= min16 {
		k := min(16, len(recs))
		dst, scratch = appendIDs16(dst, scratch, mid, head, rest, seedLen, recs[:k])
		recs = recs[k:]
	}
	if !hashInPairs {
		for i := range recs {
			dst = AppendID(dst, src, &recs[i])
		}
		return dst, scratch
	}
	for i := 0; i < len(recs); i += 2 {
		scratch = appendIDTail(scratch[:0], head, rest, seedLen, &recs[i])
		if i+1 == len(recs) {
			s := *mid
			sha256x.Blocks(&s, scratch)
			dst = appendIDSum(dst, &s)
			break
		}
		n0 := len(scratch)
		scratch = appendIDTail(scratch, head, rest, seedLen, &recs[i+1])
		p0, p1 := scratch[:n0], scratch[n0:]
		n := min(len(p0), len(p1))
		s0, s1 := *mid, *mid
		sha256x.Blocks2(&s0, &s1, p0[:n], p1[:n])
		sha256x.Blocks(&s0, p0[n:])
		sha256x.Blocks(&s1, p1[n:])
		dst = appendIDSum(appendIDSum(dst, &s0), &s1)
	}
	return dst, scratch
}

// appendIDs16 appends the ids of recs (up to sixteen, lines of at most
// maxCopiedLine), hashed sixteen at a time: with the SHA extensions as
// many blocks as the shortest message has, the rest of each by them,
// which beats idle lanes; without, every block (lanes past len(recs)
// idle).
func appendIDs16(dst, scratch []byte, mid *sha256x.State, head, rest []byte, seedLen int, recs []Record) (_, _ []byte) {
	var offs, counts [16]int32
	scratch = scratch[:0]
	n := int32(-1)
	for j := range recs {
		offs[j] = int32(len(scratch))
		scratch = appendIDTail(scratch, head, rest, seedLen, &recs[j])
		counts[j] = int32((len(scratch) - int(offs[j])) / sha256x.BlockSize)
		if n < 0 || counts[j] < n {
			n = counts[j]
		}
	}
	if hashInPairs {
		for j := range recs {
			counts[j] = n
		}
	}
	var lanes sha256x.Lanes
	for j := range recs {
		lanes.Set(j, mid)
	}
	sha256x.Blocks16(&lanes, scratch, &offs, &counts)
	for j := range recs {
		end := len(scratch)
		if j+1 < len(recs) {
			end = int(offs[j+1])
		}
		if left := scratch[int(offs[j])+int(counts[j])*sha256x.BlockSize : end]; len(left) > 0 {
			s := lanes.Get(j)
			sha256x.Blocks(&s, left)
			dst = appendIDSum(dst, &s)
			continue
		}
		hi, lo := lanes.Sum128(j)
		dst = appendID128(dst, hi, lo)
	}
	return dst, scratch
}

// blocksOne runs p's blocks through s: with the SHA extensions, or else
// in one of AVX-512's sixteen lanes.
func blocksOne(s *sha256x.State, p []byte) {
	if hashInPairs {
		sha256x.Blocks(s, p)
		return
	}
	var lanes sha256x.Lanes
	var offs, counts [16]int32
	lanes.Set(0, s)
	counts[0] = int32(len(p) / sha256x.BlockSize)
	sha256x.Blocks16(&lanes, p, &offs, &counts)
	*s = lanes.Get(0)
}

// appendIDTail appends what follows the shared blocks in r's message
// (head and rest of the seed's length and seed, the offset, the line),
// padded to whole blocks.
func appendIDTail(dst, head, rest []byte, seedLen int, r *Record) []byte {
	dst = append(dst, head...)
	dst = append(dst, rest...)
	dst = binary.BigEndian.AppendUint64(dst, uint64(r.Offset))
	dst = append(dst, r.Line...)
	return sha256x.AppendPadding(dst, uint64(4+seedLen+8+len(r.Line)))
}

// appendIDSum appends the id of a message whose last block s has taken.
func appendIDSum(dst []byte, s *sha256x.State) []byte {
	hi, lo := s.Sum128()
	return appendID128(dst, hi, lo)
}

// idAlphabet is base64url's.
const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// appendID128 appends the id of the digest whose first 16 bytes are hi
// and lo (big-endian): their base64url without padding, as
// base64.RawURLEncoding gives it, six bits a character from the top and
// the last two bits in the last one. From the digest's words this skips
// the bytes in between and the encoder's general loop, a measurable part
// of a batch's ids.
func appendID128(dst []byte, hi, lo uint64) []byte {
	at := len(dst)
	dst = slices.Grow(dst, IDLen)[:at+IDLen]
	id := (*[IDLen]byte)(dst[at:])
	for k := range 10 {
		id[k] = idAlphabet[hi>>(58-6*k)&63]
		id[11+k] = idAlphabet[lo>>(56-6*k)&63]
	}
	id[10] = idAlphabet[(hi&15)<<2|lo>>62]
	id[21] = idAlphabet[(lo&3)<<4]
	return dst
}
