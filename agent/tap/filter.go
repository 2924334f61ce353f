package tap

import (
	"fmt"
	"net/url"
	"regexp"
	"regexp/syntax"
	"strings"

	"github.com/sluicelog/sluice/agent/record"
)

// Filter selects documents. Empty fields match everything; all set fields
// must match.
type Filter struct {
	Namespace string         // exact namespace
	Pod       *regexp.Regexp // pod name, unanchored (use ^…$ to anchor)
	Container string         // exact container name
	Input     string         // exact input name from the config
	Labels    Selector       // the pod's labels
	Grep      *regexp.Regexp // the record's line (the message as read, before the JSON merge)
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
	// Records carry no pod labels until Kubernetes metadata is looked up:
	// a selector is matched against the empty set for now.
	return f.Labels.Matches(nil)
}

// Selector is a Kubernetes-style equality label selector:
// comma-separated requirements `k=v` (or `k==v`), `k!=v`, `k` (has the
// label) and `!k` (has not).
type Selector []Requirement

// Requirement is one term of a Selector.
type Requirement struct {
	Key   string
	Op    string // "=", "!=", "exists", "!exists"
	Value string
}

// ParseSelector parses s; "" is the selector that matches everything.
func ParseSelector(s string) (Selector, error) {
	var sel Selector
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	for term := range strings.SplitSeq(s, ",") {
		term = strings.TrimSpace(term)
		var r Requirement
		switch {
		case term == "":
			return nil, fmt.Errorf("empty requirement in %q", s)
		case strings.Contains(term, "!="):
			k, v, _ := strings.Cut(term, "!=")
			r = Requirement{Key: strings.TrimSpace(k), Op: "!=", Value: strings.TrimSpace(v)}
		case strings.Contains(term, "=="):
			k, v, _ := strings.Cut(term, "==")
			r = Requirement{Key: strings.TrimSpace(k), Op: "=", Value: strings.TrimSpace(v)}
		case strings.Contains(term, "="):
			k, v, _ := strings.Cut(term, "=")
			r = Requirement{Key: strings.TrimSpace(k), Op: "=", Value: strings.TrimSpace(v)}
		case strings.HasPrefix(term, "!"):
			r = Requirement{Key: strings.TrimSpace(term[1:]), Op: "!exists"}
		default:
			r = Requirement{Key: term, Op: "exists"}
		}
		if !validLabelKey(r.Key) {
			return nil, fmt.Errorf("bad label key %q in %q", r.Key, term)
		}
		if strings.ContainsAny(r.Value, "=!, ") {
			return nil, fmt.Errorf("bad label value %q in %q", r.Value, term)
		}
		sel = append(sel, r)
	}
	return sel, nil
}

// validLabelKey accepts an optional DNS prefix and a name of letters,
// digits, '-', '_' and '.', as Kubernetes label keys are.
func validLabelKey(k string) bool {
	if k == "" || len(k) > 316 {
		return false
	}
	for _, c := range k {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.', c == '/':
		default:
			return false
		}
	}
	return true
}

// Matches reports whether labels satisfy every requirement.
func (s Selector) Matches(labels map[string]string) bool {
	for _, r := range s {
		v, ok := labels[r.Key]
		switch r.Op {
		case "=":
			if !ok || v != r.Value {
				return false
			}
		case "!=":
			if ok && v == r.Value {
				return false
			}
		case "exists":
			if !ok {
				return false
			}
		case "!exists":
			if ok {
				return false
			}
		}
	}
	return true
}
