package kafka

import (
	"context"
	"net"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluicelog/sluice/agent/config"
)

// freePort returns a port of 127.0.0.1 nobody listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// The broker goes away for a while: nothing is acknowledged while it is
// away, the writer stops taking batches once buffer_bytes are held (the
// pipeline, and the tailers behind it, wait), and once the broker is back
// on the same port and data every record is delivered, each exactly once
// (the idempotent producer's retries are deduplicated by the broker).
func TestBrokerOutageBackpressureThenDelivery(t *testing.T) {
	dir, port := t.TempDir(), freePort(t)
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.Ports(port), kfake.DataDir(dir), kfake.SeedTopics(3, "logs")}
	c, err := kfake.NewCluster(opts...)
	require.NoError(t, err)
	brokers := c.ListenAddrs()
	o := start(t, outputConfig(t, brokers, func(oc *config.Output) { oc.BufferBytes = 64 << 10 }))
	var a acks
	src := source("api-1", "uid-1")
	w := o.NewWriter()
	write(t, w, batch(src, &a, 0, 0, 10, 100))
	waitFor(t, "the first batch acknowledged", func() bool { return a.n.Load() == 1 })
	c.Close()

	// Each batch holds ~15 KiB of documents: the writer must stop within
	// five of them.
	const total = 40
	var written atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		for i := 1; i < total; i++ {
			b := batch(src, &a, uint64(i), int64(i*100), 100, 100)
			if err := w.Write(ctx, b); err != nil {
				done <- err
				return
			}
			b.Done() // the worker's reference
			written.Add(1)
		}
		done <- nil
	}()
	waitFor(t, "the writer to block on buffer_bytes", func() bool {
		return o.mem.Used()+o.mem.Used()/int64(max(written.Load(), 1)) > o.mem.Limit()
	})
	held := written.Load()
	require.Less(t, held, int64(total-1), "the writer took every batch while the broker was away")
	require.EqualValues(t, 1, a.n.Load(), "acknowledged while the broker was away")

	c2, err := kfake.NewCluster(opts...)
	require.NoError(t, err)
	t.Cleanup(c2.Close)
	require.NoError(t, <-done)
	waitFor(t, "every batch acknowledged", func() bool { return a.n.Load() == total })

	got := consume(t, brokers, 10+(total-1)*100, []string{"logs"})
	seen := map[string]int{}
	for _, m := range got {
		seen[m.headers[IDHeader]]++
	}
	require.Len(t, seen, 10+(total-1)*100)
	for id, n := range seen {
		require.Equal(t, 1, n, "id %s", id)
	}
	require.Positive(t, o.Stats().DocsSent)
}
