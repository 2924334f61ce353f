package fairshare

import "time"

// Policy names a file's key and weight from the Kubernetes names in its
// path (config fair_share: by, weights, default_weight), and bounds how
// far behind a file may fall (max_lag, on_max_lag).
type Policy struct {
	By            string         // namespace | pod | container
	Weights       map[string]int // by namespace
	DefaultWeight int

	// MaxLagBytes and MaxLagTime bound a file's lag (0: no bound);
	// DropOldest skips ahead beyond them instead of waiting.
	MaxLagBytes int64
	MaxLagTime  time.Duration
	DropOldest  bool
}

// Key returns the key of a file of namespace ns, pod and container, and
// its weight. A file whose path names no pod shares the key "".
func (p Policy) Key(ns, pod, container string) (string, int) {
	w, ok := p.Weights[ns]
	if !ok {
		w = max(p.DefaultWeight, 1)
	}
	if ns == "" {
		return "", w
	}
	switch p.By {
	case "pod":
		return ns + "/" + pod, w
	case "container":
		return ns + "/" + pod + "/" + container, w
	default:
		return ns, w
	}
}
