package otlp

import (
	"bytes"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/internal/jsonbytes"
	"github.com/sluicelog/sluice/parsers/timestamp"
)

// uidKey is the attribute that carries the record's deterministic id, so
// a receiver can drop the copies an at-least-once replay sends.
const uidKey = "log.record.uid"

// logRecord appends ScopeLogs.log_records holding record i of b, mapped
// from its document (the fluentd form the workers encode, DESIGN.md,
// record schema) to the OpenTelemetry logs data model: @timestamp is the
// time, log the body (or, for a JSON line merged at the top level, its
// message or msg), level (or a syslog severity) the severity, stream
// log.iostream, source_ip client.address, the syslog and sluice objects
// flattened to syslog.* and sluice.*, the record's id log.record.uid, and
// every other member an attribute of its JSON type. The Kubernetes object
// is the resource's (resource.go), so it is skipped here. id is the
// record's id (record.BatchIDs), nil for none. observed is the time the
// output took the batch, in Unix nanoseconds.
func (e *encoder) logRecord(b *record.Batch, i int, id []byte, observed uint64) {
	r := &b.Records[i]
	doc := b.Doc(i)
	var at int
	e.b, at = openField(e.b, fieldScopeLogsRecords, 2)
	// Attributes first, while the members are read: they are a list
	// that must end b when it is put in order.
	base := len(e.ents)
	f := e.members(doc)
	order := e.mapOrder(base)
	if !f.hasBody && f.message != nil {
		// A JSON line merged at the top level has no log member: its
		// message is the body, as the data model means it, and not an
		// attribute as well.
		f.body = f.message
		order = e.remove(base, order, f.messageKey)
	}
	if id != nil {
		order = e.putLast(base, order, uidKey, id)
	}
	e.endList(base, order)

	if f.body != nil {
		var bat int
		e.b, bat = openField(e.b, fieldRecordBody, 1)
		e.value(f.body)
		e.b, _ = closeField(e.b, bat, 1)
	}
	switch {
	case f.level != nil:
		e.severity(f.level)
	case f.syslogSeverity != nil:
		e.severity(f.syslogSeverity)
	}
	t := uint64(r.Time)
	if f.hasTime {
		t = f.time
	}
	if t != 0 {
		e.b = protowire.AppendTag(e.b, fieldRecordTime, protowire.Fixed64Type)
		e.b = protowire.AppendFixed64(e.b, t)
	}
	e.b = protowire.AppendTag(e.b, fieldRecordObservedTime, protowire.Fixed64Type)
	e.b = protowire.AppendFixed64(e.b, observed)
	e.b, _ = closeField(e.b, at, 2)
}

// found is what the members of a document say besides attributes.
type found struct {
	body, message, level, syslogSeverity []byte
	messageKey                           []byte
	hasBody, hasTime                     bool
	time                                 uint64
}

// members appends an attribute for each member of doc that is one, and
// returns the rest.
func (e *encoder) members(doc []byte) (f found) {
	for at := 1; ; {
		m, next, ok := jsonbytes.NextMember(doc, at)
		if !ok {
			return f
		}
		at = next
		key, val := m.Key(doc), doc[m.ValStart:m.ValEnd]
		switch string(key) {
		case "@timestamp":
			if len(val) > 2 && val[0] == '"' {
				if ts, ok := timestamp.ParseRFC3339(val[1 : len(val)-1]); ok {
					f.time, f.hasTime = uint64(ts), true
				}
			}
		case "log":
			f.hasBody = true
			if setsValue(val) {
				f.body = val // the last one that says something
			}
		case "level":
			f.level = val
		case "stream":
			e.keyValue(fieldRecordAttributes, "log.iostream", nil, false, val)
		case "source_ip":
			e.keyValue(fieldRecordAttributes, "client.address", nil, false, val)
		case "kubernetes":
		case "syslog":
			f.syslogSeverity = e.flatten("syslog.", val, "severity")
		case "sluice":
			e.flatten("sluice.", val, "")
		case "message", "msg":
			if f.message == nil && len(val) > 0 && val[0] == '"' {
				f.message, f.messageKey = val, key
			}
			e.keyValue(fieldRecordAttributes, "", key, false, val)
		default:
			e.keyValue(fieldRecordAttributes, "", key, true, val)
		}
	}
}

