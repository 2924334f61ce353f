package tap

import (
	"fmt"
	"net/url"
	"regexp"
	"regexp/syntax"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/sluicelog/sluice/agent/record"
)

// Filter selects documents. Empty fields match everything; all set fields
// must match.
type Filter struct {
	Namespace string          // exact namespace
	Pod       *regexp.Regexp  // pod name, unanchored (use ^…$ to anchor)
	Container string          // exact container name
	Input     string          // exact input name from the config
	Labels    labels.Selector // the pod's labels; nil matches everything
	Grep      *regexp.Regexp  // the record's line (the message as read, before the JSON merge)
}

// ParseFilter reads a filter from query parameters: namespace, pod,
// container, input, labels, grep. It names the parameter at fault.
func ParseFilter(q url.Values) (Filter, error) {
	for k := range q {
		switch k {
		case "namespace", "pod", "container", "input", "labels", "grep":
		default:
			return Filter{}, fmt.Errorf("unknown parameter %q (known: container, grep, input, labels, namespace, pod)", k)
		}
	}
	for k, vs := range q {
		if len(vs) > 1 {
			return Filter{}, fmt.Errorf("%s: given %d times; give it once", k, len(vs))
		}
		if len(vs[0]) > MaxValueBytes {
			return Filter{}, fmt.Errorf("%s: %d bytes, over the limit of %d", k, len(vs[0]), MaxValueBytes)
		}
	}
	f := Filter{Namespace: q.Get("namespace"), Container: q.Get("container"), Input: q.Get("input")}
	var err error
	if f.Pod, err = compilePattern(q.Get("pod")); err != nil {
		return Filter{}, fmt.Errorf("pod: %w", err)
	}
	if f.Grep, err = compilePattern(q.Get("grep")); err != nil {
		return Filter{}, fmt.Errorf("grep: %w", err)
	}
	if f.Labels, err = ParseSelector(q.Get("labels")); err != nil {
		return Filter{}, fmt.Errorf("labels: %w", err)
	}
	return f, nil
}

// mayMatch applies the filters that compare names exactly, once per
// batch on the worker that publishes it: they cost a few string
// comparisons, and spare copying batches nobody asked for.
func (f *Filter) mayMatch(src *record.Source) bool {
	if src == nil {
		src = &record.Source{}
	}
	return (f.Namespace == "" || src.Namespace == f.Namespace) &&
		(f.Container == "" || src.Container == f.Container) &&
		(f.Input == "" || src.Input == f.Input)
}

// Limits of a filter: the tap is open to anyone with the token, and a
// pattern costs time per byte matched in proportion to its compiled size.
const (
	// MaxValueBytes bounds each parameter's value.
	MaxValueBytes = 1024
	// MaxPatternInsts bounds the compiled size of pod and grep (a literal
	// of 1 KiB is about 1,000; `(a|b)` about 6).
	MaxPatternInsts = 2000
)

// compilePattern compiles a pod or grep pattern within MaxPatternInsts;
// "" is no pattern.
func compilePattern(expr string) (*regexp.Regexp, error) {
	if expr == "" {
		return nil, nil
	}
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil, err
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil, err
	}
	if len(prog.Inst) > MaxPatternInsts {
		return nil, fmt.Errorf("pattern compiles to %d instructions, over the limit of %d; use a simpler one", len(prog.Inst), MaxPatternInsts)
	}
	return regexp.Compile(expr)
}

// matchChunk applies the filters that only depend on the source, on the
// subscriber's goroutine.
func (f *Filter) matchChunk(c *Chunk) bool {
	if f.Namespace != "" && c.namespace != f.Namespace ||
		f.Container != "" && c.container != f.Container ||
		f.Input != "" && c.input != f.Input {
		return false
	}
	if f.Pod != nil && !f.Pod.MatchString(c.pod) {
		return false
	}
	// The pod's labels come from the agent's pod cache (record.Batch
	// Labels); a record without them (syslog, a pod not found) has none,
	// so only requirements like !k or k!=v match it, as in Kubernetes.
	return f.Labels == nil || f.Labels.Matches(labels.Set(c.labels))
}

// ParseSelector parses a Kubernetes label selector, equality-based
// (k=v, k==v, k!=v) and set-based (k in (a,b), k notin (x), k, !k), as
// kubectl -l does; "" gives nil, which matches everything.
func ParseSelector(s string) (labels.Selector, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	sel, err := labels.Parse(s)
	if err != nil {
		return nil, err
	}
	return sel, nil
}
