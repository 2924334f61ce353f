package record

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/binary"
	"sync"
)

// IDLen is the length of an id written by AppendID.
const IDLen = 22

// AppendID appends the record's deterministic document id (DESIGN.md,
// Delivery). A replay of the same line at the same place gets the same id;
// any other line does not. It appends nothing when the source has no seed
// or the record no offset.
//
// The format is fixed so that ids stay the same across processes, nodes and
// versions of the agent; changing it changes every id, and replays across
// the upgrade would no longer collide with what was stored before. The id
// is base64url without padding (22 characters) of the 16-byte GMAC tag of
//
//	uint32 BE len(IDSeed) ‖ IDSeed ‖ uint64 BE byte offset ‖ line bytes
//
// that is, the tag of AES-128-GCM (NIST SP 800-38D) sealing an empty
// plaintext with that input as additional data, under the all-zero key and
// the all-zero 12-byte nonce. IDSeed is the source's node, file identity and
// truncation generation; the length prefix keeps seed and line apart.
//
// Why GMAC and not SHA-256 (the first format): with AES-NI and PCLMULQDQ it
// costs ≈ 0.3× as much per record (bench/RESULTS.md), and for lines that
// are not chosen against the (public) key two different inputs collide with
// probability about (bytes/16)/2^128, like a truncated SHA-256. Unlike
// SHA-256 it is not collision resistant against someone who crafts lines on
// purpose; such a line collides only with a line of the same seed (node,
// file, generation) and offset in the same index, which an application can
// only reach in its own log file. The fixed nonce makes Seal refuse under
// GODEBUG=fips140=only.
func AppendID(dst []byte, src *Source, r *Record) []byte {
	if len(src.IDSeed) == 0 || r.Offset < 0 {
		return dst
	}
	h := idHashers.Get().(*idHasher)
	in := binary.BigEndian.AppendUint32(h.in[:0], uint32(len(src.IDSeed)))
	in = append(in, src.IDSeed...)
	in = binary.BigEndian.AppendUint64(in, uint64(r.Offset))
	in = append(in, r.Line...)
	tag := h.gcm.Seal(h.tag[:0], idNonce[:], nil, in)
	dst = base64.RawURLEncoding.AppendEncode(dst, tag)
	if cap(in) > idMaxKeep {
		in = nil // do not pin one huge line's buffer
	}
	h.in = in[:0]
	idHashers.Put(h)
	return dst
}

// idHasher is one worker's GMAC state and input buffer. Pooled, so
// concurrent workers never share one and the steady state allocates nothing.
type idHasher struct {
	gcm cipher.AEAD
	in  []byte
	tag [16]byte
}

const idMaxKeep = 64 << 10

var idNonce [12]byte

var idHashers = sync.Pool{New: func() any {
	var key [16]byte
	block, err := aes.NewCipher(key[:])
	if err != nil {
		panic("BUG: record: aes: " + err.Error())
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		panic("BUG: record: gcm: " + err.Error())
	}
	return &idHasher{gcm: gcm, in: make([]byte, 0, 1024)}
}}
