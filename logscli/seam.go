package logscli

import (
	"sync"
	"time"

	"github.com/sluicelog/sluice/logscli/entry"
)

// seam joins history and live without a gap, a duplicate or a line out of
// order. The live stream starts first and is buffered, then history is
// read up to after that moment, so every record is in at least one of
// them; a live record that history already printed is dropped here. Keys
// are counted, not just set, so a repeated identical record is dropped as
// often as history had it and no more.
//
// History of a source also stops where that source's live records begin
// (see live): a store does not make records searchable in the order they
// came (VictoriaLogs and Elasticsearch refresh in parts), so history can
// hold a later batch of a file without an earlier one. Printed from
// history, the later batch would come before the earlier one arriving
// live; past the first live record, the live stream is the only source.
type seam struct {
	printed map[uint64]int
	key     func(*entry.Entry) uint64 // Key, or TimeKey for history from pods/log

	mu    sync.Mutex
	first map[string]time.Time // source -> time of its first live record; nil once history is done
}

func newSeam(byTime bool) *seam {
	s := &seam{printed: map[uint64]int{}, first: map[string]time.Time{}, key: (*entry.Entry).Key}
	if byTime {
		s.key = (*entry.Entry).TimeKey
	}
	return s
}

// noteLive records a live record as it arrives, before it is buffered.
func (s *seam) noteLive(e *entry.Entry) {
	t, ok := e.Time()
	if !ok {
		return
	}
	src := e.Source()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.first[src]; !ok && s.first != nil {
		s.first[src] = t
	}
}

// live reports whether a history record is after the first live record of
// its source, so the live stream prints it. A record of the same time is
// left to history: a kubelet stamps to the nanosecond, and printing it
// twice is prevented by seen, while leaving out one that came earlier in
// the same nanosecond would lose it.
func (s *seam) live(e *entry.Entry) bool {
	t, ok := e.Time()
	if !ok {
		return false
	}
	s.mu.Lock()
	first, ok := s.first[e.Source()]
	s.mu.Unlock()
	return ok && t.After(first)
}

// historyDone stops noting live records: only history needed them.
func (s *seam) historyDone() {
	s.mu.Lock()
	s.first = nil
	s.mu.Unlock()
}

// add notes a record printed from history.
func (s *seam) add(e *entry.Entry) { s.printed[s.key(e)]++ }

// seen reports whether a live record was printed from history already,
// and uses that print up.
func (s *seam) seen(e *entry.Entry) bool {
	if len(s.printed) == 0 {
		return false
	}
	k := s.key(e)
	n := s.printed[k]
	if n == 0 {
		return false
	}
	if n == 1 {
		delete(s.printed, k)
	} else {
		s.printed[k] = n - 1
	}
	return true
}
