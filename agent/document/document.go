// Package document encodes records as the JSON documents that outputs ship
// (DESIGN.md, record schema): the worker encodes each record once and every
// output reuses the bytes.
package document

import (
	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/record"
	sjson "github.com/sluicelog/sluice/parsers/json"
	"github.com/sluicelog/sluice/parsers/timestamp"
)

// Encoder turns records into documents. It holds no per-call state, so one
// Encoder serves every worker.
type Encoder struct {
	mergeJSON    bool
	target       string // "" merges at the top level
	keepOriginal bool
	now          func() int64
}

// fallbackTarget holds a JSON line whose keys clash with the document's own
// (@timestamp, stream, log, kubernetes, sluice): merging it at the top level
// would write duplicate keys, which Elasticsearch rejects.
const fallbackTarget = "json"

// New builds an encoder from the config's transforms.
func New(transforms []config.Transform, now func() int64) *Encoder {
	e := &Encoder{now: now}
	for _, t := range transforms {
		if t.Type == "json" {
			e.mergeJSON, e.target, e.keepOriginal = true, t.Target, t.KeepOriginal
		}
	}
	return e
}

// EncodeBatch fills b.Docs and b.DocEnds with one document per record.
func (e *Encoder) EncodeBatch(b *record.Batch) {
	b.Docs = b.Docs[:0]
	b.DocEnds = b.DocEnds[:0]
	for i := range b.Records {
		b.Docs = e.Append(b.Docs, b.Source, &b.Records[i])
		b.DocEnds = append(b.DocEnds, int32(len(b.Docs)))
	}
}

func reserved(key []byte) bool {
	switch string(key) {
	case "@timestamp", "stream", "log", "kubernetes", "sluice", "syslog", "source_ip":
		return true
	}
	return false
}

// Append appends the document of r to dst and returns it.
func (e *Encoder) Append(dst []byte, src *record.Source, r *record.Record) []byte {
	ts := r.Time
	if ts == 0 {
		ts = e.now()
	}
	dst = append(dst, `{"@timestamp":"`...)
	dst = timestamp.AppendRFC3339Nano(dst, ts)
	dst = append(dst, '"')
	if s := r.Stream.String(); s != "" {
		dst = append(dst, `,"stream":"`...)
		dst = append(dst, s...)
		dst = append(dst, '"')
	}
	keepLog := true
	if e.mergeJSON && r.Flags&record.Malformed == 0 {
		if members, conflict, ok := sjson.Members(r.Line, reserved); ok {
			keepLog = e.keepOriginal
			target := e.target
			if conflict && target == "" {
				target = fallbackTarget
			}
			switch {
			case target != "":
				dst = append(dst, ',')
				dst = sjson.AppendStringString(dst, target)
				dst = append(dst, ":{"...)
				dst = append(dst, members...)
				dst = append(dst, '}')
			case len(members) > 0:
				dst = append(dst, ',')
				dst = append(dst, members...)
			}
		}
	}
	if keepLog {
		dst = append(dst, `,"log":`...)
		dst = sjson.AppendString(dst, r.Line)
	}
	if len(r.Extra) > 0 {
		dst = append(dst, ',')
		dst = append(dst, r.Extra...)
	}
	if r.Flags != 0 {
		dst = append(dst, `,"sluice":{`...)
		sep := false
		if r.Flags&record.Truncated != 0 {
			dst = append(dst, `"truncated":true`...)
			sep = true
		}
		if r.Flags&record.Malformed != 0 {
			if sep {
				dst = append(dst, ',')
			}
			dst = append(dst, `"malformed":true`...)
		}
		dst = append(dst, '}')
	}
	if len(src.Meta) > 0 {
		dst = append(dst, `,"kubernetes":`...)
		dst = append(dst, src.Meta...)
	}
	return append(dst, '}')
}
