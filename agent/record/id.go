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
		blk := ks[i*aes.BlockSize : (i+1)*aes.BlockSize]
		putID128((*[IDLen]byte)(dst[at+i*IDLen:]), binary.BigEndian.Uint64(blk), binary.BigEndian.Uint64(blk[8:]))
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
	h := idHasher{src: src, mid: sha256x.Init(), head: seedLen[:], rest: seed}
	if shared := (len(seedLen) + len(seed)) / sha256x.BlockSize * sha256x.BlockSize; shared > 0 {
		var first [sha256x.BlockSize]byte
		copy(first[copy(first[:], seedLen[:]):], seed)
		blocksOne(&h.mid, first[:])
		blocksOne(&h.mid, seed[sha256x.BlockSize-len(seedLen):shared-len(seedLen)])
		h.head, h.rest = nil, seed[shared-len(seedLen):]
	}
	if hashIn16 {
		for j := range 16 {
			h.lanes.Set(j, &h.mid)
		}
	}
	at := len(dst)
	dst = dst[:at+len(recs)*IDLen]
	ids := dst[at:]
	for len(recs) > 0 {
		n := min(len(recs), idWindow)
		scratch = h.hash(ids[:n*IDLen], scratch, recs[:n])
		ids, recs = ids[n*IDLen:], recs[n:]
	}
	return dst, scratch, true
}

// maxCopiedLine is the longest line AppendIDs copies into its scratch
// space, which holds sixteen: the rest of a line's message is copied
// behind its offset to make whole blocks.
const maxCopiedLine = 4 << 10

// idWindow is how many records AppendIDs sorts by length at a time, so
// that each sixteen it hashes together have about as many blocks: a
// multiple of sixteen, and indexes fit a byte.
const idWindow = 256

// idHasher hashes the messages of a source's records after the blocks of
// seed they share.
type idHasher struct {
	src *Source
	// mid is the state after the shared blocks, and lanes holds it in
	// every lane; head and rest are what follows of the seed's length
	// and the seed.
	mid        sha256x.State
	lanes      sha256x.Lanes
	head, rest []byte
}

// hash writes the ids of recs (at most idWindow) into ids, IDLen bytes
// each in order. The records are sorted by their messages' block counts
// first, so that the lanes hashed together run out at about the same
// block: a tail workload's lines are mostly of one length, with a few
// long ones that would otherwise leave blocks to hash one lane at a time.
func (h *idHasher) hash(ids, scratch []byte, recs []Record) []byte {
	var blocks [idWindow]uint8
	var count [maxTailBlocks + 1]uint16
	fixed := len(h.head) + len(h.rest) + 8 + 1 + 8 + sha256x.BlockSize - 1
	for i := range recs {
		r := &recs[i]
		if len(r.Line) > maxCopiedLine {
			AppendID(ids[i*IDLen:i*IDLen], h.src, r)
			continue
		}
		b := (fixed + len(r.Line)) / sha256x.BlockSize
		blocks[i] = uint8(b)
		count[b]++
	}
	// A counting sort by block count (long lines, 0, left out).
	var start [maxTailBlocks + 1]uint16
	n := uint16(0)
	for b := 1; b <= maxTailBlocks; b++ {
		start[b] = n
		n += count[b]
	}
	var order [idWindow]uint8
	for i := range recs {
		if b := blocks[i]; b > 0 {
			order[start[b]] = uint8(i)
			start[b]++
		}
	}
	sorted := order[:n]
	// The longest sixteen at a time, the shortest left for two at a time.
	for hashIn16 && len(sorted) >= min16 {
		k := min(16, len(sorted))
		scratch = h.hash16(ids, scratch, recs, sorted[len(sorted)-k:], &blocks)
		sorted = sorted[:len(sorted)-k]
	}
	if !hashInPairs {
		for _, i := range sorted {
			AppendID(ids[int(i)*IDLen:int(i)*IDLen], h.src, &recs[i])
		}
		return scratch
	}
	for len(sorted) > 0 {
		n0 := int(blocks[sorted[0]]) * sha256x.BlockSize
		if len(sorted) == 1 {
			scratch = slices.Grow(scratch[:0], n0)[:n0]
			h.putTail(scratch, &recs[sorted[0]])
			s := h.mid
			sha256x.Blocks(&s, scratch)
			putIDSum(ids, int(sorted[0]), &s)
			break
		}
		n1 := int(blocks[sorted[1]]) * sha256x.BlockSize
		scratch = slices.Grow(scratch[:0], n0+n1)[:n0+n1]
		p0, p1 := scratch[:n0], scratch[n0:]
		h.putTail(p0, &recs[sorted[0]])
		h.putTail(p1, &recs[sorted[1]])
		n := min(len(p0), len(p1))
		s0, s1 := h.mid, h.mid
		sha256x.Blocks2(&s0, &s1, p0[:n], p1[:n])
		sha256x.Blocks(&s0, p0[n:])
		sha256x.Blocks(&s1, p1[n:])
		putIDSum(ids, int(sorted[0]), &s0)
		putIDSum(ids, int(sorted[1]), &s1)
		sorted = sorted[2:]
	}
	return scratch
}

