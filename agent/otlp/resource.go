package otlp

import (
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/sluicelog/sluice/agent/document"
	"github.com/sluicelog/sluice/internal/jsonbytes"
)

// resourceAttrs puts a pod's resource attributes, from its Kubernetes
// object (fluentd form, agent/kube), into attrs: the names of the
// OpenTelemetry semantic conventions (k8s.namespace.name, k8s.pod.name,
// k8s.pod.uid, k8s.container.name, k8s.node.name, container.id,
// container.image.name and .tags, k8s.<workload>.name, k8s.pod.label.*,
// k8s.pod.annotation.*, k8s.namespace.label.*), as the otel schema of the
// Elasticsearch output names them (agent/document: one mapping for both).
// It runs once per pod and request, not per record.
func (mp *mapper) resourceAttrs(attrs pcommon.Map, sh *document.Shaper, meta []byte) {
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
