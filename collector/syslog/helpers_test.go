package syslog

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/parsers/timestamp"
)

// got is one record as a test sees it: the extra members decoded.
type got struct {
	Log       string
	Time      int64
	Truncated bool
	Malformed bool
	Syslog    map[string]any
	SourceIP  string
	Source    string // the batch's Source.Path
	ID        string // record.AppendID
}

func decodeRecord(t testing.TB, src *record.Source, r *record.Record) got {
	t.Helper()
	var extra struct {
		Syslog   map[string]any `json:"syslog"`
		SourceIP string         `json:"source_ip"`
	}
	require.NoError(t, json.Unmarshal([]byte("{"+string(r.Extra)+"}"), &extra), "extra %q", r.Extra)
	// A message read by a listener gets a document id: its connection's
	// number and its own number on that connection. (The parser alone, in parse
	// tests, leaves both unset.)
	if src.IDKey != nil || r.Offset != -1 {
		require.GreaterOrEqual(t, r.Offset, int64(0))
		require.NotNil(t, src.IDKey)
		require.NotZero(t, src.IDConn)
	}
	return got{
		Log: string(r.Line), Time: r.Time,
		Truncated: r.Flags&record.Truncated != 0, Malformed: r.Flags&record.Malformed != 0,
		Syslog: extra.Syslog, SourceIP: extra.SourceIP, Source: src.Path,
		ID: string(record.AppendID(nil, src, r)),
	}
}

// recordingSink keeps a decoded copy of every record pushed and recycles
// the batches. With block set, Push waits until it is closed or ctx ends.
type recordingSink struct {
	t       testing.TB
	mu      sync.Mutex
	recs    []got
	batches int
	block   chan struct{} // nil: never blocks
}

func (s *recordingSink) Push(ctx context.Context, b *record.Batch) error {
	if s.block != nil {
		select {
		case <-s.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	for i := range b.Records {
		s.recs = append(s.recs, decodeRecord(s.t, b.Source, &b.Records[i]))
	}
	s.batches++
	s.mu.Unlock()
	b.Done()
	return nil
}

func (s *recordingSink) records() []got {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]got(nil), s.recs...)
}

// waitRecords waits until the sink holds n records and returns them.
func (s *recordingSink) waitRecords(t *testing.T, n int) []got {
	t.Helper()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.GreaterOrEqual(c, len(s.records()), n)
	}, 10*time.Second, 5*time.Millisecond)
	return s.records()
}

func testConfig() config.Input {
	return config.Input{
		Name: "syslog", Type: "syslog", TCP: "127.0.0.1:0", UDP: "127.0.0.1:0", Format: "auto",
		MaxMessageBytes: 64 << 10, MaxConnections: 16, IdleTimeout: config.Duration(time.Minute),
		UDPReaders: 2, BatchBytes: 64 << 10,
		HandshakeTimeout: config.Duration(10 * time.Second), UDPReceiveBuffer: 8 << 20,
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// startInput runs an input on loopback ports until the test ends.
func startInput(t *testing.T, cfg config.Input, sink Sink, opts ...Option) *Input {
	t.Helper()
	in, err := New(cfg, sink, discardLogger(), opts...)
	require.NoError(t, err)
	in.flushDelay = 20 * time.Millisecond
	require.NoError(t, in.Listen())
	runInput(t, in)
	return in
}

// runInput runs a listening input until the test ends.
func runInput(t *testing.T, in *Input) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Error("syslog input did not stop within 10s")
		}
	})
}

// parseOne runs one frame through the parser.
func parseOne(t testing.TB, format string, frame string, recv int64) got {
	t.Helper()
	p := newParser(format)
	src := &record.Source{Input: "t", Path: "test"}
	b := record.NewBatch(src, nil)
	defer b.Discard()
	var out outcome
	p.add(b, []byte(frame), false, false, recv, []byte(`"source_ip":"10.0.0.1"`), &out)
	require.Len(t, b.Records, 1)
	require.Equal(t, int64(1), out.messages)
	return decodeRecord(t, src, &b.Records[0])
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

// fast5424 is the RFC 5424 fast path's reading of frame, and whether it
// took it.
func fast5424(frame []byte, ts *timestamp.Parser, last *lastHeader) (f fields, ok bool) {
	ok = f.read5424(frame, ts, last)
	return f, ok
}
