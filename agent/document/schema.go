package document

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/sluicelog/sluice/internal/jsonbytes"
)

// Schema is the set of field names an output writes. Workers encode every
// record once in the fluentd schema (DESIGN.md, record schema); an output
// with another schema rewrites each document's top-level members with a
// Shaper, and turns the Kubernetes object of each pod into its own form
// once per pod (Shaper.Meta).
type Schema uint8

// The schemas; README "Field schemas" has the table of each.
const (
	SchemaFluentd   Schema = iota // kubernetes.namespace_name, log, stream: Fluentd's kubernetes_metadata names
	SchemaFluentBit               // Fluentd's, with Fluent Bit's docker_id and container_hash
	SchemaECS                     // Elastic Common Schema: kubernetes.pod.name, container.id, message, log.level
	SchemaOTel                    // OpenTelemetry: resource.attributes.k8s.pod.name, body.text, severity_text
)

var schemaNames = [...]string{"fluentd", "fluentbit", "ecs", "otel"}

func (s Schema) String() string {
	if int(s) < len(schemaNames) {
		return schemaNames[s]
	}
	return fmt.Sprintf("schema(%d)", s)
}

// ParseSchema reads a schema name; "" is fluentd.
func ParseSchema(name string) (Schema, error) {
	if name == "" {
		return SchemaFluentd, nil
	}
	if i := slices.Index(schemaNames[:], name); i >= 0 {
		return Schema(i), nil
	}
	return 0, fmt.Errorf("unknown schema %q (known: %s)", name, strings.Join(schemaNames[:], ", "))
}

// kubeMeta is the fluentd-schema Kubernetes object (agent/kube).
type kubeMeta struct {
	Namespace       string                       `json:"namespace_name"`
	Pod             string                       `json:"pod_name"`
	PodID           string                       `json:"pod_id"`
	Container       string                       `json:"container_name"`
	Image           string                       `json:"container_image"`
	ImageID         string                       `json:"container_image_id"`
	ContainerID     string                       `json:"container_id"`
	Host            string                       `json:"host"`
	Labels          map[string]string            `json:"labels"`
	Annotations     map[string]string            `json:"annotations"`
	NamespaceLabels map[string]string            `json:"namespace_labels"`
	Owner           *struct{ Kind, Name string } `json:"owner"`
}

// Meta is a pod's Kubernetes object in an output's schema, made once per
// pod and spliced into each of its documents.
type Meta struct {
	// Members are top-level members, without braces and without a
	// leading comma: `"kubernetes":{...},"container":{...}` (ECS) or
	// `"resource":{"attributes":{...}}` (OTel).
	Members []byte
	// Dropped counts the labels, namespace labels and annotations left
	// out by the field budget.
	Dropped int
	// Namespace is the pod's namespace (for orchestrator.namespace).
	Namespace string
	// raw is the object Meta was made from: the Encoder writes it last,
	// so Append cuts it off without walking it.
	raw []byte
}

// Shaper rewrites fluentd-schema documents into an output's schema, and
// holds the field budget: at most MaxLabels labels, namespace labels and
// annotations together per document (0: no cap). A Shaper is
// not safe for concurrent use; each writer has its own.
type Shaper struct {
	Schema    Schema
	MaxLabels int

	conflicts []byte // ECS: merged members whose names sluice writes
	attrs     []byte // OTel: attributes
	logObj    []byte // ECS: members of "log"
	tail      []byte // members written after the merged ones
}

// Meta renders the Kubernetes object meta (fluentd schema, as agent/kube
// builds it) in the shaper's schema, within the field budget. A meta that
// does not decode is kept as it is, under "kubernetes".
func (s *Shaper) Meta(meta []byte) Meta {
	if len(meta) == 0 {
		return Meta{}
	}
	var k kubeMeta
	if json.Unmarshal(meta, &k) != nil {
		return Meta{Members: append([]byte(`"kubernetes":`), meta...)}
	}
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(meta, &raw)
	labels, nsLabels, annotations, dropped := budget(s.MaxLabels, k.Labels, k.NamespaceLabels, k.Annotations)
	m := Meta{Dropped: dropped, Namespace: k.Namespace, raw: meta}
	switch s.Schema {
	case SchemaECS:
		m.Members = ecsMeta(&k, labels, nsLabels, annotations)
	case SchemaOTel:
		m.Members = otelMeta(&k, labels, nsLabels, annotations)
	default:
		m.Members = fluentMeta(&k, raw, labels, nsLabels, annotations, s.Schema == SchemaFluentBit)
	}
	return m
}

