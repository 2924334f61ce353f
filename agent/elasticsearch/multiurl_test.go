package elasticsearch

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/config"
)

// deadURL returns the URL of a 127.0.0.1 port that nothing listens on.
func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return "http://" + addr
}

// With one URL dead and one alive, every document is delivered once: the
// client sets the dead one aside after it fails and the sender's retry
// goes to the live one.
func TestFailoverFromDeadURL(t *testing.T) {
	f := newFaultyBulk(t)
	cfg := testConfig(deadURL(t))
	cfg.URLs = append(cfg.URLs, f.srv.URL)
	cfg.Bulk.MaxBytes = 2048
	o := startOutput(t, cfg)
	src := testSource("api-1")
	acks := newAckRecorder()
	w := o.NewWriter()
	const batches, per = 10, 20
	var seqs []uint64
	for b := range batches {
		write(t, w, newTestBatch(src, acks, uint64(b), b*per, per, nil))
		seqs = append(seqs, uint64(b))
	}
	acks.waitAcked(t, seqs...)
	requireStoredOnce(t, f, src, batches*per, nil)
	st := o.Stats()
	require.Equal(t, int64(batches*per), st.DocsSent)
	require.LessOrEqual(t, st.RequestRetries, int64(2), "the dead URL is set aside after failing")
	require.Greater(t, f.requests(), 10)
}

// Requests are spread over every live URL.
func TestRequestsSpreadOverURLs(t *testing.T) {
	a, b := newFaultyBulk(t), newFaultyBulk(t)
	cfg := testConfig(a.srv.URL)
	cfg.URLs = append(cfg.URLs, b.srv.URL)
	cfg.Bulk.MaxBytes = 2048
	cfg.IdleTimeout = config.Duration(time.Second)
	o := startOutput(t, cfg)
	src := testSource("api-1")
	acks := newAckRecorder()
	w := o.NewWriter()
	var seqs []uint64
	for n := range 10 {
		write(t, w, newTestBatch(src, acks, uint64(n), n*20, 20, nil))
		seqs = append(seqs, uint64(n))
	}
	acks.waitAcked(t, seqs...)
	require.Positive(t, a.requests())
	require.Positive(t, b.requests())
	require.Len(t, append(a.storedKeys(), b.storedKeys()...), 200)
	require.Zero(t, o.Stats().RequestRetries)
}

// A server that accepts connections and never answers costs one request
// timeout; then the client sets it aside and the live one gets the rest.
// Shown by counts, not a wall time: the hanging server saw one connection
// and one request was sent again. The timeout is one the live server
// meets on a loaded machine (at 200ms it did not, and record 0 was sent
// twice).
func TestFailoverFromHangingURL(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	var accepted atomic.Int64
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				_ = c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			held = append(held, c)
		}
	}()
	f := newFaultyBulk(t)
	cfg := testConfig("http://" + l.Addr().String())
	cfg.URLs = append(cfg.URLs, f.srv.URL)
	cfg.Timeout = config.Duration(5 * time.Second)
	o := startOutput(t, cfg)
	src := testSource("api-1")
	acks := newAckRecorder()
	write(t, o.NewWriter(), newTestBatch(src, acks, 0, 0, 50, nil))
	acks.waitAcked(t, 0)
	requireStoredOnce(t, f, src, 50, nil)
	more := newAckRecorder()
	write(t, o.NewWriter(), newTestBatch(src, more, 1, 50, 50, nil))
	more.waitAcked(t, 1)
	requireStoredOnce(t, f, src, 100, nil)
	require.Equal(t, int64(1), o.Stats().RequestRetries, "one request timed out")
	require.Equal(t, int64(1), accepted.Load(), "the hanging server is set aside after its timeout")
}
