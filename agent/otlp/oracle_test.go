package otlp

import (
	"bytes"
	"strconv"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/sluicelog/sluice/agent/document"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/internal/jsonbytes"
	"github.com/sluicelog/sluice/parsers/timestamp"
)

// pdataMapper is the mapping this output shipped with before its
// hand-written encoder (mapping.go, encode.go), built on
// go.opentelemetry.io/collector/pdata. It is kept, in tests only, as the
// oracle the encoder's bytes are checked against (encode_test.go).
//
// It turns one document (the fluentd form the workers encode,
// DESIGN.md, record schema) into an OpenTelemetry log record (logs data
// model): @timestamp is the time, log the body, level (or a syslog
// severity) the severity, stream log.iostream, source_ip client.address,
// the syslog and sluice objects flattened to syslog.* and sluice.*, the
// record's id log.record.uid, and every other member an attribute of its
// JSON type. The Kubernetes object is the resource's (resource.go), so it
// is skipped here. A mapper is one writer's and reuses its scratch.
type pdataMapper struct {
	scratch []byte // unescaped strings
	id      []byte
}

// mapRecord fills lr from record i of b; observed is the time the output
// took the batch.
func (mp *pdataMapper) mapRecord(lr plog.LogRecord, b *record.Batch, src *record.Source, i int, observed pcommon.Timestamp) {
	r := &b.Records[i]
	doc := b.Doc(i)
	lr.SetObservedTimestamp(observed)
	if r.Time != 0 {
		lr.SetTimestamp(pcommon.Timestamp(r.Time))
	}
	attrs := lr.Attributes()
	var level, syslogSeverity, message []byte
	var messageKey string
	hasBody := false
	for at := 1; ; {
		m, next, ok := jsonbytes.NextMember(doc, at)
		if !ok {
			break
		}
		at = next
		key, val := m.Key(doc), doc[m.ValStart:m.ValEnd]
		switch string(key) {
		case "@timestamp":
			if len(val) > 2 && val[0] == '"' {
				if ts, ok := timestamp.ParseRFC3339(val[1 : len(val)-1]); ok {
					lr.SetTimestamp(pcommon.Timestamp(ts))
				}
			}
		case "log":
			mp.setValue(lr.Body(), val)
			hasBody = true
		case "level":
			level = val
		case "stream":
			mp.setValue(attrs.PutEmpty("log.iostream"), val)
		case "source_ip":
			mp.setValue(attrs.PutEmpty("client.address"), val)
		case "kubernetes":
		case "syslog":
			syslogSeverity = mp.flatten(attrs, "syslog.", val, "severity")
		case "sluice":
			mp.flatten(attrs, "sluice.", val, "")
		case "message", "msg":
			if message == nil && len(val) > 0 && val[0] == '"' {
				message, messageKey = val, string(key)
			}
			mp.setValue(attrs.PutEmpty(string(key)), val)
		default:
			mp.setValue(attrs.PutEmpty(mp.keyString(key)), val)
		}
	}
	if !hasBody && message != nil {
		// A JSON line merged at the top level has no log member: its
		// message is the body, as the data model means it.
		mp.setValue(lr.Body(), message)
		attrs.Remove(messageKey)
	}
	switch {
	case level != nil:
		mp.severity(lr, level)
	case syslogSeverity != nil:
		mp.severity(lr, syslogSeverity)
	}
	mp.id = record.AppendID(mp.id[:0], src, r)
	if len(mp.id) > 0 {
		attrs.PutStr("log.record.uid", string(mp.id))
	}
}

// severity sets the text (as written) and the number of a level value.
func (mp *pdataMapper) severity(lr plog.LogRecord, val []byte) {
	if len(val) < 2 || val[0] != '"' {
		if n, err := strconv.Atoi(string(val)); err == nil {
			lr.SetSeverityText(string(val))
			lr.SetSeverityNumber(plog.SeverityNumber(numberSeverity(n)))
		}
		return
	}
	text := mp.unquote(val)
	lr.SetSeverityText(string(text))
	lr.SetSeverityNumber(plog.SeverityNumber(textSeverity(text)))
}

// flatten puts the members of object val as prefix+key; it returns the
// value of member want, if any.
func (mp *pdataMapper) flatten(attrs pcommon.Map, prefix string, val []byte, want string) (wanted []byte) {
	for at := 1; ; {
		m, next, ok := jsonbytes.NextMember(val, at)
		if !ok {
			return wanted
		}
		at = next
		key, v := m.Key(val), val[m.ValStart:m.ValEnd]
		if want != "" && string(key) == want {
			wanted = v
		}
		mp.setValue(attrs.PutEmpty(prefix+mp.keyString(key)), v)
	}
}

// keyString is a member's key, unescaped.
func (mp *pdataMapper) keyString(key []byte) string {
	if bytes.IndexByte(key, '\\') < 0 {
		return string(key)
	}
	u, err := jsonbytes.Unescape(mp.scratch[:0], key)
	if err != nil {
		return string(key)
	}
	mp.scratch = u
	return string(u)
}

