package kafka

import (
	"fmt"
	"time"

	"github.com/sluicelog/sluice/agent/config/indexname"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/agent/record/stream"
)

// maxTopicLen is Kafka's limit on a topic name.
const maxTopicLen = 249

// topicTemplate is a compiled topic such as "logs-{kubernetes.namespace_name}":
// the placeholders and date verbs of an elasticsearch index (indexname).
type topicTemplate struct {
	segs     []indexname.Segment
	byStream bool
	period   int64 // ns: 0 (no date), an hour or a day
}

func compileTopic(tmpl string) (*topicTemplate, error) {
	segs, err := indexname.Parse(tmpl)
	if err != nil {
		return nil, fmt.Errorf("topic %q: %w", tmpl, err)
	}
	t := &topicTemplate{segs: segs}
	for _, s := range segs {
		switch s.Kind {
		case indexname.Stream:
			t.byStream = true
		case indexname.Year, indexname.Month, indexname.Day:
			if t.period == 0 {
				t.period = int64(24 * time.Hour)
			}
		case indexname.Hour:
			t.period = int64(time.Hour)
		}
	}
	return t, nil
}

// appendTopic appends the topic of a record from src written to st at ns.
// A value is cleaned to Kafka's topic characters; a missing one reads
// "unknown".
func (t *topicTemplate) appendTopic(dst []byte, src *record.Source, st stream.Stream, ns int64) []byte {
	start := len(dst)
	tm := time.Unix(0, ns).UTC()
	for _, s := range t.segs {
		switch s.Kind {
		case indexname.Literal:
			dst = appendClean(dst, s.Lit)
		case indexname.Namespace:
			dst = appendValue(dst, src.Namespace)
		case indexname.Pod:
			dst = appendValue(dst, src.Pod)
		case indexname.Container:
			dst = appendValue(dst, src.Container)
		case indexname.ContainerID:
			dst = appendValue(dst, src.ContainerID)
		case indexname.Stream:
			dst = appendValue(dst, st.String())
		case indexname.Input:
			dst = appendValue(dst, src.Input)
		case indexname.Year:
			dst = fmt.Appendf(dst, "%04d", tm.Year())
		case indexname.Month:
			dst = fmt.Appendf(dst, "%02d", int(tm.Month()))
		case indexname.Day:
			dst = fmt.Appendf(dst, "%02d", tm.Day())
		case indexname.Hour:
			dst = fmt.Appendf(dst, "%02d", tm.Hour())
		}
	}
	if len(dst)-start > maxTopicLen {
		dst = dst[:start+maxTopicLen]
	}
	return dst
}

func appendValue(dst []byte, v string) []byte {
	if v == "" {
		v = "unknown"
	}
	return appendClean(dst, v)
}

// appendClean appends s with every byte that a topic name may not hold
// (only ASCII letters, digits, '.', '_' and '-') replaced by '_'.
func appendClean(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			c = '_'
		}
		dst = append(dst, c)
	}
	return dst
}

// topicCache keeps a writer's last topic: a batch shares its source, and
// its records mostly a stream and a day. The string is what kgo.Record
// takes; it is built once per change, not per record.
type topicCache struct {
	src    *record.Source
	stream stream.Stream
	bucket int64
	name   string
	buf    []byte
}

func (c *topicCache) lookup(t *topicTemplate, src *record.Source, st stream.Stream, ns int64) string {
	var bucket int64
	if t.period != 0 {
		bucket = ns / t.period
		if ns < 0 {
			bucket--
		}
	}
	if !t.byStream {
		st = 0
	}
	if c.src == src && c.stream == st && c.bucket == bucket && c.name != "" {
		return c.name
	}
	c.src, c.stream, c.bucket = src, st, bucket
	c.buf = t.appendTopic(c.buf[:0], src, st, ns)
	c.name = string(c.buf)
	return c.name
}
