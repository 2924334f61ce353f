package kafka

import (
	"fmt"
	"net"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// hook counts the bytes of produce requests and times them, and tells
// the output's auth what the brokers answer to SASL.
type hook struct{ o *Output }

var (
	_ kgo.HookBrokerE2E     = hook{}
	_ kgo.HookBrokerConnect = hook{}
)

// OnBrokerConnect implements kgo.HookBrokerConnect: a connection is
// made once the broker accepted its SASL authentication, if any.
func (h hook) OnBrokerConnect(meta kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	a := h.o.auth
	switch {
	case a.mechanism == "":
	case err == nil:
		a.authenticated(brokerAddr(meta))
	case saslRefusal(err):
		a.refused(brokerAddr(meta), err)
	}
}

// OnBrokerE2E implements kgo.HookBrokerE2E.
func (h hook) OnBrokerE2E(meta kgo.BrokerMetadata, key int16, e2e kgo.BrokerE2E) {
	if key == int16(kmsg.SASLAuthenticate) && e2e.Err() != nil && h.o.auth.mechanism != "" {
		// Some brokers (kfake among them) close the connection on a
		// wrong password instead of answering: the connection then
		// fails with EOF, which OnBrokerConnect cannot tell apart.
		h.o.auth.refused(brokerAddr(meta), fmt.Errorf("connection closed during authentication: %w", e2e.Err()))
		return
	}
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