// unquote returns the content of the JSON string val, unescaped; it is
// valid until the next call.
func (mp *pdataMapper) unquote(val []byte) []byte {
	inner := val[1 : len(val)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return inner
	}
	u, err := jsonbytes.Unescape(mp.scratch[:0], inner)
	if err != nil {
		return inner
	}
	mp.scratch = u
	return u
}

// setValue sets v to the JSON value raw, keeping its type: strings,
// integers (a number without fraction or exponent that fits int64),
// doubles, booleans, objects as maps and arrays as slices; null leaves v
// empty.
func (mp *pdataMapper) setValue(v pcommon.Value, raw []byte) {
	if len(raw) == 0 {
		return
	}
	switch raw[0] {
	case '"':
		if len(raw) >= 2 {
			v.SetStr(string(mp.unquote(raw)))
		}
	case '{':
		m := v.SetEmptyMap()
		for at := 1; ; {
			mb, next, ok := jsonbytes.NextMember(raw, at)
			if !ok {
				return
			}
			at = next
			mp.setValue(m.PutEmpty(mp.keyString(mb.Key(raw))), raw[mb.ValStart:mb.ValEnd])
		}
	case '[':
		s := v.SetEmptySlice()
		for at := jsonbytes.SkipSpace(raw, 1); at < len(raw) && raw[at] != ']'; {
			end := jsonbytes.SkipValue(raw, at)
			if end <= at { // malformed: a '}' where a value goes never moves on
				return
			}
			mp.setValue(s.AppendEmpty(), raw[at:end])
			at = jsonbytes.SkipSpace(raw, end)
			if at < len(raw) && raw[at] == ',' {
				at = jsonbytes.SkipSpace(raw, at+1)
			}
		}
	case 't':
		v.SetBool(true)
	case 'f':
		v.SetBool(false)
	case 'n':
	default:
		mp.setNumber(v, raw)
	}
}

func (mp *pdataMapper) setNumber(v pcommon.Value, raw []byte) {
	if !bytes.ContainsAny(raw, ".eE") {
		if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
			v.SetInt(n)
			return
		}
	}
	if f, err := strconv.ParseFloat(string(raw), 64); err == nil {
		v.SetDouble(f)
		return
	}
	v.SetStr(string(raw))
}

// resourceAttrs puts a pod's resource attributes, from its Kubernetes
// object (fluentd form, agent/kube), into attrs: the names of the
// OpenTelemetry semantic conventions (k8s.namespace.name, k8s.pod.name,
// k8s.pod.uid, k8s.container.name, k8s.node.name, container.id,
// container.image.name and .tags, k8s.<workload>.name, k8s.pod.label.*,
// k8s.pod.annotation.*, k8s.namespace.label.*), as the otel schema of the
// Elasticsearch output names them (agent/document: one mapping for both).
// It runs once per pod and request, not per record.
func (mp *pdataMapper) resourceAttrs(attrs pcommon.Map, sh *document.Shaper, meta []byte) {
	if len(meta) == 0 {
		return
	}
	m := sh.Meta(meta)
	// m.Members is `"resource":{"attributes":{...}}` for the otel schema,
	// or `"kubernetes":<meta>` for a meta that did not decode.
	obj := append(append([]byte{'{'}, m.Members...), '}')
	for at := 1; ; {
		mb, next, ok := jsonbytes.NextMember(obj, at)
		if !ok {
			return
		}
		at = next
		val := obj[mb.ValStart:mb.ValEnd]
		if string(mb.Key(obj)) != "resource" {
			mp.setValue(attrs.PutEmpty("k8s.metadata"), val)
			continue
		}
		inner, _, ok := jsonbytes.NextMember(val, 1)
		if !ok {
			return
		}
		a := val[inner.ValStart:inner.ValEnd]
		for at2 := 1; ; {
			kv, next2, ok := jsonbytes.NextMember(a, at2)
			if !ok {
				break
			}
			at2 = next2
			mp.setValue(attrs.PutEmpty(mp.keyString(kv.Key(a))), a[kv.ValStart:kv.ValEnd])
		}
	}
}

// pdataLogs builds the export request of the documents of batches as the
// writer did before the encoder: one ResourceLogs per Kubernetes object,
// in the order they came, one ScopeLogs "sluice" in each.
func pdataLogs(batches []*record.Batch, observed pcommon.Timestamp) plog.Logs {
	var mp pdataMapper
	sh := document.Shaper{Schema: document.SchemaOTel}
	logs := plog.NewLogs()
	groups := map[string]plog.LogRecordSlice{}
	for _, b := range batches {
		src := b.Source
		if src == nil {
			src = &emptySource
		}
		meta := b.Kubernetes()
		for i := range b.Records {
			doc := b.Doc(i)
			if len(doc) < 2 || doc[0] != '{' {
				continue
			}
			recs, ok := groups[string(meta)]
			if !ok {
				rl := logs.ResourceLogs().AppendEmpty()
				mp.resourceAttrs(rl.Resource().Attributes(), &sh, meta)
				sl := rl.ScopeLogs().AppendEmpty()
				sl.Scope().SetName(scopeName)
				recs = sl.LogRecords()
				groups[string(meta)] = recs
			}
			mp.mapRecord(recs.AppendEmpty(), b, src, i, observed)
		}
	}
	return logs
}
