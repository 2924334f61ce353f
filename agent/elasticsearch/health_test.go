package elasticsearch

import (
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/agenttest"
)

// A server answering 401 and one refusing connections are two causes, in
// the counters and in the state in words; the 401 is logged at ERROR once
// for the change of state however often it is retried, and a success ends
// the failing state and moves the last-success time.
func TestHealthUnauthorizedThenRecovered(t *testing.T) {
	f := newFaultyBulk(t)
	f.onRequest = func(call int, _ []bulkOp) *fault {
		if call <= 4 {
			return &fault{status: http.StatusUnauthorized, body: `{"error":{"type":"security_exception","reason":"unable to authenticate"},"status":401}`}
		}
		return nil
	}
	var logs agenttest.Buffer
	o, err := New(testConfig(f.srv.URL), slog.New(slog.NewJSONHandler(&logs, nil)))
	require.NoError(t, err)
	require.Equal(t, "idle", o.Health().State)
	require.True(t, o.LastSuccess().IsZero())
	runOutput(t, o)
	acks := newAckRecorder()
	write(t, o.NewWriter(), newTestBatch(testSource("api-1"), acks, 0, 0, 2, nil))
	acks.waitAcked(t, 0)

	require.Equal(t, int64(4), o.RequestFailures(CauseUnauthorized))
	require.Zero(t, o.RequestFailures(CauseConnectionRefused))
	require.Equal(t, 1, strings.Count(logs.String(), `"level":"ERROR"`), logs.String())
	require.Contains(t, logs.String(), "check username/password_file")
	require.Contains(t, logs.String(), "output recovered")
	st := o.Health()
	require.Equal(t, "ok", st.State, st.Message)
	require.NotNil(t, st.LastSuccess)
	require.WithinDuration(t, time.Now(), o.LastSuccess(), time.Minute)
	require.Zero(t, st.PendingDocs)
}

func TestHealthConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	url := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now
	cfg := testConfig(url)
	o, err := New(cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	runOutput(t, o)
	write(t, o.NewWriter(), newTestBatch(testSource("api-1"), newAckRecorder(), 0, 0, 3, nil))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.GreaterOrEqual(c, o.RequestFailures(CauseConnectionRefused), int64(2))
		st := o.Health()
		require.Equal(c, "failing", st.State)
		require.Equal(c, "connection_refused", st.Cause)
		require.Contains(c, st.Message, "failing since ")
		require.Contains(c, st.Message, "connection refused")
		require.Equal(c, int64(3), st.PendingDocs)
	}, 10*time.Second, 5*time.Millisecond)
	require.Zero(t, o.RequestFailures(CauseUnauthorized))
	require.True(t, o.LastSuccess().IsZero())
	require.Zero(t, o.Stats().BytesSent, "nothing was answered: no bytes count as written")
}

func TestRequestCauseOfStatus(t *testing.T) {
	for status, want := range map[int]Cause{
		401: CauseUnauthorized, 407: CauseUnauthorized, 403: CauseForbidden, 429: CauseThrottled,
		503: CauseUnavailable, 502: CauseServerError, 404: CauseClientError, 400: CauseClientError,
	} {
		require.Equal(t, want, requestCause(status, nil), status)
	}
}