// budget keeps at most limit keys of the three maps together, labels
// first, then namespace labels, then annotations, each in key order.
func budget(limit int, maps ...map[string]string) (l, nl, a []kv, dropped int) {
	out := make([][]kv, len(maps))
	left := limit
	for i, m := range maps {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if limit > 0 && left == 0 {
				dropped++
				continue
			}
			out[i] = append(out[i], kv{k, m[k]})
			left--
		}
	}
	return out[0], out[1], out[2], dropped
}

type kv struct{ k, v string }

// obj appends "name":{"k":"v",...} after a comma unless first; nothing
// for an empty list.
func obj(dst []byte, name string, kvs []kv) []byte {
	if len(kvs) == 0 {
		return dst
	}
	dst = sep(dst)
	dst = jsonbytes.AppendStringString(dst, name)
	dst = append(dst, ":{"...)
	for i, p := range kvs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = str(dst, p.k, p.v)
	}
	return append(dst, '}')
}

// sep appends a comma unless dst ends an opening brace or is empty.
func sep(dst []byte) []byte {
	if len(dst) == 0 || dst[len(dst)-1] == '{' {
		return dst
	}
	return append(dst, ',')
}

// str appends "k":"v".
func str(dst []byte, k, v string) []byte {
	dst = jsonbytes.AppendStringString(dst, k)
	dst = append(dst, ':')
	return jsonbytes.AppendStringString(dst, v)
}

// opt appends ,"k":"v" when v is set.
func opt(dst []byte, k, v string) []byte {
	if v == "" {
		return dst
	}
	return str(sep(dst), k, v)
}

func fluentMeta(k *kubeMeta, raw map[string]json.RawMessage, labels, nsLabels, annotations []kv, fluentBit bool) []byte {
	d := append([]byte(nil), `"kubernetes":{`...)
	d = opt(d, "namespace_name", k.Namespace)
	d = opt(d, "pod_name", k.Pod)
	d = opt(d, "pod_id", k.PodID)
	d = opt(d, "container_name", k.Container)
	d = opt(d, "container_image", k.Image)
	if fluentBit {
		// Fluent Bit's kubernetes filter: docker_id is the container id,
		// container_hash the image id (repo@sha256:...).
		d = opt(d, "container_hash", k.ImageID)
		d = opt(d, "docker_id", k.ContainerID)
	} else {
		d = opt(d, "container_image_id", k.ImageID)
		d = opt(d, "container_id", k.ContainerID)
	}
	d = opt(d, "host", k.Host)
	d = obj(d, "labels", labels)
	d = obj(d, "annotations", annotations)
	d = obj(d, "namespace_labels", nsLabels)
	if r, ok := raw["owner"]; ok {
		d = append(sep(d), `"owner":`...)
		d = append(d, r...)
	}
	return append(d, '}')
}

// ownerKey is the ECS kubernetes.<kind>.name and OTel k8s.<kind>.name of
// a pod's workload.
func ownerKey(kind string) string {
	switch kind {
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob":
		return strings.ToLower(kind)
	}
	return ""
}

func ecsMeta(k *kubeMeta, labels, nsLabels, annotations []kv) []byte {
	d := append([]byte(nil), `"kubernetes":{`...)
	d = opt(d, "namespace", k.Namespace)
	if k.Pod != "" || k.PodID != "" {
		d = append(sep(d), `"pod":{`...)
		d = opt(d, "name", k.Pod)
		d = opt(d, "uid", k.PodID)
		d = append(d, '}')
	}
	if k.Container != "" {
		d = append(sep(d), `"container":{`...)
		d = opt(d, "name", k.Container)
		d = append(d, '}')
	}
	if k.Host != "" {
		d = append(sep(d), `"node":{`...)
		d = opt(d, "name", k.Host)
		d = append(d, '}')
	}
	if k.Owner != nil && ownerKey(k.Owner.Kind) != "" {
		d = append(sep(d), '"')
		d = append(d, ownerKey(k.Owner.Kind)...)
		d = append(d, `":{`...)
		d = opt(d, "name", k.Owner.Name)
		d = append(d, '}')
	}
	d = obj(d, "labels", labels)
	d = obj(d, "annotations", annotations)
	d = obj(d, "namespace_labels", nsLabels)
	d = append(d, '}')
	if k.ContainerID != "" || k.Container != "" || k.Image != "" {
		d = append(d, `,"container":{`...)
		d = opt(d, "id", k.ContainerID)
		d = opt(d, "name", k.Container)
		if k.Image != "" || k.ImageID != "" {
			d = append(sep(d), `"image":{`...)
			d = opt(d, "name", k.Image)
			if k.ImageID != "" {
				d = append(sep(d), `"hash":{"all":[`...)
				d = jsonbytes.AppendStringString(d, k.ImageID)
				d = append(d, "]}"...)
			}
			d = append(d, '}')
		}
		d = append(d, '}')
	}
	d = append(d, `,"orchestrator":{"type":"kubernetes"`...)
	d = opt(d, "namespace", k.Namespace)
	if k.Pod != "" {
		d = append(d, `,"resource":{"type":"pod",`...)
		d = str(d, "name", k.Pod)
		d = append(d, '}')
	}
	d = append(d, '}')
	if k.Host != "" {
		d = append(d, `,"host":{`...)
		d = str(d, "name", k.Host)
		d = append(d, '}')
	}
	return d
}

