package record

import "slices"

// BatchIDs holds the ids of a batch's records, made at once: AppendIDs'
// where it can, else AppendID's record by record. An output's writer
// keeps one, and its memory, from batch to batch.
type BatchIDs struct {
	// ids holds IDLen bytes a record, zeros for a record without an id
	// (no base64url character is a zero byte).
	ids []byte
}

// Compute makes the ids of recs, a batch from src. scratch is AppendIDs'
// working space, returned for reuse: a writer that keeps several
// BatchIDs at once (one per batch in flight) needs only one.
func (b *BatchIDs) Compute(scratch []byte, src *Source, recs []Record) []byte {
	var ok bool
	if b.ids, scratch, ok = AppendIDs(b.ids[:0], scratch, src, recs); ok {
		return scratch
	}
	b.ids = slices.Grow(b.ids[:0], len(recs)*IDLen)
	for i := range recs {
		at := len(b.ids)
		if b.ids = AppendID(b.ids, src, &recs[i]); len(b.ids) == at {
			b.ids = b.ids[:at+IDLen]
			clear(b.ids[at:])
		}
	}
	return scratch
}

// At returns the id of record i of the batch Compute was given, nil if
// it has none. It stays valid until the next Compute; its capacity ends
// with it, so appending to it copies.
func (b *BatchIDs) At(i int) []byte {
	id := b.ids[i*IDLen : (i+1)*IDLen : (i+1)*IDLen]
	if id[0] == 0 {
		return nil
	}
	return id
}
