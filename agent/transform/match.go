package transform

import (
	"fmt"
	"slices"
	"strconv"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/internal/jsonbytes"
)

// Match decides whether a batch is in scope, from its source alone: input
// name, namespace, pod and container, and the pod's labels. Everything it
// reads is the same for every record of a batch, so it runs once per
// batch. A nil *Match matches every batch. It is immutable and shared by
// every worker.
type Match struct {
	inputs                       []string
	namespaces, pods, containers []string // globs
	sel                          *Selector
}

// NewMatch compiles a config match; nil or empty gives nil.
func NewMatch(m *config.Match) (*Match, error) {
	if m.Empty() {
		return nil, nil
	}
	sel, err := NewSelector(m.Labels)
	if err != nil {
		return nil, fmt.Errorf("match.labels: %w", err)
	}
	return &Match{inputs: m.Inputs, namespaces: m.Namespaces, pods: m.Pods, containers: m.Containers, sel: sel}, nil
}

// Match reports whether b is in scope.
func (m *Match) Match(b *record.Batch) bool {
	if m == nil {
		return true
	}
	src := b.Source
	if src == nil {
		src = &noSource
	}
	if m.inputs != nil && !slices.Contains(m.inputs, src.Input) {
		return false
	}
	if m.namespaces != nil && !anyGlob(m.namespaces, src.Namespace) {
		return false
	}
	if m.pods != nil && !anyGlob(m.pods, src.Pod) {
		return false
	}
	if m.containers != nil && !anyGlob(m.containers, src.Container) {
		return false
	}
	return m.sel.Matches(b.Kubernetes())
}

var noSource record.Source

func anyGlob(globs []string, s string) bool {
	for _, g := range globs {
		if glob(g, s) {
			return true
		}
	}
	return false
}

// glob matches s against pattern, where * is any run of characters. An
// empty name (syslog records have no namespace) matches no pattern, not
// even *, so `namespaces: ["*"]` selects the records that have one.
func glob(pattern, s string) bool {
	if s == "" {
		return false
	}
	star, sp := -1, 0
	p := 0
	for i := 0; i < len(s); {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, sp = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case star >= 0:
			p = star + 1
			sp++
			i = sp
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// Selector is a compiled Kubernetes label selector, matched against the
// "labels" object of a pod's serialised metadata without decoding it.
// A nil *Selector matches everything.
type Selector struct {
	reqs []requirement
}

type requirement struct {
	key    string
	op     selection.Operator
	values []string
	num    int64 // for Gt and Lt
}

// NewSelector parses a selector in the Kubernetes syntax; "" gives nil.
func NewSelector(s string) (*Selector, error) {
	if s == "" {
		return nil, nil
	}
	sel, err := labels.Parse(s)
	if err != nil {
		return nil, err
	}
	reqs, _ := sel.Requirements()
	out := &Selector{}
	for _, r := range reqs {
		rq := requirement{key: r.Key(), op: r.Operator(), values: r.ValuesUnsorted()}
		if rq.op == selection.GreaterThan || rq.op == selection.LessThan {
			if len(rq.values) != 1 {
				return nil, fmt.Errorf("%s: one number needed", r.String())
			}
			if rq.num, err = strconv.ParseInt(rq.values[0], 10, 64); err != nil {
				return nil, fmt.Errorf("%s: %w", r.String(), err)
			}
		}
		out.reqs = append(out.reqs, rq)
	}
	return out, nil
}

// Matches reports whether the pod whose "kubernetes" object is meta has
// labels that satisfy every requirement. Without metadata a pod has no
// labels.
func (s *Selector) Matches(meta []byte) bool {
	if s == nil {
		return true
	}
	obj := -1
	if m, ok := findKey(meta, jsonbytes.SkipSpace(meta, 0), "labels"); ok && meta[m.ValStart] == '{' {
		obj = m.ValStart
	}
	for i := range s.reqs {
		r := &s.reqs[i]
		var val []byte
		found := false
		if obj >= 0 {
			var m jsonbytes.Member
			if m, found = findKey(meta, obj, r.key); found {
				v := meta[m.ValStart:m.ValEnd]
				if len(v) >= 2 && v[0] == '"' {
					v = v[1 : len(v)-1]
				}
				val = v
			}
		}
		if !r.matches(val, found) {
			return false
		}
	}
	return true
}

func (r *requirement) matches(val []byte, found bool) bool {
	switch r.op {
	case selection.Exists:
		return found
	case selection.DoesNotExist:
		return !found
	case selection.Equals, selection.DoubleEquals, selection.In:
		return found && containsBytes(r.values, val)
	case selection.NotEquals, selection.NotIn:
		return !found || !containsBytes(r.values, val)
	case selection.GreaterThan, selection.LessThan:
		n, ok := parseInt(val)
		if !found || !ok {
			return false
		}
		if r.op == selection.GreaterThan {
			return n > r.num
		}
		return n < r.num
	}
	return false
}

func containsBytes(list []string, v []byte) bool {
	for _, s := range list {
		if s == string(v) {
			return true
		}
	}
	return false
}

// parseInt parses a decimal integer without allocating.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}
