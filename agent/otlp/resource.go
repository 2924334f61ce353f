package otlp

import (
	"bytes"

	"github.com/sluicelog/sluice/agent/document"
	"github.com/sluicelog/sluice/internal/jsonbytes"
)

// resource returns the content of a Resource message for a pod, from
// its Kubernetes object (fluentd form, agent/kube): attributes named by
// the OpenTelemetry semantic conventions (k8s.namespace.name,
// k8s.pod.name, k8s.pod.uid, k8s.container.name, k8s.node.name,
// container.id, container.image.name and .tags, k8s.<workload>.name,
// k8s.pod.label.*, k8s.pod.annotation.*, k8s.namespace.label.*), as the
// otel schema of the Elasticsearch output names them (agent/document: one
// mapping for both). A meta that does not decode is kept whole as
// k8s.metadata. The writer keeps what it returns per pod (writer.go), so
// this runs once per pod, not per record or request.
func (e *encoder) resource(sh *document.Shaper, meta []byte) []byte {
	saved := e.b
	e.b = e.res[:0]
	defer func() { e.res, e.b = e.b, saved }()
	if len(meta) == 0 {
		return nil
	}
	m := sh.Meta(meta)
	// m.Members is `"resource":{"attributes":{...}}` for the otel schema,
	// or `"kubernetes":<meta>` for a meta that did not decode.
	obj := append(append([]byte{'{'}, m.Members...), '}')
	base := len(e.ents)
	for at := 1; ; {
		mb, next, ok := jsonbytes.NextMember(obj, at)
		if !ok {
			break
		}
		at = next
		val := obj[mb.ValStart:mb.ValEnd]
		if string(mb.Key(obj)) != "resource" {
			e.keyValue(fieldResourceAttributes, "k8s.metadata", nil, false, val)
			continue
		}
		inner, _, ok := jsonbytes.NextMember(val, 1)
		if !ok {
			break
		}
		a := val[inner.ValStart:inner.ValEnd]
		for at2 := 1; ; {
			kv, next2, ok := jsonbytes.NextMember(a, at2)
			if !ok {
				break
			}
			at2 = next2
			e.keyValue(fieldResourceAttributes, "", kv.Key(a), true, a[kv.ValStart:kv.ValEnd])
		}
	}
	e.endList(base, e.mapOrder(base))
	return bytes.Clone(e.b)
}
