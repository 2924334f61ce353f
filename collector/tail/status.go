package tail

import (
	"io"
	"time"
)

// OpenFile is one file being read, as OpenFiles sees it.
type OpenFile struct {
	Path   string
	Offset int64 // read position: bytes of the file read so far
	Size   int64 // the file's size now
	// Acked is the position up to which lines are delivered (what the
	// checkpoint holds); -1 while nothing of this file is acknowledged.
	Acked int64
	// OldestUnacked is when the oldest batch of lines read from the file
	// and not yet acknowledged was handed over; zero when every line read
	// is acknowledged. Its age is the file's lag in time.
	OldestUnacked time.Time
}

// pushTimes holds when each of a reader's unacknowledged batches was
// handed over, by sequence number: at most maxInFlight are unacknowledged
// (waitAcks), so a fixed ring holds them all. Guarded by the reader's mu.
type pushTimes [maxInFlight]int64

func (p *pushTimes) set(seq uint64) { p[seq%maxInFlight] = time.Now().UnixNano() }

// oldestUnacked is when the oldest unacknowledged batch was handed over;
// zero when there is none.
func (w *watermark) oldestUnacked() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.oldest >= w.next {
		return time.Time{}
	}
	return time.Unix(0, w.pushed[w.oldest%maxInFlight])
}

// Lag is the bytes of the file not read yet; never negative.
func (f OpenFile) Lag() int64 { return max(f.Size-f.Offset, 0) }

// OpenFiles calls fn for every file being read, for metrics and status
// pages. The set of readers is copied under the tailer's mutex; the files
// are then looked at outside it, so that a scrape of many files never holds
// up acks (which take the mutex too). The read position comes from the
// open file's descriptor (lseek), not from the reader's own variables,
// which only its goroutine may touch. A file closed meanwhile is skipped.
func (t *Tailer) OpenFiles(fn func(OpenFile)) {
	t.mu.Lock()
	readers := make([]*fileReader, 0, len(t.readers))
	for _, r := range t.readers {
		readers = append(readers, r)
	}
	t.mu.Unlock()
	for _, r := range readers {
		// path, key and f are set before the reader is published and never
		// change; *os.File is safe for concurrent use.
		pos, err := r.f.Seek(0, io.SeekCurrent)
		if err != nil {
			continue
		}
		fi, err := r.f.Stat()
		if err != nil {
			continue
		}
		of := OpenFile{Path: r.path, Offset: pos, Size: fi.Size(), Acked: -1, OldestUnacked: r.acks.oldestUnacked()}
		if e, ok := t.store.Get(r.key); ok {
			of.Acked = e.Offset
		}
		fn(of)
	}
}

// OldestUnacked is when the oldest batch of lines read from any open file
// and not yet acknowledged was handed over; zero when every line read is
// acknowledged. Its age is the input's lag in time.
func (t *Tailer) OldestUnacked() time.Time {
	t.mu.Lock()
	readers := make([]*fileReader, 0, len(t.readers))
	for _, r := range t.readers {
		readers = append(readers, r)
	}
	t.mu.Unlock()
	var oldest time.Time
	for _, r := range readers {
		if u := r.acks.oldestUnacked(); !u.IsZero() && (oldest.IsZero() || u.Before(oldest)) {
			oldest = u
		}
	}
	return oldest
}
