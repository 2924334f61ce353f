package kafka

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicelog/sluice/agent/record"
)

// Every record arrives once, keyed by its pod's uid so that one pod's
// lines are in one partition in file order, with its id in a header; each
// batch is acknowledged, and only once the broker has answered.
func TestDeliversKeyedInOrderWithIDs(t *testing.T) {
	c := cluster(t)
	brokers := c.ListenAddrs()
	o := start(t, outputConfig(t, brokers, nil))
	var a acks
	pods := []*record.Source{source("api-1", "uid-1"), source("api-2", "uid-2"), source("web-1", "uid-3")}

	// Hold the produce requests until the test lets them go: nothing may
	// be acknowledged before the broker answers.
	release := make(chan struct{})
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		<-release
		return nil, nil, false
	})
	w := o.NewWriter()
	const perBatch, batches = 50, 4
	wantID := map[string]string{} // by document
	for i := range batches {
		for _, src := range pods {
			b := batch(src, &a, uint64(i), int64(i*perBatch), perBatch, 40)
			for j := range b.Records {
				wantID[strings.TrimSuffix(string(b.Doc(j)), "\n")] = string(record.AppendID(nil, src, &b.Records[j]))
			}
			write(t, w, b)
		}
	}
	waitFor(t, "records handed to the producer", func() bool { return o.Stats().Pending == batches*perBatch*3 })
	require.Zero(t, a.n.Load(), "acknowledged before the broker answered")
	close(release)
	waitFor(t, "every batch acknowledged", func() bool { return a.n.Load() == batches*3 })

	got := consume(t, brokers, batches*perBatch*3, []string{"logs"})
	require.Len(t, got, batches*perBatch*3)
	ids := map[string]bool{}
	partOf := map[string]int32{}
	last := map[string]int64{}
	for _, m := range got {
		id := m.headers[IDHeader]
		require.Equal(t, wantID[m.value], id, "the id of %s", m.value)
		require.False(t, ids[id], "id %s twice", id)
		ids[id] = true
		if p, ok := partOf[m.key]; ok {
			require.Equal(t, p, m.partition, "key %s in two partitions", m.key)
		}
		partOf[m.key] = m.partition
		var pod string
		var n int64
		_, err := fmt.Sscanf(m.value, `{"log":"%s line %d`, &pod, &n)
		require.NoError(t, err, m.value)
		if prev, ok := last[m.key]; ok {
			require.Greater(t, n, prev, "pod %s out of order", pod)
		}
		last[m.key] = n
	}
	require.ElementsMatch(t, []string{"uid-1", "uid-2", "uid-3"}, keys(partOf))
	st := o.Stats()
	require.EqualValues(t, batches*perBatch*3, st.DocsSent)
	require.Zero(t, st.Pending)
	require.Positive(t, st.BytesSent)
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