// splitImage cuts repo/api:1.2 (or repo/api@sha256:...) into name and tag.
func splitImage(image string) (name, tag string) {
	if i := strings.IndexByte(image, '@'); i >= 0 {
		image = image[:i]
	}
	if i := strings.LastIndexByte(image, ':'); i > strings.LastIndexByte(image, '/') {
		return image[:i], image[i+1:]
	}
	return image, ""
}

func otelMeta(k *kubeMeta, labels, nsLabels, annotations []kv) []byte {
	d := append([]byte(nil), `"resource":{"attributes":{`...)
	d = opt(d, "k8s.namespace.name", k.Namespace)
	d = opt(d, "k8s.pod.name", k.Pod)
	d = opt(d, "k8s.pod.uid", k.PodID)
	d = opt(d, "k8s.container.name", k.Container)
	d = opt(d, "k8s.node.name", k.Host)
	d = opt(d, "container.id", k.ContainerID)
	name, tag := splitImage(k.Image)
	d = opt(d, "container.image.name", name)
	if tag != "" {
		d = append(sep(d), `"container.image.tags":[`...)
		d = jsonbytes.AppendStringString(d, tag)
		d = append(d, ']')
	}
	d = opt(d, "container.image.id", k.ImageID)
	if k.Owner != nil && ownerKey(k.Owner.Kind) != "" {
		d = opt(d, "k8s."+ownerKey(k.Owner.Kind)+".name", k.Owner.Name)
	}
	for _, p := range labels {
		d = opt(d, "k8s.pod.label."+p.k, p.v)
	}
	for _, p := range annotations {
		d = opt(d, "k8s.pod.annotation."+p.k, p.v)
	}
	for _, p := range nsLabels {
		d = opt(d, "k8s.namespace.label."+p.k, p.v)
	}
	return append(d, "}}"...)
}

// DataStream names the data stream a document goes to, for the
// data_stream.* and event.dataset fields; empty parts are left out.
type DataStream struct{ Type, Dataset, Namespace []byte }

// Append appends doc (a fluentd-schema document as Encoder writes it)
// rewritten in the shaper's schema, with meta (from Meta) in place of its
// "kubernetes" member, and ds's fields (ECS, OTel). A doc that is not an
// object is appended as it is.
func (s *Shaper) Append(dst, doc []byte, meta *Meta, ds DataStream) []byte {
	if len(doc) == 0 || doc[0] != '{' {
		return append(dst, doc...)
	}
	doc = withoutMeta(doc, meta.raw)
	switch s.Schema {
	case SchemaECS:
		return s.appendECS(dst, doc, meta, ds)
	case SchemaOTel:
		return s.appendOTel(dst, doc, meta, ds)
	default:
		return s.appendFluent(dst, doc, meta)
	}
}

// withoutMeta returns doc up to its trailing ,"kubernetes":<meta>} (what
// the Encoder writes last), which the walks below then never read; doc
// itself when it does not end so. The result may lack its closing brace:
// the walks stop at the end of the members either way.
func withoutMeta(doc, meta []byte) []byte {
	const key = `,"kubernetes":`
	n := len(doc) - 1 - len(meta) - len(key)
	if len(meta) == 0 || n < 1 || doc[len(doc)-1] != '}' ||
		!bytes.Equal(doc[n+len(key):len(doc)-1], meta) || string(doc[n:n+len(key)]) != key {
		return doc
	}
	return doc[:n]
}

