package tap

import (
	"fmt"
	"net/url"
	"regexp"
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
	f := Filter{Namespace: q.Get("namespace"), Container: q.Get("container"), Input: q.Get("input")}
	var err error
	if v := q.Get("pod"); v != "" {
		if f.Pod, err = regexp.Compile(v); err != nil {
			return Filter{}, fmt.Errorf("pod: %w", err)
		}
	}
	if v := q.Get("grep"); v != "" {
		if f.Grep, err = regexp.Compile(v); err != nil {
			return Filter{}, fmt.Errorf("grep: %w", err)
		}
	}
	if f.Labels, err = ParseSelector(q.Get("labels")); err != nil {
		return Filter{}, fmt.Errorf("labels: %w", err)
	}
	return f, nil
}

// matchSource applies the filters that only depend on the source, once per
// batch.
func (f *Filter) matchSource(src *record.Source) bool {
	if src == nil {
		src = &record.Source{}
	}
	if f.Namespace != "" && src.Namespace != f.Namespace ||
		f.Container != "" && src.Container != f.Container ||
		f.Input != "" && src.Input != f.Input {
		return false
	}
	if f.Pod != nil && !f.Pod.MatchString(src.Pod) {
		return false
	}
	// Records carry no pod labels until Kubernetes metadata is looked up:
	// a selector is matched against the empty set for now.
	return f.Labels.Matches(nil)
}

// appendMatching appends the matching documents of b to dst, each followed
// by '\n'.
func (f *Filter) appendMatching(dst []byte, b *record.Batch) []byte {
	if !f.matchSource(b.Source) {
		return dst
	}
	for i := range b.Records {
		if f.Grep != nil && !f.Grep.Match(b.Records[i].Line) {
			continue
		}
		doc := b.Doc(i)
		if len(doc) == 0 {
			continue
		}
		dst = append(dst, doc...)
		dst = append(dst, '\n')
	}
	return dst
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
