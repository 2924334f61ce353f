package e2e

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicelog/sluice/agent/kafka"
	"github.com/sluicelog/sluice/bench/sink"
)

// kafkaOutput replaces the outputs of config for Options.Output kafka.
const kafkaOutput = `outputs:
  - name: kafka
    type: kafka
    brokers: ["%s"]
    topic: logs
    compression: %s
`

// startKafka runs the kafka output's sink: franz-go's kfake broker on
// 127.0.0.1 (one broker, topic logs with 8 partitions, in this process,
// so its CPU is not the agent's) and a consumer that hands every record
// to sk, which checks each once as it checks bulk documents. stop ends
// both.
func startKafka(sk *sink.Sink, logf func(format string, args ...any)) (broker string, stop func(), err error) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(8, "logs"))
	if err != nil {
		return "", nil, fmt.Errorf("kfake: %w", err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics("logs"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		c.Close()
		return "", nil, fmt.Errorf("consumer: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		// The next offset of each partition: a record below it is the
		// consumer reading again (say, an offset reset), not a
		// duplicate the agent produced, and is said so.
		next := map[int32]int64{}
		for {
			fs := cl.PollFetches(ctx)
			if ctx.Err() != nil {
				return
			}
			var n int64
			fs.EachRecord(func(r *kgo.Record) {
				if want, ok := next[r.Partition]; ok && r.Offset < want {
					logf("kafka consumer: partition %d read again from offset %d (next was %d): duplicates from here are the consumer's", r.Partition, r.Offset, want)
				}
				next[r.Partition] = r.Offset + 1
				n += int64(len(r.Value))
				var id []byte
				for _, h := range r.Headers {
					if h.Key == kafka.IDHeader {
						id = h.Value
					}
				}
				sk.Kafka(r.Value, id)
			})
			sk.KafkaFetch(n)
		}
	}()
	return c.ListenAddrs()[0], func() {
		cancel()
		<-done
		cl.Close()
		c.Close()
	}, nil
}
