package syslog

import (
	"context"
	"crypto/tls"
	"net"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/internal/testcert"
)

func dialTCP(t *testing.T, in *Input) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", in.TCPAddr().String(), 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// octet frames s with RFC 6587 octet counting.
func octet(s string) string { return strconv.Itoa(len(s)) + " " + s }

func logs(recs []got) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Log
	}
	sort.Strings(out)
	return out
}

func TestTCP_ClientsAndBadInput(t *testing.T) {
	sink := &recordingSink{t: t}
	in := startInput(t, testConfig(), sink)

	// A client that connects and sends nothing, and one that sends garbage,
	// binary and invalid UTF-8, must not cost the others anything.
	silent := dialTCP(t, in)
	_ = silent
	bad := dialTCP(t, in)
	_, err := bad.Write([]byte("garbage\n\x00\x01\xff\xfe\n\xc3\x28\n99999 <13>1 - - - - - - wrong count"))
	require.NoError(t, err)
	bad.Close() // disconnect mid-frame: the wrong count never completes

	good := dialTCP(t, in)
	big := "<13>1 2026-01-02T03:04:05Z h app - - - " + strings.Repeat("b", 100<<10) // over 64 KiB
	var sb strings.Builder
	sb.WriteString("<13>1 2026-01-02T03:04:05Z h app - - - one\n")
	sb.WriteString(octet(big))
	sb.WriteString(octet("<14>1 - - - - - - two\n"))
	sb.WriteString("<13>Mar  1 20:51:40 h app[7]: three\n")
	_, err = good.Write([]byte(sb.String()))
	require.NoError(t, err)

	recs := sink.waitRecords(t, 8)
	require.Len(t, recs, 8)
	byLog := map[string]got{}
	for _, r := range recs {
		require.Equal(t, "127.0.0.1", r.SourceIP)
		require.Equal(t, "tcp://"+in.TCPAddr().String(), r.Source)
		byLog[r.Log[:min(len(r.Log), 20)]] = r
	}
	require.False(t, byLog["one"].Malformed)
	require.Equal(t, map[string]any{"facility": "user", "severity": "info", "no_timestamp": true}, byLog["two"].Syslog)
	require.Equal(t, "7", byLog["three"].Syslog["proc_id"])
	cut := byLog[strings.Repeat("b", 20)]
	require.True(t, cut.Truncated, "the oversized message is cut and flagged")
	require.False(t, cut.Malformed)
	require.Len(t, cut.Log, 64<<10-len("<13>1 2026-01-02T03:04:05Z h app - - - "))
	for _, l := range []string{"garbage", "\x01\xff\xfe", "\xc3\x28", "<13>1 - - - - - - wr"} {
		require.True(t, byLog[l].Malformed, "%q %+v", l, byLog[l])
	}
	s := in.Stats()
	require.Equal(t, int64(8), s.Messages.Load())
	require.Equal(t, int64(4), s.Malformed.Load())
	require.Equal(t, int64(1), s.Truncated.Load())
	require.Equal(t, int64(1), s.Incomplete.Load())
	require.Equal(t, int64(3), s.ConnsAccepted.Load())
}

func TestTCP_IdleTimeoutAndMaxConnections(t *testing.T) {
	cfg := testConfig()
	cfg.IdleTimeout = config.Duration(150 * time.Millisecond)
	cfg.MaxConnections = 2
	sink := &recordingSink{t: t}
	in := startInput(t, cfg, sink)

	a, b := dialTCP(t, in), dialTCP(t, in)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, int64(2), in.Stats().ConnsOpen.Load())
	}, 5*time.Second, 5*time.Millisecond)
	third := dialTCP(t, in)
	// The third is closed at once: a read sees EOF.
	_ = third.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := third.Read(make([]byte, 1))
	require.Error(t, err)
	require.Equal(t, int64(1), in.Stats().ConnsRefused.Load())

	// a keeps talking; b goes idle and is closed.
	for range 5 {
		_, err := a.Write([]byte("<13>hello\n"))
		require.NoError(t, err)
		time.Sleep(50 * time.Millisecond)
	}
	_ = b.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = b.Read(make([]byte, 1))
	require.Error(t, err, "the idle connection was closed")
	require.Equal(t, int64(1), in.Stats().ConnsIdleClosed.Load())
	require.Len(t, sink.waitRecords(t, 5), 5)
}

