package fairshare

import (
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/labels"
)

// AnnotationWeight is the pod annotation that gives its files' key a
// weight (1 to 1000); it wins over label_weights and weights.
const AnnotationWeight = "sluice.io/weight"

// maxWeight bounds a weight, as the config does.
const maxWeight = 1000

// LabelWeight is a weight for the pods whose labels match Selector.
type LabelWeight struct {
	Selector labels.Selector
	Weight   int
}

// PodMeta looks a pod's labels and annotations up in the metadata cache,
// without waiting; ok is false while the pod is not cached. The maps are
// shared and read-only.
type PodMeta func(namespace, pod string) (labels, annotations map[string]string, ok bool)

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

	// LabelWeights are tried in order on the pod's labels; Pods looks the
	// pod up (nil: Kubernetes metadata off, config weights only).
	LabelWeights []LabelWeight
	Pods         PodMeta
	// Invalid logs an annotation that is not a weight (nil: silent).
	Invalid *Invalid
}

// Resolved reports whether Weight can say more once the pod is cached: a
// file whose pod is not cached yet is given its namespace's weight, and
// asked again later (tail).
func (p Policy) Resolved(ns, pod string) bool {
	if p.Pods == nil || pod == "" {
		return true
	}
	_, _, ok := p.Pods(ns, pod)
	return ok
}

// Weight is the weight of a file of pod ns/pod: its annotation
// sluice.io/weight, else the first label_weights selector its labels
// match, else weights[ns], else default_weight.
func (p Policy) Weight(ns, pod string) int {
	if p.Pods != nil && pod != "" {
		if lbls, ann, ok := p.Pods(ns, pod); ok {
			if v, ok := ann[AnnotationWeight]; ok {
				if w, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && w >= 1 && w <= maxWeight {
					return w
				}
				p.Invalid.note(ns, pod, v)
			}
			for _, lw := range p.LabelWeights {
				if lw.Selector.Matches(labels.Set(lbls)) {
					return lw.Weight
				}
			}
		}
	}
	if w, ok := p.Weights[ns]; ok {
		return w
	}
	return max(p.DefaultWeight, 1)
}

// Key returns the key of a file of namespace ns, pod and container, and
// its weight. A file whose path names no pod shares the key "".
func (p Policy) Key(ns, pod, container string) (string, int) {
	w := p.Weight(ns, pod)
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
