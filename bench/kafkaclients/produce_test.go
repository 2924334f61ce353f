package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Both producers deliver every record, with its key and header, under
// both codecs, to a kfake broker on 127.0.0.1: the comparison measures
// producers that work.
func TestProducersDeliver(t *testing.T) {
	d := &dataset{topics: []string{"logs"}}
	for i := range 500 {
		id := fmt.Appendf(nil, "id-%04d", i)
		d.recs = append(d.recs, rec{topic: "logs", key: fmt.Appendf(nil, "pod-%d", i%7),
			value:   fmt.Appendf(nil, `{"log":"line %d"}`, i),
			headers: []header{{key: "sluice.id", keyB: []byte("sluice.id"), value: id}}})
	}
	for _, client := range []string{"franz-go", "sarama"} {
		for _, codec := range []string{"snappy", "zstd"} {
			t.Run(client+"/"+codec, func(t *testing.T) {
				c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "logs"))
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				p, err := newProducer(client, c.ListenAddrs()[0], codec)
				if err != nil {
					t.Fatal(err)
				}
				res := measure(p, d, 2)
				p.close()
				if res.Records != 1000 || res.Failed != 0 {
					t.Fatalf("answered %d records, %d failed (%s); want 1000, 0", res.Records, res.Failed, res.FirstErr)
				}
				got := consumeIDs(t, c.ListenAddrs()[0], 1000)
				for i := range 500 {
					if n := got[fmt.Sprintf("id-%04d", i)]; n != 2 {
						t.Fatalf("id-%04d stored %d times, want 2 (one a pass)", i, n)
					}
				}
			})
		}
	}
}

// consumeIDs reads want records of topic logs and counts their
// sluice.id headers.
func consumeIDs(t *testing.T, broker string, want int) map[string]int {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.ConsumeTopics("logs"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ids, n := map[string]int{}, 0
	for n < want && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			n++
			for _, h := range r.Headers {
				if h.Key == "sluice.id" {
					ids[string(h.Value)]++
				}
			}
		})
	}
	return ids
}