// Batches are per read, not per message, and a partial batch is handed
// over without waiting for more.
func TestTCP_BatchingAndLatency(t *testing.T) {
	sink := &recordingSink{t: t}
	in := startInput(t, testConfig(), sink)
	c := dialTCP(t, in)
	var sb strings.Builder
	for i := range 1000 {
		sb.WriteString("<13>1 - - - - - - m" + strconv.Itoa(i) + "\n")
	}
	_, err := c.Write([]byte(sb.String()))
	require.NoError(t, err)
	sink.waitRecords(t, 1000)
	sink.mu.Lock()
	batches := sink.batches
	sink.mu.Unlock()
	require.Less(t, batches, 100, "1000 messages in one write come in a few batches")

	start := time.Now()
	_, err = c.Write([]byte("<13>1 - - - - - - alone\n"))
	require.NoError(t, err)
	sink.waitRecords(t, 1001)
	require.Less(t, time.Since(start), time.Second)
}

func TestTCP_Backpressure(t *testing.T) {
	sink := &recordingSink{t: t, block: make(chan struct{})}
	in := startInput(t, testConfig(), sink)
	c := dialTCP(t, in)
	// With the sink blocked the reader stops, the socket buffers fill and
	// the writer blocks: nothing is dropped.
	line := []byte("<13>1 - - - - - - " + strings.Repeat("p", 1000) + "\n")
	written := 0
	_ = c.SetWriteDeadline(time.Now().Add(2 * time.Second))
	for written < 64<<20 {
		if _, err := c.Write(line); err != nil {
			require.ErrorIs(t, err, os.ErrDeadlineExceeded)
			break
		}
		written++
	}
	require.Less(t, written, 64<<10, "the sender was pushed back")
	close(sink.block)
	recs := sink.waitRecords(t, written)
	require.Len(t, recs, written)
	require.Zero(t, in.Stats().DroppedFull.Load())
}

func TestUDP(t *testing.T) {
	cfg := testConfig()
	cfg.MaxMessageBytes = 1000
	sink := &recordingSink{t: t}
	in := startInput(t, cfg, sink)
	c, err := net.Dial("udp", in.UDPAddr().String())
	require.NoError(t, err)
	defer c.Close()
	msgs := []string{
		"<13>1 2026-01-02T03:04:05Z h app - - - one\n", // one per datagram; the LF goes
		"<13>Mar  1 20:51:40 h app: two",
		"garbage",
		"<13>1 - - - - - - " + strings.Repeat("x", 2000),
	}
	for _, m := range msgs {
		_, err := c.Write([]byte(m))
		require.NoError(t, err)
	}
	recs := sink.waitRecords(t, 4)
	require.Equal(t, []string{"garbage", "one", "two", strings.Repeat("x", 1000-len("<13>1 - - - - - - "))}, logs(recs))
	for _, r := range recs {
		require.Equal(t, "127.0.0.1", r.SourceIP)
		require.True(t, strings.HasPrefix(r.Source, "udp://127.0.0.1:"))
		require.Equal(t, r.Log == "garbage", r.Malformed)
		require.Equal(t, strings.HasPrefix(r.Log, "xxx"), r.Truncated)
	}
}

// UDP never waits for the pipeline: when it is full, datagrams are dropped
// and counted.
func TestUDP_PipelineFullDrops(t *testing.T) {
	sink := &recordingSink{t: t, block: make(chan struct{})}
	cfg := testConfig()
	cfg.UDPReaders = 1
	in := startInput(t, cfg, sink)
	c, err := net.Dial("udp", in.UDPAddr().String())
	require.NoError(t, err)
	defer c.Close()
	for range 50 {
		_, err := c.Write([]byte("<13>1 - - - - - - drop me"))
		require.NoError(t, err)
		time.Sleep(time.Millisecond)
	}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, int64(50), in.Stats().DroppedFull.Load()+in.Stats().Records.Load())
	}, 5*time.Second, 5*time.Millisecond)
	require.Equal(t, int64(50), in.Stats().DroppedFull.Load())
	close(sink.block)
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := testcert.Write(t, dir)
	cfg := testConfig()
	cfg.UDP = ""
	cfg.TLS = config.TLS{CertFile: certFile, KeyFile: keyFile}
	sink := &recordingSink{t: t}
	in := startInput(t, cfg, sink)
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", in.TCPAddr().String(), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // self-signed test cert
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write([]byte(octet("<13>1 - - - - - - over tls")))
	require.NoError(t, err)
	recs := sink.waitRecords(t, 1)
	require.Equal(t, "over tls", recs[0].Log)
	require.Equal(t, "tls://"+in.TCPAddr().String(), recs[0].Source)

	// A plain-text client is refused by the handshake, counted, harmless.
	p := dialTCP(t, in)
	_, _ = p.Write([]byte("<13>1 - - - - - - plain\n"))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, int64(1), in.Stats().ConnErrors.Load())
	}, 5*time.Second, 5*time.Millisecond)
	require.Len(t, sink.records(), 1)
}

