package main

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
)

// franz is the agent's client, configured as agent/kafka's clientOpts
// configures it with the defaults (acks all, idempotent, 1000012-byte
// batches, franz-go's 10 ms linger and up to 5 requests in flight).
type franz struct{ cl *kgo.Client }

func newFranz(broker, codec string) (*franz, error) {
	c := kgo.SnappyCompression()
	switch codec {
	case "zstd":
		c = kgo.ZstdCompression()
	case "snappy":
	default:
		return nil, fmt.Errorf("codec %q: snappy or zstd", codec)
	}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(broker),
		kgo.ClientID("sluice"),
		kgo.ProducerBatchMaxBytes(maxMessageBytes),
		kgo.ProducerBatchCompression(c),
		kgo.RequiredAcks(kgo.AllISRAcks()), // idempotent: franz-go's default
		kgo.UnknownTopicRetries(3),
	)
	if err != nil {
		return nil, err
	}
	return &franz{cl: cl}, nil
}

// produce hands one chunk's records to the producer, each a new
// kgo.Record pointing at the dump's bytes, as the agent's writer builds
// them from a batch.
func (f *franz) produce(recs []rec, c *chunk) {
	ks := make([]kgo.Record, len(recs))
	hs := make([]kgo.RecordHeader, 0, len(recs))
	promise := func(_ *kgo.Record, err error) { c.done(err) }
	for i := range recs {
		x := &recs[i]
		r := &ks[i]
		r.Topic, r.Key, r.Value = x.topic, x.key, x.value
		for _, h := range x.headers {
			hs = append(hs, kgo.RecordHeader{Key: h.key, Value: h.value})
		}
		r.Headers = hs[len(hs)-len(x.headers) : len(hs) : len(hs)]
		f.cl.Produce(context.Background(), r, promise)
	}
}

func (f *franz) close() { f.cl.Close() }
