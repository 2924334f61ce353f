package elasticsearch

import (
	"fmt"
	"time"

	"github.com/sluicelog/sluice/agent/config/indexname"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/agent/record/stream"
)

// maxIndexLen is Elasticsearch's limit on an index name, in bytes.
const maxIndexLen = 255

// unknownValue stands in for a field of the template that a record lacks.
const unknownValue = "unknown"

// segKind is what a segment of an index name stands for (indexname, where
// config reads the same template).
type segKind = indexname.Kind

const (
	segLiteral     = indexname.Literal
	segNamespace   = indexname.Namespace
	segPod         = indexname.Pod
	segContainer   = indexname.Container
	segContainerID = indexname.ContainerID
	segStream      = indexname.Stream
	segInput       = indexname.Input
	segYear        = indexname.Year
	segMonth       = indexname.Month
	segDay         = indexname.Day
	segHour        = indexname.Hour
)

type segment struct {
	kind segKind
	lit  []byte // segLiteral only: already lower-cased and cleaned
}

// indexTemplate is a compiled index name such as
// "logs-{kubernetes.namespace_name}-%Y.%m.%d".
type indexTemplate struct {
	segs []segment
	// What besides the source the name depends on, for writerIndex's cache.
	byStream bool
	period   int64 // ns: 0 (no date), an hour or a day
}

// compileIndex compiles an index template (indexname.Parse: literal text,
// {field} references, the strftime verbs %Y %m %d %H in UTC, %% a literal
// %). Literal text is lower-cased and cleaned once, here.
func compileIndex(tmpl string) (*indexTemplate, error) {
	segs, err := indexname.Parse(tmpl)
	if err != nil {
		if tmpl == "" {
			return nil, fmt.Errorf("index: %w", err)
		}
		return nil, fmt.Errorf("index %q: %w", tmpl, err)
	}
	t := &indexTemplate{}
	for _, sg := range segs {
		seg := segment{kind: sg.Kind}
		switch sg.Kind {
		case segLiteral:
			seg.lit = appendIndexBytes(nil, sg.Lit)
		case segStream:
			t.byStream = true
		case segYear, segMonth, segDay, segHour:
			p := int64(24 * time.Hour)
			if sg.Kind == segHour {
				p = int64(time.Hour)
			}
			if t.period == 0 || p < t.period {
				t.period = p
			}
		}
		t.segs = append(t.segs, seg)
	}
	return t, nil
}

// appendIndex appends the index name of a record from src written to st at
// ns (Unix nanoseconds, UTC). It does not allocate once dst has room.
func (t *indexTemplate) appendIndex(dst []byte, src *record.Source, st stream.Stream, ns int64) []byte {
	start := len(dst)
	var tm time.Time
	if t.period != 0 {
		tm = time.Unix(0, ns).UTC()
	}
	for i := range t.segs {
		s := &t.segs[i]
		switch s.kind {
		case segLiteral:
			dst = append(dst, s.lit...)
		case segNamespace:
			dst = appendIndexValue(dst, src.Namespace)
		case segPod:
			dst = appendIndexValue(dst, src.Pod)
		case segContainer:
			dst = appendIndexValue(dst, src.Container)
		case segContainerID:
			dst = appendIndexValue(dst, src.ContainerID)
		case segStream:
			dst = appendIndexValue(dst, st.String())
		case segInput:
			dst = appendIndexValue(dst, src.Input)
		case segYear:
			dst = appendDigits(dst, tm.Year(), 4)
		case segMonth:
			dst = appendDigits(dst, int(tm.Month()), 2)
		case segDay:
			dst = appendDigits(dst, tm.Day(), 2)
		case segHour:
			dst = appendDigits(dst, tm.Hour(), 2)
		}
	}
	if len(dst)-start > maxIndexLen {
		end := start + maxIndexLen
		for end > start && dst[end]&0xC0 == 0x80 { // do not cut a UTF-8 sequence
			end--
		}
		dst = dst[:end]
	}
	return dst
}

func appendIndexValue(dst []byte, v string) []byte {
	if v == "" {
		v = unknownValue
	}
	return appendIndexBytes(dst, v)
}

// appendIndexBytes appends s lower-cased, with the characters Elasticsearch
// forbids in index names, and control characters, replaced by '_'. The
// result needs no escaping inside a JSON string.
func appendIndexBytes(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c < 0x20 || c == 0x7f:
			c = '_'
		}
		switch c {
		case '\\', '/', '*', '?', '"', '<', '>', '|', ',', '#', ':', ' ':
			c = '_'
		}
		dst = append(dst, c)
	}
	return dst
}

// appendDigits appends v zero-padded to width digits (v >= 0).
func appendDigits(dst []byte, v, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for v >= 10 || width > 1 {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		width--
	}
	i--
	buf[i] = byte('0' + v)
	return append(dst, buf[i:]...)
}

// indexCache remembers the last index name a writer built: a batch shares
// one source, and its records usually share a stream and a day.
type indexCache struct {
	src    *record.Source
	stream stream.Stream
	bucket int64
	name   []byte
}

func (c *indexCache) lookup(t *indexTemplate, src *record.Source, st stream.Stream, ns int64) []byte {
	bucket := int64(0)
	if t.period != 0 {
		bucket = floorDiv(ns, t.period)
	}
	if !t.byStream {
		st = 0
	}
	if c.src == src && c.stream == st && c.bucket == bucket && len(c.name) > 0 {
		return c.name
	}
	c.src, c.stream, c.bucket = src, st, bucket
	c.name = t.appendIndex(c.name[:0], src, st, ns)
	return c.name
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