// Lifecycle: Close without Run; Run, stop, and a new input on the same
// port; messages read before the stop are handed over.
func TestLifecycle(t *testing.T) {
	in, err := New(testConfig(), &recordingSink{t: t}, discardLogger())
	require.NoError(t, err)
	require.NoError(t, in.Listen())
	in.Close()

	sink := &recordingSink{t: t}
	in, err = New(testConfig(), sink, discardLogger())
	require.NoError(t, err)
	require.NoError(t, in.Listen())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	addr := in.TCPAddr().String()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write([]byte("<13>1 - - - - - - before stop\n"))
	require.NoError(t, err)
	sink.waitRecords(t, 1)
	cancel()
	require.NoError(t, <-done)
	require.Zero(t, in.Stats().ConnsOpen.Load())

	cfg := testConfig()
	cfg.TCP, cfg.UDP = addr, ""
	startInput(t, cfg, &recordingSink{t: t})
}

func TestNewRejects(t *testing.T) {
	cfg := testConfig()
	cfg.TCP, cfg.UDP = "", ""
	_, err := New(cfg, &recordingSink{}, discardLogger())
	require.Error(t, err)
	cfg = testConfig()
	cfg.TLS = config.TLS{CertFile: "/nonexistent.crt", KeyFile: "/nonexistent.key"}
	_, err = New(cfg, &recordingSink{}, discardLogger())
	require.ErrorContains(t, err, "load tls key pair")
}

var _ Sink = (*recordingSink)(nil)
var _ = record.Malformed

// Every message gets its own document id, across connections, UDP and
// identical messages, so a bulk request sent again after a lost answer is
// answered 409 instead of storing the messages twice.
func TestIDsUniquePerMessage(t *testing.T) {
	sink := &recordingSink{t: t}
	in := startInput(t, testConfig(), sink)
	const perConn = 300
	for range 3 {
		c := dialTCP(t, in)
		var sb strings.Builder
		for range perConn {
			sb.WriteString("<13>1 - - - - - - the same message\n")
		}
		_, err := c.Write([]byte(sb.String()))
		require.NoError(t, err)
	}
	u, err := net.Dial("udp", in.UDPAddr().String())
	require.NoError(t, err)
	defer u.Close()
	for range 20 {
		_, err := u.Write([]byte("<13>1 - - - - - - the same message"))
		require.NoError(t, err)
	}
	recs := sink.waitRecords(t, 3*perConn+20)
	ids := map[string]bool{}
	for _, r := range recs {
		require.Len(t, r.ID, record.IDLen)
		require.False(t, ids[r.ID], "id %s given twice", r.ID)
		ids[r.ID] = true
	}
}

// holdingSink keeps the batches pushed to it, so none goes back to the
// batch pool.
type holdingSink struct{ held []*record.Batch }

func (s *holdingSink) Push(_ context.Context, b *record.Batch) error {
	s.held = append(s.held, b)
	return nil
}

// TestBatchesAreSizedLikeTheConnectionsLast: a busy connection's next batch
// has room for batch_bytes from its first message (no growth by append,
// 16% of the syslog CPU); a quiet one's is not charged for 64 KiB it never
// fills (1000 slow clients would take 90 MB of memory_limit).
func TestBatchesAreSizedLikeTheConnectionsLast(t *testing.T) {
	cfg := testConfig()
	sink := &holdingSink{}
	in, err := New(cfg, sink, discardLogger())
	require.NoError(t, err)
	bt := in.newBatcher(&record.Source{})
	frame := []byte("<134>1 2026-11-26T10:00:00.000001Z host app 1 m1 - a message of some length to fill the batch")
	emptyPool := func() { runtime.GC(); runtime.GC() } // sync.Pool keeps nothing over two collections

	bt.add(frame, false, false, 1, nil)
	bt.push(context.Background())
	emptyPool()
	bt.add(frame, false, false, 1, nil)
	require.Less(t, cap(bt.b.Buf), 4<<10, "a quiet connection's batch stays small")
	bt.push(context.Background())

	for !bt.full() {
		bt.add(frame, false, false, 1, nil)
	}
	full := len(bt.b.Records)
	bt.push(context.Background())
	emptyPool()
	bt.add(frame, false, false, 1, nil)
	require.GreaterOrEqual(t, cap(bt.b.Buf), int(cfg.BatchBytes), "a busy connection's batch is sized like its last")
	require.GreaterOrEqual(t, cap(bt.b.Records), full)
	bt.push(context.Background())
	require.Len(t, sink.held, 4)
	require.Len(t, sink.held[2].Records, full)
	for _, b := range sink.held {
		require.Contains(t, string(b.Records[len(b.Records)-1].Line), "a message of some length")
		b.Done()
	}
}
