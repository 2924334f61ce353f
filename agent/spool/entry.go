package spool

import (
	"encoding/binary"
	"errors"
	"hash/crc32"

	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/agent/record/stream"
)

// An entry is one batch as it went into the spool:
//
//	magic   uint32  entryMagic, where a reader that lost its place resyncs
//	length  uint32  of the payload
//	crc     uint32  CRC-32C of the payload
//	payload:
//	  spooled int64   Unix nanoseconds when it was written (lag)
//	  path    uint16 length, bytes (the listener the batch came from)
//	  count   uint32 records, then per record:
//	    time int64, stream uint8, flags uint8,
//	    line uint32 length, bytes, extra uint32 length, bytes
//
// Little-endian. A record's place in the segment (the offset of its time
// field) is its number in the document id, so ids survive a restart.
const (
	entryMagic  = 0x31_4c_50_53 // "SPL1" on disk
	headerLen   = 12
	recordFixed = 8 + 1 + 1 + 4 + 4
	// maxPayload bounds an entry a reader accepts: a batch is batch_bytes
	// plus one message (max_message_bytes, at most 1 GiB by the config), so
	// a longer length is corruption, not data.
	maxPayload = 1<<30 + 64<<20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendEntry encodes b (spooled at the given time) onto dst.
func appendEntry(dst []byte, b *record.Batch, spooled int64) []byte {
	start := len(dst)
	dst = binary.LittleEndian.AppendUint32(dst, entryMagic)
	dst = append(dst, make([]byte, 8)...) // length and crc, set below
	dst = binary.LittleEndian.AppendUint64(dst, uint64(spooled))
	path := b.Source.Path
	if len(path) > 0xffff {
		path = path[:0xffff]
	}
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(path)))
	dst = append(dst, path...)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(b.Records)))
	for i := range b.Records {
		r := &b.Records[i]
		dst = binary.LittleEndian.AppendUint64(dst, uint64(r.Time))
		dst = append(dst, byte(r.Stream), byte(r.Flags))
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(r.Line)))
		dst = append(dst, r.Line...)
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(r.Extra)))
		dst = append(dst, r.Extra...)
	}
	payload := dst[start+headerLen:]
	binary.LittleEndian.PutUint32(dst[start+4:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(dst[start+8:], crc32.Checksum(payload, castagnoli))
	return dst
}

// Errors of checkHeader and decode.
var (
	errShort   = errors.New("entry incomplete")
	errCorrupt = errors.New("entry corrupt")
)

// checkHeader reads an entry's header: the payload's length, or errShort
// when hdr holds less than a header, errCorrupt when it is not one.
func checkHeader(hdr []byte) (int, error) {
	if len(hdr) < headerLen {
		return 0, errShort
	}
	n := binary.LittleEndian.Uint32(hdr[4:])
	if binary.LittleEndian.Uint32(hdr) != entryMagic || n > maxPayload || n < 8+2+4 {
		return 0, errCorrupt
	}
	return int(n), nil
}

// entry is a decoded payload; its slices point into the read buffer.
type entry struct {
	spooled int64
	path    []byte
	count   int
	records []byte // the encoded records
}

// decode checks the payload against the header's CRC and splits it.
func decode(hdr, payload []byte) (entry, error) {
	if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(hdr[8:]) {
		return entry{}, errCorrupt
	}
	var e entry
	e.spooled = int64(binary.LittleEndian.Uint64(payload))
	pl := int(binary.LittleEndian.Uint16(payload[8:]))
	rest := payload[10:]
	if len(rest) < pl+4 {
		return entry{}, errCorrupt
	}
	e.path = rest[:pl]
	e.count = int(binary.LittleEndian.Uint32(rest[pl:]))
	e.records = rest[pl+4:]
	if e.count > len(e.records)/recordFixed {
		return entry{}, errCorrupt
	}
	return e, nil
}

// addRecords appends e's records to b, numbering each by its place in the
// segment: base is the offset of e.records in it.
func addRecords(b *record.Batch, e entry, base int64) error {
	p := e.records
	at := 0
	for range e.count {
		if len(p)-at < recordFixed {
			return errCorrupt
		}
		r := record.Record{Offset: base + int64(at)}
		r.Time = int64(binary.LittleEndian.Uint64(p[at:]))
		r.Stream, r.Flags = stream.Stream(p[at+8]), record.Flags(p[at+9])
		ll := int(binary.LittleEndian.Uint32(p[at+10:]))
		at += 14
		if ll > len(p)-at-4 {
			return errCorrupt
		}
		line := p[at : at+ll]
		at += ll
		el := int(binary.LittleEndian.Uint32(p[at:]))
		at += 4
		if el > len(p)-at {
			return errCorrupt
		}
		b.AddExtra(r, line, p[at:at+el])
		at += el
	}
	if at != len(p) {
		return errCorrupt
	}
	return nil
}
