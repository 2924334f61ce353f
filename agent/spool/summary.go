package spool

import (
	"bytes"
	"strconv"
	"time"

	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/internal/jsonbytes"
)

// A full spool that drops (drop_newest, drop_oldest) says so in the
// input's own stream: a summary record, written into the spool like a
// batch (so it survives a restart and reaches the store under an id of
// its own), tells how many records and bytes were dropped since the last
// one. The first drop is told at once, then at most one summary per
// SummaryEvery while drops go on; what is left is told by the
// housekeeping tick once the interval has passed, or at Close. A summary
// is written even when the spool is over max_bytes (a few hundred bytes
// per interval); on a full disk it waits for the next try, its counts
// kept. When drop_oldest deletes a segment that holds summaries, their
// counts are told again: so the summaries in the store add up to
// sluice_lost_records_total{reason="spool_full"}.

// SummaryPath is the Source.Path of the spool's summary records.
const SummaryPath = "sluice:spool-summary"

// summaryEvery is the default of Config.SummaryEvery.
const summaryEvery = 10 * time.Second

// untold is what was dropped and is not yet in a summary in the spool.
type untold struct {
	records, bytes int64
	since          time.Time // the first drop not yet told
	told           time.Time // the last summary written (or tried); zero: none
}

// droppedLocked counts records (bytes of spool entries) as dropped and
// not yet told; caller holds mu.
func (s *Spool) droppedLocked(records, bytes int64) {
	if records == 0 && bytes == 0 {
		return
	}
	d := &s.untold
	if d.records == 0 && d.bytes == 0 {
		d.since = time.Now()
	}
	d.records += records
	d.bytes += bytes
}

// summarizeLocked writes a summary of what is untold when one is due
// (the first, or SummaryEvery after the last) or when force is set;
// caller holds mu.
func (s *Spool) summarizeLocked(now time.Time, force bool) {
	d := &s.untold
	if d.records == 0 && d.bytes == 0 {
		return
	}
	if !force && !d.told.IsZero() && now.Sub(d.told) < s.cfg.SummaryEvery {
		return
	}
	b := s.summary(*d, now)
	entry := appendEntry(nil, b, now.UnixNano())
	b.Discard()
	// Tried: a failed write (a full disk) is not tried again on every
	// push, which would start and seal a segment each time.
	d.told = now
	if err := s.writeLocked(entry, 0); err != nil {
		return // counts kept for the next one
	}
	seg := s.segs[len(s.segs)-1]
	seg.toldRecords += d.records
	seg.toldBytes += d.bytes
	seg.summaryBytes += int64(len(entry))
	*d = untold{told: now}
	s.wakeReader()
}

// summary is the batch of one summary record.
func (s *Spool) summary(d untold, now time.Time) *record.Batch {
	secs := strconv.FormatFloat(now.Sub(d.since).Round(100*time.Millisecond).Seconds(), 'f', -1, 64)
	why := "new records were dropped while it was full"
	if s.cfg.WhenFull == DropOldest {
		why = "its oldest unread records were deleted to make room"
	}
	msg := "sluice spool of input " + s.cfg.Input + " dropped " + strconv.FormatInt(d.records, 10) +
		" records (" + strconv.FormatInt(d.bytes, 10) + " bytes) in the last " + secs + "s: " + why +
		" (max_bytes " + strconv.FormatInt(s.cfg.MaxBytes, 10) + " or a full disk; when_full: " + s.cfg.WhenFull + ")"
	x := []byte(`"level":"warn","sluice":{"spool":{"input":`)
	x = jsonbytes.AppendStringString(x, s.cfg.Input)
	x = append(x, `,"when_full":`...)
	x = jsonbytes.AppendStringString(x, s.cfg.WhenFull)
	x = append(x, `,"dropped":`...)
	x = strconv.AppendInt(x, d.records, 10)
	x = append(x, `,"dropped_bytes":`...)
	x = strconv.AppendInt(x, d.bytes, 10)
	x = append(x, `,"interval_seconds":`...)
	x = append(x, secs...)
	x = append(x, `,"max_bytes":`...)
	x = strconv.AppendInt(x, s.cfg.MaxBytes, 10)
	x = append(x, `}}`...)
	b := record.NewBatch(&record.Source{Input: s.cfg.Input, Path: SummaryPath}, nil)
	b.AddExtra(record.Record{Time: now.UnixNano(), Offset: -1}, []byte(msg), x)
	return b
}

// summaryCounts reads the counts back from a summary record's extra
// members (a segment of an earlier run that drop_oldest deletes).
func summaryCounts(extra []byte) (records, bytes int64) {
	return jsonInt(extra, `"dropped":`), jsonInt(extra, `"dropped_bytes":`)
}

// jsonInt is the integer after the first key in b, 0 if none.
func jsonInt(b []byte, key string) int64 {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return 0
	}
	b = b[i+len(key):]
	n := 0
	for n < len(b) && b[n] >= '0' && b[n] <= '9' {
		n++
	}
	v, _ := strconv.ParseInt(string(b[:n]), 10, 64)
	return v
}

// IsSummary reports whether src is the source of spool summaries.
func IsSummary(src *record.Source) bool { return src != nil && src.Path == SummaryPath }
