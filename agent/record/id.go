package record

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
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
// is base64url without padding (22 characters) of the first 16 bytes of
//
//	SHA-256(uint32 BE len(IDSeed) ‖ IDSeed ‖ uint64 BE byte offset ‖ line bytes)
//
// IDSeed is the source's node, file identity and truncation generation; the
// length prefix keeps seed and line apart. A Numbered source's records
// (syslog: a random seed per connection, a number per message) are unique
// by seed and number already, and their line is left out: three of the
// four SHA-256 blocks of a 170-byte message, ~10% of the syslog path.
//
// Why SHA-256 and not a cheaper MAC such as GMAC under a fixed public key
// (measured at about half the cost, bench/RESULTS.md): a collision means a
// line answered with 409 and never stored, silent loss, so ids must differ
// for different lines even when someone crafts lines on purpose. SHA-256 is
// collision resistant; a polynomial MAC with a known key is not.
func AppendID(dst []byte, src *Source, r *Record) []byte {
	if len(src.IDSeed) == 0 || r.Offset < 0 {
		return dst
	}
	var num [8]byte
	h := sha256.New() // does not escape: no allocation
	binary.BigEndian.PutUint32(num[:4], uint32(len(src.IDSeed)))
	h.Write(num[:4])
	h.Write(src.IDSeed)
	binary.BigEndian.PutUint64(num[:], uint64(r.Offset))
	h.Write(num[:])
	if !src.Numbered {
		h.Write(r.Line)
	}
	var sum [sha256.Size]byte
	return base64.RawURLEncoding.AppendEncode(dst, h.Sum(sum[:0])[:16])
}