// setsValue reports whether value writes anything for raw: all but null
// and what is not a value at all.
func setsValue(raw []byte) bool {
	return len(raw) > 0 && raw[0] != 'n' && (raw[0] != '"' || len(raw) >= 2)
}

// flatten appends an attribute prefix+key for each member of the object
// val; it returns the value of member want, if any.
func (e *encoder) flatten(prefix string, val []byte, want string) (wanted []byte) {
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
		e.keyValue(fieldRecordAttributes, prefix, key, true, v)
	}
}

// remove takes the attribute key out of order (nil: the entries from
// base on as written), putting the last one in its place.
func (e *encoder) remove(base int, order []int32, key []byte) []int32 {
	if order == nil {
		order = e.identity(base)
	}
	for j, i := range order {
		if bytes.Equal(e.keyOf(i), key) {
			order[j] = order[len(order)-1]
			return order[:len(order)-1]
		}
	}
	return order
}

// putLast writes the string attribute key=val and puts it in order: in
// the place of an attribute of the same key, else last.
func (e *encoder) putLast(base int, order []int32, key string, val []byte) []int32 {
	start := len(e.b)
	var at, vat, moved int
	e.b, at = openField(e.b, fieldRecordAttributes, 1)
	e.b = protowire.AppendTag(e.b, fieldKeyValueKey, protowire.BytesType)
	keyStart, keyEnd := e.appendString(key, nil, false)
	e.b, vat = openField(e.b, fieldKeyValueValue, 1)
	e.b = protowire.AppendTag(e.b, fieldValueString, protowire.BytesType)
	e.appendString("", val, false)
	e.b, _ = closeField(e.b, vat, 1)
	e.b, moved = closeField(e.b, at, 1)
	e.ents = append(e.ents, kvEntry{start: start, end: len(e.b), key: keyStart + moved, keyEnd: keyEnd + moved})
	last := int32(len(e.ents) - 1)
	if order == nil {
		for i := int32(base); i < last; i++ {
			if string(e.keyOf(i)) == key {
				order = e.identity(base)
				break
			}
		}
		if order == nil {
			return nil // written last, in its place already
		}
		order = order[:len(order)-1] // without the new one
	}
	for j, i := range order {
		if string(e.keyOf(i)) == key {
			order[j] = last
			return order
		}
	}
	order = append(order, last)
	e.order = order
	return order
}

// severity appends the severity text (as written) and number of a level
// value.
func (e *encoder) severity(val []byte) {
	var text []byte
	var num severityNumber
	if len(val) < 2 || val[0] != '"' {
		n, ok := parseInt(val) // strconv.Atoi on 64 bits, without its error
		if !ok {
			return
		}
		text, num = val, numberSeverity(int(n))
	} else {
		start := len(e.b)
		e.b = protowire.AppendTag(e.b, fieldRecordSeverityText, protowire.BytesType)
		s, end := e.appendString("", val[1:len(val)-1], true)
		num = textSeverity(e.b[s:end])
		if end == s {
			e.b = e.b[:start] // proto3: an empty string is not written
		}
		e.appendSeverityNumber(num)
		return
	}
	if len(text) > 0 {
		e.b = protowire.AppendTag(e.b, fieldRecordSeverityText, protowire.BytesType)
		e.appendString("", text, false)
	}
	e.appendSeverityNumber(num)
}

func (e *encoder) appendSeverityNumber(num severityNumber) {
	if num != severityUnspecified {
		e.b = protowire.AppendTag(e.b, fieldRecordSeverityNumber, protowire.VarintType)
		e.b = protowire.AppendVarint(e.b, uint64(num))
	}
}
