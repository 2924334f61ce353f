package otlp

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// maxRetryAfter caps a server's Retry-After, so that a wrong header
// cannot park a sender for hours.
const maxRetryAfter = 5 * time.Minute

// backoff is exponential backoff with jitter between retry.initial and
// retry.max, without a limit on attempts: delivery is retried until the
// output's context ends (DESIGN, Delivery).
type backoff struct {
	initial, max time.Duration
}

// delay is the wait before retry attempt+1: initial·2^attempt capped at
// max, less a random part of up to half, so that senders that failed
// together do not come back together.
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

// wait sleeps before retry attempt+1, at least floor (the server's
// Retry-After). It returns false at once if ctx ends first.
func (b backoff) wait(ctx context.Context, attempt int, floor time.Duration) bool {
	t := time.NewTimer(max(b.delay(attempt), floor))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// retryAfter reads a Retry-After header (RFC 9110 10.2.3: delay-seconds
// or an HTTP-date), capped at maxRetryAfter; 0 when absent or unreadable.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0
		}
		d = time.Duration(min(secs, int64(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}
