package kafka

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Stats counts what an output has done since it was created.
type Stats struct {
	DocsSent         int64 // records the brokers acknowledged
	DocsDeadLettered int64 // records refused as too large, stored in the dead-letter topic
	DocsFailed       int64 // records refused as too large with nowhere to go: lost, but acknowledged
	DocsEmpty        int64 // records without a document, skipped
	TooLarge         int64 // records a topic refused as too large in a batch (sent again on their own)
	Retries          int64 // records produced again after a failure and a backoff
	BytesSent        int64 // produce requests as written to the brokers (compressed)
	Requests         int64 // produce requests answered
	Pending          int64 // records handed to the producer and not finished
	LastSuccess      time.Time
	// AuthRefusals counts connections a broker refused at SASL
	// authentication; AuthError is the last refusal in words (mechanism,
	// username, broker, error; never the password), "" once a connection
	// authenticated again.
	AuthRefusals int64
	AuthError    string
	// Failures counts failed produce attempts by cause (a Kafka error
	// code's name, network or timeout).
	Failures map[string]int64
}

type counters struct {
	docsSent, docsDeadLettered, docsFailed, docsEmpty atomic.Int64
	tooLarge, retries, bytes, requests, pending       atomic.Int64
	lastSuccess                                       atomic.Int64 // Unix ns

	mu       sync.Mutex
	failures map[string]int64
}

func (c *counters) fail(cause string) {
	c.mu.Lock()
	if c.failures == nil {
		c.failures = map[string]int64{}
	}
	c.failures[cause]++
	c.mu.Unlock()
}

func (c *counters) snapshot() Stats {
	s := Stats{
		DocsSent: c.docsSent.Load(), DocsDeadLettered: c.docsDeadLettered.Load(),
		DocsFailed: c.docsFailed.Load(), DocsEmpty: c.docsEmpty.Load(),
		TooLarge: c.tooLarge.Load(), Retries: c.retries.Load(),
		BytesSent: c.bytes.Load(), Requests: c.requests.Load(), Pending: c.pending.Load(),
	}
	if ns := c.lastSuccess.Load(); ns != 0 {
		s.LastSuccess = time.Unix(0, ns)
	}
	c.mu.Lock()
	s.Failures = make(map[string]int64, len(c.failures))
	for k, v := range c.failures {
		s.Failures[k] = v
	}
	c.mu.Unlock()
	return s
}

// causes are the failure causes seen so far, sorted.
func (s Stats) causes() []string {
	out := make([]string, 0, len(s.Failures))
	for k := range s.Failures {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
