package tail

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/fairshare"
	"github.com/sluicelog/sluice/agent/record"
)

// With the budget full of a noisy file's batches, a quiet file's line is
// the next one admitted; the noisy file waits unread, and every line of it
// arrives once the output catches up.
func TestFairShareQuietFirst(t *testing.T) {
	e := newEnv(t)
	sched := fairshare.New(1) // one batch in flight at a time
	e.tune = func(t *Tailer) { t.ShareFairly(sched, fairshare.Policy{By: "namespace"}) }
	e.sink.hold = true
	noisy, quiet := e.path("spam-1", "noisy"), e.path("calm-1", "quiet")
	var want []string
	for i := range 300 {
		want = append(want, fmt.Sprintf("noisy line %04d", i))
	}
	lines := make([]string, len(want))
	for i, l := range want {
		lines[i] = criLine("stdout", "F", l)
	}
	e.write(noisy, lines...)
	e.start()
	// One noisy batch held by the "output", the next one waiting.
	require.Eventually(t, func() bool { return sched.Stats().Waiting.Load() == 1 }, 10*time.Second, time.Millisecond)
	e.write(quiet, criLine("stdout", "F", "quiet line"))
	require.Eventually(t, func() bool { return sched.Stats().Waiting.Load() == 2 }, 10*time.Second, time.Millisecond)
	before := len(e.sink.lines())

	e.ackOldest()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Len(c, e.sink.lines(), before+1)
	}, 10*time.Second, time.Millisecond)
	require.Equal(t, "quiet line", e.sink.lines()[before], "the quiet line goes before the noisy backlog")
	require.Equal(t, int64(1), sched.Stats().Waiting.Load(), "the noisy file still waits")

	e.sink.release()
	e.waitLines(len(want) + 1)
	var gotNoisy []string
	for _, r := range e.sink.snapshot() {
		if r.Namespace == "noisy" {
			gotNoisy = append(gotNoisy, r.Line)
		}
	}
	require.Equal(t, want, gotNoisy, "every noisy line once, in order")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Zero(c, sched.Stats().InFlight.Load(), "every admitted byte given back on ack")
	}, 10*time.Second, time.Millisecond)
	require.Positive(t, sched.Stats().Waited.Load())
	keys := map[string]bool{}
	for _, k := range sched.Keys() {
		keys[k.Key] = true
	}
	require.Equal(t, map[string]bool{"noisy": true, "quiet": true}, keys)
}

// ackOldest acknowledges the first held batch and keeps holding the rest.
func (e *env) ackOldest() {
	e.t.Helper()
	s := e.sink
	s.mu.Lock()
	require.NotEmpty(e.t, s.held)
	var b *record.Batch
	b, s.held = s.held[0], s.held[1:]
	s.mu.Unlock()
	b.Done()
}

// A key's ceiling delays its file, never drops: every line arrives once,
// in order, after batches were held back; the other key is not slowed by
// it.
func TestFairShareCeilingDelays(t *testing.T) {
	e := newEnv(t)
	sched := fairshare.New(1 << 20)
	sched.SetCeilings(8<<10, 0) // 8 KiB/s per key
	e.tune = func(t *Tailer) { t.ShareFairly(sched, fairshare.Policy{By: "namespace"}) }
	noisy, quiet := e.path("spam-1", "noisy"), e.path("calm-1", "quiet")
	want := padMsgs("noisy", 100) // ~12 KiB: a second's burst, then waits
	lines := make([]string, len(want))
	for i, l := range want {
		lines[i] = criLine("stdout", "F", l)
	}
	e.write(noisy, lines...)
	e.start()
	require.Eventually(t, func() bool { return sched.Stats().CeilingWaited.Load() > 0 }, 10*time.Second, time.Millisecond)
	e.write(quiet, criLine("stdout", "F", "quiet line"))
	e.waitLines(len(want) + 1)
	var got []string
	for _, r := range e.sink.snapshot() {
		if r.Namespace == "noisy" {
			got = append(got, r.Line)
		}
	}
	require.Equal(t, want, got, "every line once, in order")
	require.Positive(t, sched.Stats().CeilingNanos.Load())
}