// appendFluent swaps the kubernetes member only.
func (s *Shaper) appendFluent(dst, doc []byte, meta *Meta) []byte {
	dst = append(dst, '{')
	first := true
	for i := 1; ; {
		m, next, ok := jsonbytes.NextMember(doc, i)
		if !ok {
			break
		}
		i = next
		if string(m.Key(doc)) == "kubernetes" {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, doc[m.KeyStart:m.ValEnd]...)
	}
	if len(meta.Members) > 0 {
		if !first {
			dst = append(dst, ',')
		}
		dst = append(dst, meta.Members...)
	}
	return append(dst, '}')
}

// ecsOwn are the top-level names the ECS form writes itself: a merged
// member of one of these names goes under "json" instead.
func ecsOwn(key string) bool {
	switch key {
	case "log", "event", "data_stream", "container", "orchestrator", "host", "source", "json":
		return true
	}
	return false
}

func (s *Shaper) appendECS(dst, doc []byte, meta *Meta, ds DataStream) []byte {
	hasMessage := false
	for i := 1; ; {
		m, next, ok := jsonbytes.NextMember(doc, i)
		if !ok {
			break
		}
		i = next
		if string(m.Key(doc)) == "message" {
			hasMessage = true
		}
	}
	s.conflicts, s.logObj, s.tail = s.conflicts[:0], s.logObj[:0], s.tail[:0]
	dst = append(dst, '{')
	var original []byte
	for i := 1; ; {
		m, next, ok := jsonbytes.NextMember(doc, i)
		if !ok {
			break
		}
		i = next
		key, val := string(m.Key(doc)), doc[m.ValStart:m.ValEnd]
		switch key {
		case "@timestamp", "stream":
			dst = sep(dst)
			dst = append(dst, doc[m.KeyStart:m.ValEnd]...)
		case "log":
			if hasMessage {
				original = val // the line, beside the message it held
				continue
			}
			dst = append(sep(dst), `"message":`...)
			dst = append(dst, val...)
		case "level":
			s.logObj = append(sep(s.logObj), `"level":`...)
			s.logObj = append(s.logObj, val...)
		case "syslog":
			s.logObj = append(sep(s.logObj), `"syslog":`...)
			s.logObj = ecsSyslog(s.logObj, val)
		case "source_ip":
			s.tail = append(sep(s.tail), `"source":{"ip":`...)
			s.tail = append(s.tail, val...)
			s.tail = append(s.tail, '}')
		case "sluice":
			s.tail = sep(s.tail)
			s.tail = append(s.tail, doc[m.KeyStart:m.ValEnd]...)
		case "kubernetes":
		default:
			if ecsOwn(key) {
				s.conflicts = sep(s.conflicts)
				s.conflicts = append(s.conflicts, doc[m.KeyStart:m.ValEnd]...)
				continue
			}
			dst = sep(dst)
			dst = append(dst, doc[m.KeyStart:m.ValEnd]...)
		}
	}
	if len(s.logObj) > 0 {
		dst = append(sep(dst), `"log":{`...)
		dst = append(dst, s.logObj...)
		dst = append(dst, '}')
	}
	if len(ds.Dataset) > 0 || len(original) > 0 {
		dst = append(sep(dst), `"event":{`...)
		if len(ds.Dataset) > 0 {
			dst = append(dst, `"dataset":`...)
			dst = jsonbytes.AppendString(dst, ds.Dataset)
		}
		if len(original) > 0 {
			dst = append(sep(dst), `"original":`...)
			dst = append(dst, original...)
		}
		dst = append(dst, '}')
	}
	dst = appendDataStream(dst, ds)
	if len(s.tail) > 0 {
		dst = append(sep(dst), s.tail...)
	}
	if len(meta.Members) > 0 {
		dst = append(sep(dst), meta.Members...)
	}
	if len(s.conflicts) > 0 {
		dst = append(sep(dst), `"json":{`...)
		dst = append(dst, s.conflicts...)
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// ecsSyslogNames maps sluice's syslog members to ECS log.syslog fields.
var ecsSyslogNames = map[string]string{
	"facility": "facility", "severity": "severity", "hostname": "hostname", "app_name": "appname",
	"proc_id": "procid", "msg_id": "msgid", "structured_data": "structured_data", "no_timestamp": "no_timestamp",
}

// ecsSyslog rewrites sluice's syslog object as ECS's log.syslog:
// facility and severity (names) become facility.name and severity.name.
func ecsSyslog(dst, obj []byte) []byte {
	dst = append(dst, '{')
	first := len(dst)
	for i := 1; ; {
		m, next, ok := jsonbytes.NextMember(obj, i)
		if !ok {
			break
		}
		i = next
		key := string(m.Key(obj))
		name, ok := ecsSyslogNames[key]
		if !ok {
			name = key
		}
		if len(dst) > first {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, name...)
		dst = append(dst, `":`...)
		if key == "facility" || key == "severity" {
			dst = append(dst, `{"name":`...)
			dst = append(dst, obj[m.ValStart:m.ValEnd]...)
			dst = append(dst, '}')
			continue
		}
		dst = append(dst, obj[m.ValStart:m.ValEnd]...)
	}
	return append(dst, '}')
}

func appendDataStream(dst []byte, ds DataStream) []byte {
	if len(ds.Type) == 0 {
		return dst
	}
	dst = append(sep(dst), `"data_stream":{"type":`...)
	dst = jsonbytes.AppendString(dst, ds.Type)
	dst = append(dst, `,"dataset":`...)
	dst = jsonbytes.AppendString(dst, ds.Dataset)
	dst = append(dst, `,"namespace":`...)
	dst = jsonbytes.AppendString(dst, ds.Namespace)
	return append(dst, '}')
}

// appendOTel writes the OpenTelemetry form: the line as body.text, the
// level as severity_text, everything else of the record as attributes
// (dotted keys: Elasticsearch maps OTel attributes without subobjects).
func (s *Shaper) appendOTel(dst, doc []byte, meta *Meta, ds DataStream) []byte {
	s.attrs = s.attrs[:0]
	dst = append(dst, '{')
	var severity []byte
	for i := 1; ; {
		m, next, ok := jsonbytes.NextMember(doc, i)
		if !ok {
			break
		}
		i = next
		key, val := string(m.Key(doc)), doc[m.ValStart:m.ValEnd]
		switch key {
		case "@timestamp":
			dst = sep(dst)
			dst = append(dst, doc[m.KeyStart:m.ValEnd]...)
		case "log":
			dst = append(sep(dst), `"body":{"text":`...)
			dst = append(dst, val...)
			dst = append(dst, '}')
		case "level":
			severity = val
		case "stream":
			s.attrs = append(sep(s.attrs), `"log.iostream":`...)
			s.attrs = append(s.attrs, val...)
		case "source_ip":
			s.attrs = append(sep(s.attrs), `"client.address":`...)
			s.attrs = append(s.attrs, val...)
		case "syslog", "sluice":
			s.attrs, severity = flattenInto(s.attrs, key, val, severity)
		case "kubernetes":
		default:
			s.attrs = sep(s.attrs)
			s.attrs = append(s.attrs, doc[m.KeyStart:m.ValEnd]...)
		}
	}
	if len(severity) > 0 {
		dst = append(sep(dst), `"severity_text":`...)
		dst = append(dst, severity...)
	}
	if len(s.attrs) > 0 {
		dst = append(sep(dst), `"attributes":{`...)
		dst = append(dst, s.attrs...)
		dst = append(dst, '}')
	}
	dst = appendDataStream(dst, ds)
	if len(meta.Members) > 0 {
		dst = append(sep(dst), meta.Members...)
	}
	return append(dst, '}')
}

// flattenInto appends the members of object val as "prefix.key":value.
// A syslog severity becomes the record's severity when it has none.
func flattenInto(dst []byte, prefix string, val, severity []byte) ([]byte, []byte) {
	for i := 1; ; {
		m, next, ok := jsonbytes.NextMember(val, i)
		if !ok {
			break
		}
		i = next
		key := val[m.KeyStart+1 : m.KeyEnd-1]
		dst = append(sep(dst), '"')
		dst = append(dst, prefix...)
		dst = append(dst, '.')
		dst = append(dst, key...)
		dst = append(dst, `":`...)
		dst = append(dst, val[m.ValStart:m.ValEnd]...)
		if prefix == "syslog" && string(key) == "severity" && severity == nil {
			severity = val[m.ValStart:m.ValEnd]
		}
	}
	return dst, severity
}
