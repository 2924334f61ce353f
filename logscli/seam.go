package logscli

import "github.com/sluicelog/sluice/logscli/entry"

// seam joins history and live without a gap or a duplicate. The live
// stream starts first and is buffered, then history is read up to after
// that moment, so every record is in at least one of them; a live record
// that history already printed is dropped here. Keys are counted, not
// just set, so a repeated identical record is dropped as often as history
// had it and no more.
type seam struct {
	printed map[uint64]int
}

func newSeam() *seam { return &seam{printed: map[uint64]int{}} }

// add notes a record printed from history.
func (s *seam) add(e *entry.Entry) { s.printed[e.Key()]++ }

// seen reports whether a live record was printed from history already,
// and uses that print up.
func (s *seam) seen(e *entry.Entry) bool {
	if len(s.printed) == 0 {
		return false
	}
	k := e.Key()
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
