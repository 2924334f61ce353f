package syslog

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/record"
)

// ackLaterSink takes every batch and keeps it, as the pipeline does while
// its output cannot deliver; release acknowledges them all.
type ackLaterSink struct {
	mu   sync.Mutex
	held []*record.Batch
}

func (s *ackLaterSink) Push(_ context.Context, b *record.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held = append(s.held, b)
	return nil
}

func (s *ackLaterSink) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.held)
}

func (s *ackLaterSink) release() {
	s.mu.Lock()
	held := s.held
	s.held = nil
	s.mu.Unlock()
	for _, b := range held {
		b.Done()
	}
}

// The lag in time of a syslog input: zero with nothing read, then the age
// of the oldest message not yet acknowledged, growing while the store is
// down, and zero again once every batch is acknowledged. TCP and UDP
// messages count alike.
func TestLagGrowsUntilAcknowledged(t *testing.T) {
	sink := &ackLaterSink{}
	in := startInput(t, testConfig(), sink)
	require.True(t, in.OldestUnacked().IsZero(), "nothing read yet")

	c := dialTCP(t, in)
	_, err := c.Write([]byte("<13>1 - - - - - - over tcp\n"))
	require.NoError(t, err)
	u, err := net.Dial("udp", in.UDPAddr().String())
	require.NoError(t, err)
	defer u.Close()
	_, err = u.Write([]byte("<13>1 - - - - - - over udp"))
	require.NoError(t, err)
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		require.Equal(ct, 2, sink.len())
	}, 10*time.Second, 5*time.Millisecond)

	first := in.OldestUnacked()
	require.False(t, first.IsZero())
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		require.Greater(ct, time.Since(in.OldestUnacked()), 200*time.Millisecond, "the age grows")
	}, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, first, in.OldestUnacked(), "the oldest stays while nothing is acknowledged")

	sink.release()
	require.True(t, in.OldestUnacked().IsZero(), "every message acknowledged")
}

// A batch that is not handed over (UDP with the pipeline full) is not
// waiting for an acknowledgement: it leaves no lag behind.
func TestLagForgetsDroppedBatches(t *testing.T) {
	sink := &recordingSink{t: t, block: make(chan struct{})}
	in := startInput(t, testConfig(), sink)
	u, err := net.Dial("udp", in.UDPAddr().String())
	require.NoError(t, err)
	defer u.Close()
	_, err = u.Write([]byte("<13>1 - - - - - - dropped"))
	require.NoError(t, err)
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		require.Positive(ct, in.Stats().DroppedFull.Load())
	}, 10*time.Second, 5*time.Millisecond)
	require.True(t, in.OldestUnacked().IsZero())
}
