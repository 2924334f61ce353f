package fairshare

import (
	"time"

	"golang.org/x/time/rate"
)

// Per-key ceilings (max_bytes_per_second, max_records_per_second): a key
// may not send faster than its ceiling even when there is room. A batch
// over it waits (its file is not read meanwhile): delayed, never dropped.

// SetCeilings gives every key a ceiling of bytes and of records per
// second (0: none). Call it before any Join.
func (s *Scheduler) SetCeilings(bytesPerSec, recordsPerSec int64) {
	s.maxBytes, s.maxRecords = bytesPerSec, recordsPerSec
}

// newLimiter is a ceiling of perSec a second with a second's burst; a
// batch larger than the burst takes the whole of it (Delay).
func newLimiter(perSec int64) *rate.Limiter {
	if perSec <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(perSec), int(perSec))
}

// Delay reserves a batch of n bytes and records under the key's ceilings
// and returns how long it must wait before it goes (0: at once). The
// reservation stands: the caller waits, then requests the budget.
func (t *Ticket) Delay(n, records int64) time.Duration {
	k := t.key
	if k.bytes == nil && k.records == nil {
		return 0
	}
	now := time.Now()
	var d time.Duration
	for _, l := range []struct {
		lim *rate.Limiter
		n   int64
	}{{k.bytes, n}, {k.records, records}} {
		if l.lim == nil {
			continue
		}
		r := l.lim.ReserveN(now, int(min(l.n, int64(l.lim.Burst()))))
		if r.OK() {
			d = max(d, r.DelayFrom(now))
		}
	}
	if d > 0 {
		k.s.stats.CeilingWaited.Add(1)
		k.s.stats.CeilingNanos.Add(int64(d))
	}
	return d
}
