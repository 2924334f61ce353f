package otlp

import (
	"net/http"
	"strconv"
	"time"
)

// maxRetryAfter caps a server's Retry-After, so that a wrong header
// cannot park a sender for hours.
const maxRetryAfter = 5 * time.Minute

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
