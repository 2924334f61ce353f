package main

import (
	"fmt"
	"sync"

	"github.com/IBM/sarama"
	"github.com/rcrowley/go-metrics"
)

// sarama's producer, configured for the same contract: acks all,
// idempotent (which sarama allows only with Net.MaxOpenRequests = 1),
// the same compression and batch limit; everything else is sarama's
// default (no linger: a partition's records wait only while a request is
// in flight). Its go-metrics registry is off (UseNilMetrics), as an agent
// that exports its own metrics would have it.
type saramaProducer struct {
	p  sarama.AsyncProducer
	wg sync.WaitGroup
}

func newSarama(broker, codec string) (*saramaProducer, error) {
	metrics.UseNilMetrics = true
	cfg := sarama.NewConfig()
	cfg.ClientID = "sluice"
	cfg.Version = sarama.V4_0_0_0
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Idempotent = true
	cfg.Net.MaxOpenRequests = 1
	cfg.Producer.MaxMessageBytes = maxMessageBytes
	cfg.Producer.Return.Successes = true
	cfg.Producer.Return.Errors = true
	switch codec {
	case "snappy":
		cfg.Producer.Compression = sarama.CompressionSnappy
	case "zstd":
		cfg.Producer.Compression = sarama.CompressionZSTD
	default:
		return nil, fmt.Errorf("codec %q: snappy or zstd", codec)
	}
	p, err := sarama.NewAsyncProducer([]string{broker}, cfg)
	if err != nil {
		return nil, err
	}
	s := &saramaProducer{p: p}
	s.wg.Go(func() {
		for m := range p.Successes() {
			m.Metadata.(*chunk).done(nil)
		}
	})
	s.wg.Go(func() {
		for e := range p.Errors() {
			e.Msg.Metadata.(*chunk).done(e.Err)
		}
	})
	return s, nil
}

// produce sends one chunk's records, each a new ProducerMessage pointing
// at the dump's bytes. Key and value are *ByteEncoder into per-chunk
// slices: a ByteEncoder converted to the Encoder interface would cost an
// allocation each.
func (s *saramaProducer) produce(recs []rec, c *chunk) {
	ms := make([]sarama.ProducerMessage, len(recs))
	enc := make([]sarama.ByteEncoder, 2*len(recs))
	hs := make([]sarama.RecordHeader, 0, len(recs))
	for i := range recs {
		x := &recs[i]
		m := &ms[i]
		enc[2*i], enc[2*i+1] = x.key, x.value
		m.Topic, m.Key, m.Value, m.Metadata = x.topic, &enc[2*i], &enc[2*i+1], c
		for _, h := range x.headers {
			hs = append(hs, sarama.RecordHeader{Key: h.keyB, Value: h.value})
		}
		m.Headers = hs[len(hs)-len(x.headers) : len(hs) : len(hs)]
		s.p.Input() <- m
	}
}

func (s *saramaProducer) close() {
	s.p.AsyncClose()
	s.wg.Wait()
}
