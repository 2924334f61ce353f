package otlp

import (
	"bytes"
	"strconv"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/internal/jsonbytes"
	"github.com/sluicelog/sluice/parsers/timestamp"
)

// mapper turns one document (the fluentd form the workers encode,
// DESIGN.md, record schema) into an OpenTelemetry log record (logs data
// model): @timestamp is the time, log the body, level (or a syslog
// severity) the severity, stream log.iostream, source_ip client.address,
// the syslog and sluice objects flattened to syslog.* and sluice.*, the
// record's id log.record.uid, and every other member an attribute of its
// JSON type. The Kubernetes object is the resource's (resource.go), so it
// is skipped here. A mapper is one writer's and reuses its scratch.
type mapper struct {
	scratch []byte // unescaped strings
	id      []byte
}

// mapRecord fills lr from record i of b; observed is the time the output
// took the batch.
func (mp *mapper) mapRecord(lr plog.LogRecord, b *record.Batch, src *record.Source, i int, observed pcommon.Timestamp) {
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
func (mp *mapper) severity(lr plog.LogRecord, val []byte) {
	if len(val) < 2 || val[0] != '"' {
		if n, err := strconv.Atoi(string(val)); err == nil {
			lr.SetSeverityText(string(val))
			lr.SetSeverityNumber(numberSeverity(n))
		}
		return
	}
	text := mp.unquote(val)
	lr.SetSeverityText(string(text))
	lr.SetSeverityNumber(textSeverity(text))
}

// flatten puts the members of object val as prefix+key; it returns the
// value of member want, if any.
func (mp *mapper) flatten(attrs pcommon.Map, prefix string, val []byte, want string) (wanted []byte) {
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
func (mp *mapper) keyString(key []byte) string {
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
func (mp *mapper) unquote(val []byte) []byte {
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
func (mp *mapper) setValue(v pcommon.Value, raw []byte) {
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
			if end < 0 {
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

func (mp *mapper) setNumber(v pcommon.Value, raw []byte) {
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
