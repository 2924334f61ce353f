package kafka

import (
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// hook counts the bytes of produce requests and times them.
type hook struct{ o *Output }

var _ kgo.HookBrokerE2E = hook{}

// OnBrokerE2E implements kgo.HookBrokerE2E.
func (h hook) OnBrokerE2E(_ kgo.BrokerMetadata, key int16, e2e kgo.BrokerE2E) {
	if key != int16(kmsg.Produce) {
		return
	}
	h.o.stats.bytes.Add(int64(e2e.BytesWritten))
	if e2e.Err() != nil {
		return
	}
	h.o.stats.requests.Add(1)
	if obs := h.o.requestTimes; obs != nil {
		obs.Observe(e2e.DurationE2E().Seconds())
	}
}

// backoff is exponential between retry.initial and retry.max, with up to
// a quarter taken off at random by the jitter of time: records that
// failed together are retried together, in order, which is what keeps a
// partition's records in order as far as Kafka lets it.
type backoff struct{ initial, max time.Duration }

func (b backoff) delay(attempt int) time.Duration {
	d := b.initial
	for range min(attempt, 40) {
		d *= 2
		if d >= b.max {
			return b.max
		}
	}
	return min(d, b.max)
}
