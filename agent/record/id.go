package record

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
)

// IDLen is the length of an id written by AppendID.
const IDLen = 22

// AppendID appends the record's deterministic document id: base64url of the
// first 128 bits of SHA-256 over the source's IDSeed (node, file identity,
// truncation generation), the byte offset and the line itself. A replay of
// the same line at the same place gets the same id; any other line does not
// (DESIGN.md, Delivery). It appends nothing when the source has no seed.
func AppendID(dst []byte, src *Source, r *Record) []byte {
	if len(src.IDSeed) == 0 || r.Offset < 0 {
		return dst
	}
	h := sha256.New()
	h.Write(src.IDSeed)
	var off [8]byte
	binary.BigEndian.PutUint64(off[:], uint64(r.Offset))
	h.Write(off[:])
	h.Write(r.Line)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return base64.RawURLEncoding.AppendEncode(dst, sum[:16])
}
