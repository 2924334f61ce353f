// Package backoff paces an output's retries: exponential waits with
// jitter between retry.initial and retry.max, and no limit on attempts —
// delivery is retried until the output's context ends (DESIGN, Delivery).
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Exponential is retry.initial and retry.max of an output.
type Exponential struct {
	Initial, Max time.Duration
}

// Delay returns the wait before retry number attempt+1: Initial·2^attempt,
// capped at Max, of which a random half is taken off so that senders that
// failed together do not come back together.
func (b Exponential) Delay(attempt int) time.Duration {
	d := b.Max
	if attempt < 62 {
		if x := b.Initial << attempt; x > 0 && x>>attempt == b.Initial && x < b.Max {
			d = x
		}
	}
	half := d / 2
	return d - half + rand.N(half+1)
}

// Wait sleeps before retry number attempt+1, at least floor (a server's
// Retry-After). It returns false at once if ctx ends first or its deadline
// would pass before the retry.
func (b Exponential) Wait(ctx context.Context, attempt int, floor time.Duration) bool {
	d := max(b.Delay(attempt), floor)
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
