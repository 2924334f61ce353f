package syslog

import (
	"crypto/tls"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/budget"
	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/internal/testcert"
)

// withFrameWait shortens how long a connection waits for frame memory.
func withFrameWait(d time.Duration) Option { return func(in *Input) { in.frameWait = d } }

// eventually waits for cond, checked every few milliseconds.
func eventually(t *testing.T, cond func(c *assert.CollectT), msg string) {
	t.Helper()
	require.EventuallyWithT(t, cond, 10*time.Second, 5*time.Millisecond, msg)
}

// Connections holding unfinished long frames share the frame memory:
// while it is full the others wait, then are closed and counted, and the
// head of their frame is shipped cut; the holders' frames arrive whole.
func TestTCP_FrameMemoryBoundsUnfinishedFrames(t *testing.T) {
	const frameLen = 60_000 // needs the 64 KiB buffer: 60 KiB over the first 4
	frames := budget.New(2 * (busyBuffer - firstBuffer))
	sink := &recordingSink{t: t}
	in := startInput(t, testConfig(), sink, WithFrameMemory(frames), withFrameWait(300*time.Millisecond))
	st := in.Stats()

	body := "<13>1 - - - - - - " + strings.Repeat("f", frameLen-len("<13>1 - - - - - - "))
	// One at a time, so which connections hold is known: the first two
	// take all of the memory, the others wait and are closed.
	conns := make([]net.Conn, 6)
	for i := range conns {
		conns[i] = dialTCP(t, in)
		_, err := conns[i].Write([]byte(body))
		require.NoError(t, err)
		eventually(t, func(c *assert.CollectT) {
			require.Equal(c, min(int64(i+1), 2)*(busyBuffer-firstBuffer), frames.Used())
			require.Equal(c, max(int64(i-1), 0), st.ConnsFrameMemory.Load())
		}, "connection "+strconv.Itoa(i))
	}
	// A cut connection is counted before it is closed: wait for the close.
	eventually(t, func(c *assert.CollectT) {
		require.Equal(c, int64(2), st.ConnsOpen.Load())
	}, "the four cut connections closed")
	require.Equal(t, frames.Limit(), frames.Used(), "the two holders took all of it")
	require.Equal(t, frames.Used(), st.FrameBytes.Load())
	cut := sink.waitRecords(t, 4)
	for _, r := range cut {
		require.True(t, r.Truncated, "the head of a frame cut for memory is flagged")
		require.Less(t, len(r.Log), frameLen)
	}

	// The closed ones see the close; the holders finish their frames,
	// which arrive whole, and once quiet give the memory back.
	var held []net.Conn
	for _, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); err != nil && isTimeout(err) {
			held = append(held, c)
		}
	}
	require.Len(t, held, 2)
	for _, c := range held {
		_, err := c.Write([]byte("\n"))
		require.NoError(t, err)
	}
	recs := sink.waitRecords(t, 6)
	whole := 0
	for _, r := range recs {
		if !r.Truncated {
			require.Len(t, r.Log, frameLen-len("<13>1 - - - - - - "))
			whole++
		}
	}
	require.Equal(t, 2, whole)
	eventually(t, func(c *assert.CollectT) {
		require.Zero(c, frames.Used())
		require.Zero(c, st.FrameBytes.Load())
		require.Equal(c, int64(2), st.ConnsOpen.Load())
	}, "quiet connections shrink their buffers")
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// A connection that needs room waits for it without reading (pushing its
// sender back) and goes on once another connection's frame is done and
// its buffer given back.
func TestTCP_FrameMemoryWaitsForRoom(t *testing.T) {
	frames := budget.New(busyBuffer - firstBuffer)
	sink := &recordingSink{t: t}
	in := startInput(t, testConfig(), sink, WithFrameMemory(frames), withFrameWait(10*time.Second))
	body := func(c byte) string { return "<13>1 - - - - - - " + strings.Repeat(string(c), 50_000) }

	a := dialTCP(t, in)
	_, err := a.Write([]byte(body('a')))
	require.NoError(t, err)
	eventually(t, func(c *assert.CollectT) {
		require.Equal(c, frames.Limit(), frames.Used())
	}, "a holds all the frame memory")
	b := dialTCP(t, in)
	_, err = b.Write([]byte(body('b') + "\n"))
	require.NoError(t, err)
	_, err = a.Write([]byte("\n"))
	require.NoError(t, err)
	recs := sink.waitRecords(t, 2)
	require.Equal(t, []string{body('a')[18:], body('b')[18:]}, logs(recs))
	require.Zero(t, in.Stats().ConnsFrameMemory.Load())
	require.Zero(t, in.Stats().Truncated.Load())
}

// A TLS client that never sends its ClientHello is closed after
// handshake_timeout, however long idle_timeout is, so silent connections
// cannot hold max_connections.
func TestTLS_HandshakeTimeout(t *testing.T) {
	certFile, keyFile := testcert.Write(t, t.TempDir())
	cfg := testConfig()
	cfg.UDP = ""
	cfg.TLS = config.TLS{CertFile: certFile, KeyFile: keyFile}
	cfg.MaxConnections = 2
	cfg.IdleTimeout = config.Duration(time.Hour)
	cfg.HandshakeTimeout = config.Duration(200 * time.Millisecond)
	sink := &recordingSink{t: t}
	in := startInput(t, cfg, sink)
	st := in.Stats()

	for range 2 {
		dialTCP(t, in) // silent
	}
	eventually(t, func(c *assert.CollectT) {
		require.Equal(c, int64(2), st.ConnsHandshakeTimeout.Load())
		require.Zero(c, st.ConnsOpen.Load())
	}, "silent connections closed at handshake_timeout")
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", in.TCPAddr().String(), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // self-signed test cert
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write([]byte("<13>1 - - - - - - after the silent ones\n"))
	require.NoError(t, err)
	require.Equal(t, "after the silent ones", sink.waitRecords(t, 1)[0].Log)
	require.Zero(t, st.ConnsRefused.Load())
	require.Zero(t, st.ConnErrors.Load())
}

// Datagrams the kernel drops because nobody read the socket in time are
// counted: what was read plus the kernel's count is what was sent.
func TestUDP_KernelDropsCounted(t *testing.T) {
	cfg := testConfig()
	cfg.TCP = ""
	cfg.UDPReaders = 1
	cfg.UDPReceiveBuffer = 4 << 10
	sink := &recordingSink{t: t}
	in, err := New(cfg, sink, discardLogger())
	require.NoError(t, err)
	require.NoError(t, in.Listen()) // bound, nobody reading yet
	t.Cleanup(in.Close)

	c, err := net.Dial("udp", in.UDPAddr().String())
	require.NoError(t, err)
	defer c.Close()
	const sent = 500
	for range sent {
		_, err := c.Write([]byte("<13>1 - - - - - - into a full buffer"))
		require.NoError(t, err)
	}
	drops := in.UDPKernelDrops()
	require.Positive(t, drops, "an 8 KiB buffer holds far fewer than 500 datagrams")
	require.Less(t, drops, int64(sent))

	runInput(t, in)
	got := sink.waitRecords(t, int(sent-drops))
	require.Len(t, got, int(sent-drops))
	require.Equal(t, drops, in.UDPKernelDrops())
	require.Zero(t, in.Stats().DroppedFull.Load())
}
