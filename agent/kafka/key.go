package kafka

import (
	"bytes"

	"github.com/sluicelog/sluice/agent/record"
)

// partitionKey returns the Kafka key of a batch's records: all records of
// a batch share their source, so they share a key, and the records of one
// key stay in order in one partition. nil lets the partitioner spread the
// records (a source without the value: syslog, or no Kubernetes metadata).
// The slice is the caller's.
func partitionKey(kind string, b *record.Batch) []byte {
	src := b.Source
	if src == nil {
		return nil
	}
	switch kind {
	case "pod_id":
		if uid := podUID(b.Kubernetes()); len(uid) > 0 {
			return bytes.Clone(uid)
		}
		return joinKey(src.Namespace, src.Pod) // the pod's names, short of its uid
	case "pod_name":
		return joinKey(src.Namespace, src.Pod)
	case "namespace_name":
		return joinKey(src.Namespace, "")
	case "container_id":
		return joinKey(src.ContainerID, "")
	}
	return nil
}

func joinKey(a, b string) []byte {
	switch {
	case a == "" && b == "":
		return nil
	case b == "":
		return []byte(a)
	}
	return []byte(a + "/" + b)
}

var podIDMember = []byte(`"pod_id":"`)

// podUID finds the pod's uid in the "kubernetes" object of a batch
// (agent/kube writes it as a plain JSON string: a uid needs no escaping).
func podUID(meta []byte) []byte {
	i := bytes.Index(meta, podIDMember)
	if i < 0 {
		return nil
	}
	v := meta[i+len(podIDMember):]
	end := bytes.IndexByte(v, '"')
	if end < 0 {
		return nil
	}
	return v[:end]
}
