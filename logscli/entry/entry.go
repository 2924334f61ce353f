// Package entry is one log record as the logs CLI sees it, whichever way it
// came (an agent's tap, Elasticsearch, VictoriaLogs): the document, the
// accessors the printers and filters need, and the key that recognises the
// same record coming from two of those ways.
package entry

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"time"
)

// Entry is one document.
type Entry struct {
	// Raw is the document as -o json prints it: one JSON object, no newline.
	Raw []byte
	// Doc is Raw decoded (numbers kept as json.Number).
	Doc map[string]any
}

// Parse decodes one NDJSON line.
func Parse(raw []byte) (*Entry, error) {
	raw = bytes.TrimSpace(raw)
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var doc map[string]any
	if err := d.Decode(&doc); err != nil {
		return nil, fmt.Errorf("decode document: %w", err)
	}
	if doc == nil {
		return nil, fmt.Errorf("decode document: not a JSON object: %.80q", raw)
	}
	return &Entry{Raw: append([]byte(nil), raw...), Doc: doc}, nil
}

// FromDoc wraps a document built in memory (a store's row).
func FromDoc(doc map[string]any) (*Entry, error) {
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode document: %w", err)
	}
	return &Entry{Raw: raw, Doc: doc}, nil
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func sub(m map[string]any, k string) map[string]any {
	s, _ := m[k].(map[string]any)
	return s
}

// Kubernetes returns kubernetes.<k>.
func (e *Entry) Kubernetes(k string) string { return str(sub(e.Doc, "kubernetes"), k) }

// Namespace, Pod and Container name the record's source container.
func (e *Entry) Namespace() string { return e.Kubernetes("namespace_name") }
func (e *Entry) Pod() string       { return e.Kubernetes("pod_name") }
func (e *Entry) Container() string { return e.Kubernetes("container_name") }

// Syslog returns syslog.<k>; IsSyslog reports whether the record came from
// a syslog input.
func (e *Entry) Syslog(k string) string { return str(sub(e.Doc, "syslog"), k) }
func (e *Entry) IsSyslog() bool         { return sub(e.Doc, "syslog") != nil }

// Labels are the pod's labels (kubernetes.labels), when the agent added them.
func (e *Entry) Labels() map[string]string {
	m := sub(sub(e.Doc, "kubernetes"), "labels")
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = fmt.Sprint(v)
	}
	return out
}

// Timestamp is @timestamp as written; Time parses it.
func (e *Entry) Timestamp() string { return str(e.Doc, "@timestamp") }

// Time parses @timestamp; ok is false when it is missing or malformed.
func (e *Entry) Time() (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, e.Timestamp())
	return t, err == nil
}

// metaKeys are the members the agent adds around a line; what is left of a
// document without them is the application's own JSON line.
var metaKeys = map[string]bool{
	"@timestamp": true, "stream": true, "kubernetes": true, "syslog": true,
	"source_ip": true, "sluice": true, "log": true,
}

// Line is what the application wrote: `log` when the agent kept it (a line
// that is not JSON, or keep_original), otherwise the merged JSON members
// put back together as one object (keys sorted; the agent does not keep
// their order). idField is left out too: the agent's id is not the
// application's.
func (e *Entry) Line(idField string) string {
	if s, ok := e.Doc["log"].(string); ok {
		return s
	}
	rest := make(map[string]any, len(e.Doc))
	for k, v := range e.Doc {
		if !metaKeys[k] && k != idField {
			rest[k] = v
		}
	}
	if len(rest) == 0 {
		return ""
	}
	b, err := json.Marshal(rest)
	if err != nil {
		return fmt.Sprint(rest)
	}
	return string(b)
}

// Source names where a record comes from as far as order goes: its
// container (the kubelet writes both streams to one file, in time order),
// or for syslog the sending host and program. The records of one source
// come live in the order history sorts them.
func (e *Entry) Source() string {
	if e.IsSyslog() {
		return "syslog\x00" + e.Syslog("hostname") + "\x00" + e.Syslog("app_name")
	}
	return e.Namespace() + "\x00" + e.Pod() + "\x00" + e.Container()
}

// Key identifies a record by what every copy of it carries whichever way
// it came: the time to the nanosecond, where it came from, and its `log`.
// The agent's tap does not carry the document id, so ids cannot be
// compared; two different lines with equal keys would need the same
// container, stream and nanosecond (or, for syslog, host, app, message and
// time), which a kubelet's timestamps make as good as impossible.
func (e *Entry) Key() uint64 {
	h := fnv.New64a()
	var ts [8]byte
	if t, ok := e.Time(); ok {
		binary.LittleEndian.PutUint64(ts[:], uint64(t.UnixNano()))
	}
	h.Write(ts[:])
	for _, s := range []string{
		e.Namespace(), e.Pod(), e.Container(), str(e.Doc, "stream"),
		e.Syslog("hostname"), e.Syslog("app_name"), str(e.Doc, "log"),
	} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// TimeKey identifies a container's record by its time and source alone,
// for history from pods/log, which says neither the stream nor the line
// as the agent shipped it (a JSON line merged into the document). A
// kubelet stamps each line to the nanosecond; a syslog record, often
// stamped to the second, keeps its message in the key.
func (e *Entry) TimeKey() uint64 {
	h := fnv.New64a()
	var ts [8]byte
	if t, ok := e.Time(); ok {
		binary.LittleEndian.PutUint64(ts[:], uint64(t.UnixNano()))
	}
	h.Write(ts[:])
	h.Write([]byte(e.Source()))
	if e.IsSyslog() {
		h.Write([]byte{0})
		h.Write([]byte(str(e.Doc, "log")))
	}
	return h.Sum64()
}
