package loglimit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// clock is a manual time source.
type clock struct{ ns int64 }

func (c *clock) now() int64              { return c.ns }
func (c *clock) advance(d time.Duration) { c.ns += int64(d) }

func newTest(t *testing.T) (*Limiter, *clock, func() []map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	l := New(slog.New(slog.NewJSONHandler(&buf, nil)), time.Second)
	c := &clock{ns: time.Now().UnixNano()}
	l.now = c.now
	lines := func() []map[string]any {
		var out []map[string]any
		for _, b := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
			if len(b) == 0 {
				continue
			}
			var m map[string]any
			require.NoError(t, json.Unmarshal(b, &m))
			out = append(out, m)
		}
		buf.Reset()
		return out
	}
	return l, c, lines
}

// A flood of one warning does not hide another: "read failed" comes
// through in the middle of a flood of "line cut" ones, and the next "line
// cut" let through says how many were held back.
func TestFloodDoesNotHideOtherMessages(t *testing.T) {
	l, c, lines := newTest(t)
	for range 1000 {
		l.Warn("line longer than max_line_bytes cut", "path", "/a")
	}
	l.Warn("read failed; file released", "path", "/b")
	for range 500 {
		l.Warn("line longer than max_line_bytes cut", "path", "/a")
	}
	got := lines()
	require.Len(t, got, 2)
	require.Equal(t, "line longer than max_line_bytes cut", got[0]["msg"])
	require.NotContains(t, got[0], "suppressed", "nothing held back before the first")
	require.Equal(t, "read failed; file released", got[1]["msg"])
	require.Equal(t, "WARN", got[1]["level"])

	c.advance(time.Second)
	l.Warn("line longer than max_line_bytes cut", "path", "/a")
	got = lines()
	require.Len(t, got, 1)
	require.Equal(t, float64(1499), got[0]["suppressed"], "every line held back is counted")

	c.advance(time.Second)
	l.Error("line longer than max_line_bytes cut", "path", "/a")
	got = lines()
	require.Len(t, got, 1)
	require.NotContains(t, got[0], "suppressed", "the count starts again")
	require.Equal(t, "ERROR", got[0]["level"])
}

func TestAllowOncePerInterval(t *testing.T) {
	l, c, _ := newTest(t)
	n, ok := l.Allow("m")
	require.True(t, ok)
	require.Zero(t, n)
	_, ok = l.Allow("m")
	require.False(t, ok)
	c.advance(999 * time.Millisecond)
	_, ok = l.Allow("m")
	require.False(t, ok)
	c.advance(time.Millisecond)
	n, ok = l.Allow("m")
	require.True(t, ok)
	require.Equal(t, int64(2), n)
}

// Messages past MaxKeys share one allowance instead of growing the table.
func TestKeysBounded(t *testing.T) {
	l, _, lines := newTest(t)
	for i := range MaxKeys + 100 {
		l.Warn(fmt.Sprintf("message %d", i))
	}
	require.Len(t, *l.keys.Load(), MaxKeys+1)
	require.Len(t, lines(), MaxKeys+1, "one line per own key, one for all the rest")
}

// Many goroutines on one message: exactly one line gets through per
// interval, and no held-back line goes uncounted.
func TestConcurrent(t *testing.T) {
	l, c, lines := newTest(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				l.Warn("m")
				l.Warn("other")
			}
		})
	}
	wg.Wait()
	require.Len(t, lines(), 2)
	c.advance(time.Second)
	n, ok := l.Allow("m")
	require.True(t, ok)
	require.Equal(t, int64(8*1000-1), n)
}

func TestNoAllocation(t *testing.T) {
	l, _, _ := newTest(t)
	l.Allow("m")
	msg := string([]byte("m")) // not a constant
	require.Zero(t, testing.AllocsPerRun(100, func() { l.Allow(msg) }))
}