// maxTailBlocks is the most blocks of a message after the shared ones:
// less than a block of seed, the offset, a line of maxCopiedLine and
// the padding.
const maxTailBlocks = (sha256x.BlockSize - 1 + 8 + maxCopiedLine + 1 + 8 + sha256x.BlockSize - 1) / sha256x.BlockSize

// lanesLeftOver is how many of sixteen lanes may have blocks left for
// one lane at a time, with the SHA extensions, rather than the sixteen
// running one more block: a round of sixteen lanes costs about as much
// as seven blocks of one (bench/RESULTS.md).
const lanesLeftOver = 7

// hash16 writes into ids the ids of the records of recs that group
// indexes (up to sixteen, sorted by block count, which blocks holds),
// hashed sixteen at a time: with the SHA extensions, as many blocks as
// all but the longest lanesLeftOver messages have, the rest of those by
// the extensions; without, every block (lanes past len(group) idle).
func (h *idHasher) hash16(ids, scratch []byte, recs []Record, group []uint8, blocks *[idWindow]uint8) []byte {
	var offs, counts [16]int32
	size := 0
	for _, i := range group {
		size += int(blocks[i]) * sha256x.BlockSize
	}
	scratch = slices.Grow(scratch[:0], size)[:size]
	o := 0
	for j, i := range group {
		m := scratch[o : o+int(blocks[i])*sha256x.BlockSize]
		offs[j], counts[j] = int32(o), int32(blocks[i])
		o += len(m)
		h.putTail(m, &recs[i])
	}
	if hashInPairs {
		most := counts[max(0, len(group)-1-lanesLeftOver)]
		for j := range group {
			counts[j] = min(counts[j], most)
		}
	}
	lanes := h.lanes
	sha256x.Blocks16(&lanes, scratch, &offs, &counts)
	for j, i := range group {
		done := int(offs[j]) + int(counts[j])*sha256x.BlockSize
		if end := int(offs[j]) + int(blocks[i])*sha256x.BlockSize; done < end {
			s := lanes.Get(j)
			sha256x.Blocks(&s, scratch[done:end])
			putIDSum(ids, int(i), &s)
			continue
		}
		hi, lo := lanes.Sum128(j)
		putID128((*[IDLen]byte)(ids[int(i)*IDLen:]), hi, lo)
	}
	return scratch
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

// putTail writes into m what follows the shared blocks in r's message
// (head and rest of the seed's length and seed, the offset, the line) and
// SHA-256's padding (0x80, zeros, the message's length in bits). m is the
// message's blocks after the shared ones, as many as hash counts for r.
func (h *idHasher) putTail(m []byte, r *Record) {
	w := copy(m, h.head)
	w += copy(m[w:], h.rest)
	binary.BigEndian.PutUint64(m[w:], uint64(r.Offset))
	w += 8 + copy(m[w+8:], r.Line)
	m[w] = 0x80
	clear(m[w+1 : len(m)-8])
	binary.BigEndian.PutUint64(m[len(m)-8:], uint64(4+len(h.src.IDSeed)+8+len(r.Line))<<3)
}

// putIDSum writes the id of a message whose last block s has taken into
// ids, at record i's place.
func putIDSum(ids []byte, i int, s *sha256x.State) {
	hi, lo := s.Sum128()
	putID128((*[IDLen]byte)(ids[i*IDLen:]), hi, lo)
}

// idAlphabet is base64url's.
const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// putID128 writes the id of the digest whose first 16 bytes are hi and
// lo (big-endian): their base64url without padding, as
// base64.RawURLEncoding gives it, six bits a character from the top and
// the last two bits in the last one. From the digest's words this skips
// the bytes in between and the encoder's general loop, a measurable part
// of a batch's ids; unrolled, the shifts are constants.
func putID128(id *[IDLen]byte, hi, lo uint64) {
	id[0] = idAlphabet[hi>>58&63]
	id[1] = idAlphabet[hi>>52&63]
	id[2] = idAlphabet[hi>>46&63]
	id[3] = idAlphabet[hi>>40&63]
	id[4] = idAlphabet[hi>>34&63]
	id[5] = idAlphabet[hi>>28&63]
	id[6] = idAlphabet[hi>>22&63]
	id[7] = idAlphabet[hi>>16&63]
	id[8] = idAlphabet[hi>>10&63]
	id[9] = idAlphabet[hi>>4&63]
	id[10] = idAlphabet[(hi&15)<<2|lo>>62]
	id[11] = idAlphabet[lo>>56&63]
	id[12] = idAlphabet[lo>>50&63]
	id[13] = idAlphabet[lo>>44&63]
	id[14] = idAlphabet[lo>>38&63]
	id[15] = idAlphabet[lo>>32&63]
	id[16] = idAlphabet[lo>>26&63]
	id[17] = idAlphabet[lo>>20&63]
	id[18] = idAlphabet[lo>>14&63]
	id[19] = idAlphabet[lo>>8&63]
	id[20] = idAlphabet[lo>>2&63]
	id[21] = idAlphabet[(lo&3)<<4]
}
