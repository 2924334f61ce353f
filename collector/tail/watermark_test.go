package tail

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/checkpoint"
)

func TestWatermark(t *testing.T) {
	type ack struct {
		seq uint64
		m   mark
		// what the ack reports
		moved, done bool
		cp          checkpoint.Entry
	}
	cp := func(gen uint64, fp string, end int64) checkpoint.Entry {
		return checkpoint.Entry{Generation: gen, Fingerprint: fp, Offset: end}
	}
	for _, tc := range []struct {
		name  string
		gens  map[uint64]string // generations and their fingerprints
		sent  int               // batches pushed
		close bool              // the reader let go before the acks
		acks  []ack
	}{{
		name: "in order: each ack moves the checkpoint",
		gens: map[uint64]string{0: "a"}, sent: 3,
		acks: []ack{
			{0, mark{0, 10}, true, false, cp(0, "a", 10)},
			{1, mark{0, 20}, true, false, cp(0, "a", 20)},
			{2, mark{0, 30}, true, false, cp(0, "a", 30)},
		},
	}, {
		name: "out of order: later acks wait for the oldest, then move it at once",
		gens: map[uint64]string{0: "a"}, sent: 3,
		acks: []ack{
			{2, mark{0, 30}, false, false, checkpoint.Entry{}},
			{1, mark{0, 20}, false, false, checkpoint.Entry{}},
			{0, mark{0, 10}, true, false, cp(0, "a", 30)},
		},
	}, {
		name: "across a truncation: each offset with its own generation's fingerprint",
		gens: map[uint64]string{0: "old", 1: "new"}, sent: 3,
		acks: []ack{
			{0, mark{0, 500}, true, false, cp(0, "old", 500)},
			{2, mark{1, 40}, false, false, checkpoint.Entry{}},
			{1, mark{1, 20}, true, false, cp(1, "new", 40)},
		},
	}, {
		name: "released: the last ack of all says done",
		gens: map[uint64]string{3: "x"}, sent: 2, close: true,
		acks: []ack{
			{1, mark{3, 20}, false, false, checkpoint.Entry{}},
			{0, mark{3, 10}, true, true, cp(3, "x", 20)},
		},
	}, {
		name: "released with a gap: done only once the gap is acked",
		gens: map[uint64]string{0: "a"}, sent: 3, close: true,
		acks: []ack{
			{0, mark{0, 10}, true, false, cp(0, "a", 10)},
			{2, mark{0, 30}, false, false, checkpoint.Entry{}},
			{1, mark{0, 20}, true, true, cp(0, "a", 30)},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWatermark()
			for g, fp := range tc.gens {
				w.generation(g, fp)
			}
			for i := range tc.sent {
				require.Equal(t, uint64(i), w.send())
			}
			if tc.close {
				require.False(t, w.close(), "batches out: not all acked")
			}
			for i, a := range tc.acks {
				got, moved, done := w.ack(a.seq, a.m)
				require.Equal(t, a.moved, moved, "ack %d: moved", i)
				require.Equal(t, a.done, done, "ack %d: done", i)
				require.Equal(t, a.cp, got, "ack %d: checkpoint", i)
			}
			require.Equal(t, uint64(0), w.pending())
		})
	}
}

// A batch that was numbered but never pushed is taken back: the next one
// gets its number, and nothing waits for an ack that cannot come.
func TestWatermarkUnsend(t *testing.T) {
	w := newWatermark()
	w.generation(0, "a")
	require.Equal(t, uint64(0), w.send())
	w.unsend()
	require.Equal(t, uint64(0), w.pending())
	require.Equal(t, uint64(0), w.send())
	require.Equal(t, uint64(1), w.pending())
	_, moved, _ := w.ack(0, mark{0, 10})
	require.True(t, moved)
	require.True(t, w.close(), "everything acked: done at once")
}

// Generations behind the acknowledged prefix are forgotten, so a file
// truncated again and again keeps one fingerprint, not one per truncation.
func TestWatermarkForgetsOldGenerations(t *testing.T) {
	w := newWatermark()
	for g := range uint64(100) {
		w.generation(g, "fp")
		seq := w.send()
		_, moved, _ := w.ack(seq, mark{g, 10})
		require.True(t, moved)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	require.Len(t, w.fps, 1)
}
