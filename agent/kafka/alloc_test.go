package kafka

import (
	"context"
	"math"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestWriteAllocatesNothing: handing a batch's records to the producer
// allocates per batch (its tracker, franz-go's record batch), never per
// record: a batch of 1,000 records costs what a batch of 10 does. The
// broker holds every produce request while the writer is measured, so
// that only the writer and the producer allocate.
func TestWriteAllocatesNothing(t *testing.T) {
	c := cluster(t)
	release := make(chan struct{})
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		<-release
		return nil, nil, false
	})
	defer close(release)
	o := start(t, outputConfig(t, c.ListenAddrs(), nil))
	var a acks
	src := source("api-1", "uid-1")
	w := o.NewWriter()
	ctx := context.Background()
	allocs := func(seq uint64, off int64, n int) uint64 {
		b := batch(src, &a, seq, off, n, 100)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		require.NoError(t, w.Write(ctx, b))
		runtime.ReadMemStats(&after)
		b.Done()
		return after.Mallocs - before.Mallocs
	}
	allocs(0, 0, 100) // topic cache, partitions, the producer's first batch
	// The fewest of a few tries: the broker's and the producer's own
	// goroutines allocate now and then, never less.
	small, large := uint64(math.MaxUint64), uint64(math.MaxUint64)
	off := int64(100)
	for i := range 4 {
		small = min(small, allocs(uint64(1+2*i), off, 10))
		large = min(large, allocs(uint64(2+2*i), off+10, 1010))
		off += 1020
	}
	t.Logf("allocations: %d for 10 records, %d for 1,010", small, large)
	require.Less(t, (float64(large)-float64(small))/1000, 0.02, "allocations per record")
}
