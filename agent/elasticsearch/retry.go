package elasticsearch

import (
	"context"
	"math/rand/v2"
	"time"
)

// backoff is exponential backoff with jitter between retry.initial and
// retry.max. There is no limit on attempts: delivery is retried until the
// output's context ends (DESIGN, Delivery).
type backoff struct {
	initial, max time.Duration
}

// delay returns the wait before retry number attempt+1: initial·2^attempt,
// capped at max, of which a random half is taken off so that senders that
// failed together do not come back together.
func (b backoff) delay(attempt int) time.Duration {
	d := b.max
	if attempt < 62 {
		if x := b.initial << attempt; x > 0 && x>>attempt == b.initial && x < b.max {
			d = x
		}
	}
	half := d / 2
	return d - half + rand.N(half+1)
}

// wait sleeps before retry number attempt+1, at least floor (a server's
// Retry-After). It returns false at once if ctx ends first or its deadline
// would pass before the retry.
func (b backoff) wait(ctx context.Context, attempt int, floor time.Duration) bool {
	d := max(b.delay(attempt), floor)
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
