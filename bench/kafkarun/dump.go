package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// dumpMagic starts a dump file. After it, each record is its topic, key,
// value, header count and headers' keys and values, each byte string
// preceded by its length as a uvarint (bench/kafkaclients/records.go
// reads it).
const dumpMagic = "sluice-kafka-records v1\n"

// dumpRecords reads want records of topic from the brokers and writes
// them to path in partition order.
func dumpRecords(ctx context.Context, brokers []string, topic string, want int, path string) (int, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(50*time.Millisecond))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(dumpMagic)
	var lenBuf [binary.MaxVarintLen64]byte
	put := func(b []byte) {
		w.Write(binary.AppendUvarint(lenBuf[:0], uint64(len(b))))
		w.Write(b)
	}
	n := 0
	for n < want {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return n, fmt.Errorf("read %d of %d records: %w", n, want, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			put([]byte(r.Topic))
			put(r.Key)
			put(r.Value)
			w.Write(binary.AppendUvarint(lenBuf[:0], uint64(len(r.Headers))))
			for _, h := range r.Headers {
				put([]byte(h.Key))
				put(h.Value)
			}
			n++
		})
	}
	if err := w.Flush(); err != nil {
		return n, err
	}
	return n, f.Close()
}
