package tail

import (
	"context"
	"strconv"
	"syscall"
	"time"

	"github.com/sluicelog/sluice/agent/record"
)

// fair_share's max_lag with on_max_lag: drop_oldest. A batch about to go,
// or waiting for fair_share to admit it, whose file is more than max_lag
// behind (bytes past the last batch handed over, or the age of the
// batch's first line) is skipped: its lines are counted and acknowledged
// without delivery, so the checkpoint moves past them, and a summary
// record in the file's stream says how many. A file found deleted that
// far behind is let go of at once: its unread bytes are counted rotated
// away unread (per file in the ledger, per namespace in
// sluice_rotated_unread_bytes_total), and its disk space is freed. With
// on_max_lag: wait (the default) nothing here runs.

// admission is what became of a batch offered to fair_share.
type admission int

const (
	admitted   admission = iota
	admitStop            // ctx ended
	admitSkip            // the file is behind max_lag: skip the batch
	admitLetGo           // the file is deleted and behind max_lag: let it go
)

// skipRun is what was skipped since the last summary record.
type skipRun struct {
	records, bytes int64
	first          int64     // offset of the first skipped record
	reported       time.Time // when the last summary went; zero: none this run
}

// summaryEvery spaces the summary records of a file that stays behind.
const summaryEvery = 10 * time.Second

// overLag says whether batch b must be skipped or its file let go of;
// size is the file's size then, for the count of a file let go of.
func (r *fileReader) overLag(b *record.Batch) (admission, int64) {
	f := r.t.fair
	if f == nil || !f.policy.DropOldest || r.rec != nil {
		return admitted, 0 // a copy being read is not the file's size
	}
	fi, err := r.f.Stat()
	if err != nil {
		return admitted, 0
	}
	size := fi.Size()
	behind := f.policy.MaxLagBytes > 0 && size-r.handed > f.policy.MaxLagBytes
	if t := f.policy.MaxLagTime; t > 0 && len(b.Records) > 0 && b.Records[0].Time > 0 {
		behind = behind || time.Since(time.Unix(0, b.Records[0].Time)) > t
	}
	switch st, ok := fi.Sys().(*syscall.Stat_t); {
	case !behind:
		return admitted, 0
	case ok && st.Nlink == 0:
		return admitLetGo, size
	}
	return admitSkip, size
}

// skip drops batch b, which ends at end: counted, acknowledged without
// delivery, and reported in a summary record when one is due (the first
// skip, then every summaryEvery); false when ctx ended.
func (r *fileReader) skip(ctx context.Context, b *record.Batch, end int64) bool {
	st := &r.t.stats
	n := int64(len(b.Records))
	st.SkippedRecords.Add(n)
	st.SkippedBytes.Add(end - r.handed)
	s := &r.skipped
	if s.records == 0 && s.bytes == 0 && n > 0 {
		s.first = b.Records[0].Offset
	}
	s.records, s.bytes = s.records+n, s.bytes+end-r.handed
	r.handed = end
	if !s.reported.IsZero() && time.Since(s.reported) < summaryEvery {
		b.Seq, b.End = r.acks.send(), end
		r.Ack(b) // as if delivered: the checkpoint moves past it
		b.Discard()
		return true
	}
	b.Records, b.Buf = b.Records[:0], b.Buf[:0]
	r.addSummary(b)
	return r.hand(ctx, b, end)
}

// addSummary adds the summary record of what was skipped to b.
func (r *fileReader) addSummary(b *record.Batch) {
	s := &r.skipped
	if s.records == 0 && s.bytes == 0 {
		return
	}
	msg := "sluice fair_share skipped " + strconv.FormatInt(s.records, 10) + " records (" +
		strconv.FormatInt(s.bytes, 10) + " bytes) of this file: it was more than max_lag " +
		r.t.fair.maxLag() + " behind (on_max_lag: drop_oldest)"
	b.Add(record.Record{Time: time.Now().UnixNano(), Offset: s.first}, []byte(msg))
	*s = skipRun{reported: time.Now()}
}

// letGo gives up on a deleted file behind max_lag: batch b is dropped,
// the bytes past the last batch handed over are counted rotated away
// unread, a summary record says so, and the file is closed.
func (r *fileReader) letGo(ctx context.Context, b *record.Batch, size int64) {
	b.Discard()
	unread := max(size-r.handed, 0)
	r.countUnread(unread)
	r.t.stats.LetGo.Add(1)
	r.t.logf("file deleted while more than max_lag behind; let go of with bytes unread (on_max_lag: drop_oldest)",
		"path", r.path, "unread_bytes", unread)
	sb := record.NewBatch(r.src, r)
	r.addSummary(sb)
	msg := "sluice fair_share let go of this file: it was deleted with " + strconv.FormatInt(unread, 10) +
		" bytes unread while more than max_lag " + r.t.fair.maxLag() + " behind (on_max_lag: drop_oldest)"
	sb.Add(record.Record{Time: time.Now().UnixNano(), Offset: r.handed}, []byte(msg))
	if r.hand(ctx, sb, r.handed) {
		r.close()
	}
}

// reportSkipped hands over the summary of what is skipped and not yet
// reported, when the reader lets its file go.
func (r *fileReader) reportSkipped(ctx context.Context) bool {
	if r.skipped.records == 0 && r.skipped.bytes == 0 {
		return true
	}
	b := record.NewBatch(r.src, r)
	r.addSummary(b)
	return r.hand(ctx, b, r.handed)
}

// maxLag words the bound for summaries.
func (f *fairShare) maxLag() string {
	if f.policy.MaxLagTime > 0 && f.policy.MaxLagBytes == 0 {
		return f.policy.MaxLagTime.String()
	}
	return strconv.FormatInt(f.policy.MaxLagBytes, 10) + " bytes"
}
