package otlp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRetryAfter: the header in both forms RFC 9110 allows (seconds and
// an HTTP-date), capped at 5 minutes; absent, unreadable, negative or in
// the past, no floor.
func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		value string
		want  time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{"0", 0},
		{"-5", 0},
		{"86400", maxRetryAfter},
		{now.Add(20 * time.Second).Format(http.TimeFormat), 20 * time.Second},
		{now.Add(time.Hour).Format(http.TimeFormat), maxRetryAfter},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"soon", 0},
		{"1.5", 0},
	} {
		h := http.Header{}
		if c.value != "" {
			h.Set("Retry-After", c.value)
		}
		assert.Equal(t, c.want, retryAfter(h, now), "Retry-After: %q", c.value)
	}
}

// TestSentAgainUntilAccepted: the answers a fixable cause gives are sent
// again, not lost: 503 with a Retry-After date (waited for: the next
// request comes no earlier), then 500, 401 and 403, then 200. The
// Collector's receiver cannot be made to answer these in turn, so this
// handler follows the OTLP/HTTP specification ("Failures", "Retryable
// Response Codes"). Every record is sent once accepted, none counted
// lost, and each failure counted under its cause.
func TestSentAgainUntilAccepted(t *testing.T) {
	var mu sync.Mutex
	var arrivals []time.Time
	var notBefore time.Time
	answers := []int{http.StatusServiceUnavailable, http.StatusInternalServerError, http.StatusUnauthorized, http.StatusForbidden, http.StatusOK}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		arrivals = append(arrivals, time.Now())
		status := answers[min(len(arrivals), len(answers))-1]
		if status == http.StatusServiceUnavailable {
			// An HTTP-date has whole seconds: two from now is at
			// least one second away.
			notBefore = time.Now().Add(2 * time.Second).Truncate(time.Second)
			w.Header().Set("Retry-After", notBefore.UTC().Format(http.TimeFormat))
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	o, err := New(testConfig(srv.URL+"/v1/logs"), quietLogger())
	require.NoError(t, err)
	running(t, o)
	var a acks
	w := o.NewWriter()
	write(t, w, newTestBatch(testSource("api-1"), &a, 0, 4))
	require.NoError(t, w.Flush(context.Background(), true))
	waitFor(t, "the batch acknowledged", 15*time.Second, func() bool { return a.n.Load() == 1 })

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, arrivals, len(answers))
	assert.False(t, arrivals[1].Before(notBefore), "sent again at %s, before the Retry-After date %s", arrivals[1], notBefore)
	st := o.Stats()
	assert.Equal(t, int64(4), st.Sent)
	assert.Zero(t, st.Failed)
	assert.Zero(t, st.Refused)
	assert.Equal(t, int64(len(answers)-1), st.RequestRetries)
	for c, n := range map[Cause]int64{CauseUnavailable: 1, CauseServerError: 1, CauseUnauthorized: 1, CauseForbidden: 1, CauseClientError: 0} {
		assert.Equal(t, n, o.RequestFailures(c), "requests failed as %s", c)
	}
}
