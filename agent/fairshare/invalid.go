package fairshare

import (
	"log/slog"
	"sync"
)

// Invalid logs a pod annotation sluice.io/weight that is not a weight,
// once per pod and value: every file of the pod asks for its weight, and
// a reader asks again while its pod is not cached, but the operator needs
// to hear of a typo once, not at every read.
type Invalid struct {
	log *slog.Logger

	mu   sync.Mutex
	seen map[string]string // namespace/pod -> the value logged
}

// maxInvalid bounds the pods remembered; past it the memory starts over
// (a pod may then be logged once more).
const maxInvalid = 4096

// NewInvalid logs to l.
func NewInvalid(l *slog.Logger) *Invalid {
	return &Invalid{log: l, seen: map[string]string{}}
}

// note logs value as pod ns/pod's invalid weight unless it was already.
func (v *Invalid) note(ns, pod, value string) {
	if v == nil {
		return
	}
	key := ns + "/" + pod
	v.mu.Lock()
	if old, ok := v.seen[key]; ok && old == value {
		v.mu.Unlock()
		return
	}
	if len(v.seen) >= maxInvalid {
		clear(v.seen)
	}
	v.seen[key] = value
	v.mu.Unlock()
	v.log.Warn("pod annotation "+AnnotationWeight+" is not a weight from 1 to 1000; the pod's files take the configured weight",
		"namespace", ns, "pod", pod, "value", clip(value))
}

// clip keeps a hostile annotation from making a huge log line.
func clip(s string) string {
	const most = 64
	if len(s) > most {
		return s[:most] + "…"
	}
	return s
}
