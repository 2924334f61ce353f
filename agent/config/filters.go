package config

import (
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/labels"
)

// Match limits a transform or an output to some batches. Every key set
// must hold (AND); within a list any entry may (OR). All of it is decided
// once per batch: the keys describe the source of the records, not their
// content.
//
//	match: { inputs: [containers], namespaces: [payments, "team-*"], labels: "app=api,tier!=batch" }
type Match struct {
	Inputs     []string `yaml:"inputs"`     // input names
	Namespaces []string `yaml:"namespaces"` // globs: * is any run of characters
	Pods       []string `yaml:"pods"`       // globs
	Containers []string `yaml:"containers"` // globs
	// Labels is a Kubernetes label selector (app=api, tier in (web,db),
	// !canary), matched against the pod's labels as shipped in
	// kubernetes.labels; it needs kubernetes.labels on.
	Labels string `yaml:"labels"`
}

// Empty reports whether m matches everything.
func (m *Match) Empty() bool {
	return m == nil || len(m.Inputs)+len(m.Namespaces)+len(m.Pods)+len(m.Containers) == 0 && m.Labels == ""
}

// Redact replaces what Pattern matches in a field's value.
type Redact struct {
	Field       string `yaml:"field"`
	Pattern     string `yaml:"pattern"`
	Replacement string `yaml:"replacement"` // $1 and ${name} expand as in regexp.Expand
}

// Throttle keys.
const (
	ThrottleKeyPod       = "pod"
	ThrottleKeyNamespace = "namespace"
	ThrottleKeyContainer = "container"
	ThrottleKeyField     = "field"
)

// defaultFilter fills the defaults of a filter transform.
func defaultFilter(t Transform, i int) {
	f := t.Filter()
	if f == nil {
		return
	}
	if f.Name == "" {
		f.Name = t.Type + "_" + strconv.Itoa(i)
	}
	switch s := t.Spec.(type) {
	case *Throttle:
		if s.Key == "" {
			s.Key = ThrottleKeyPod
		}
		if s.Burst == 0 {
			s.Burst = max(1, int(math.Ceil(s.Rate)))
		}
		if s.SummaryInterval == 0 {
			s.SummaryInterval = Duration(10 * time.Second)
		}
		if s.MaxKeys == 0 {
			s.MaxKeys = 10000
		}
	case *Fields:
		if len(s.Dedot) > 0 && s.DedotSeparator == "" {
			s.DedotSeparator = "_"
		}
	}
}

// validateFilter checks a drop, keep, throttle or fields transform.
func validateFilter(p *problems, c *Config, i int) {
	t := c.Transforms[i]
	at := func(k ...any) []any { return append([]any{"transforms", i}, k...) }
	validateMatch(p, c, t.Filter().Match, at("match"))
	switch s := t.Spec.(type) {
	case *Drop:
		validateCondition(p, (*Condition)(s), false, at)
	case *Keep:
		validateCondition(p, (*Condition)(s), true, at)
	case *Throttle:
		validateThrottle(p, s, at)
	case *Fields:
		validateFields(p, s, at)
	}
}

func validateCondition(p *problems, s *Condition, keep bool, at func(k ...any) []any) {
	if (s.Field == "") != (s.Pattern == "") {
		p.add("field and pattern go together", at("pattern"))
	}
	validatePattern(p, s.Pattern, at("pattern"))
	validateGlobs(p, s.Namespaces, at("namespaces"))
	validateSelector(p, s.Labels, at("labels"))
	none := s.Field == "" && s.Namespaces == nil && s.Labels == ""
	if keep && none {
		p.add("a keep transform needs a condition: field and pattern, namespaces or labels", at("type"))
	}
	if !keep && none && s.Match.Empty() {
		p.add("a drop transform without a condition or match would drop every record", at("type"))
	}
}

func validateThrottle(p *problems, s *Throttle, at func(k ...any) []any) {
	if s.Rate <= 0 || s.Rate > 1e9 {
		p.add("must be a number of records per second above 0, got %v", at("rate"), s.Rate)
	}
	if s.Burst < 1 {
		p.add("must be at least 1, got %d", at("burst"), s.Burst)
	}
	switch s.Key {
	case ThrottleKeyPod, ThrottleKeyNamespace, ThrottleKeyContainer:
		if s.Field != "" {
			p.add("only with key: field", at("field"))
		}
	case ThrottleKeyField:
		if s.Field == "" {
			p.add("key: field needs field (a dotted path such as user.id)", at("field"))
		}
	default:
		p.add("must be pod, namespace, container or field, got %q", at("key"), s.Key)
	}
	if s.SummaryInterval.Duration() < 100*time.Millisecond {
		p.add("must be at least 100ms", at("summary_interval"))
	}
	if s.MaxKeys < 1 || s.MaxKeys > 1<<20 {
		p.add("must be between 1 and 1048576, got %d", at("max_keys"), s.MaxKeys)
	}
}

func validateFields(p *problems, s *Fields, at func(k ...any) []any) {
	if s.Add == nil && s.AddEnv == nil && s.Rename == nil && s.Remove == nil && s.Redact == nil && s.Dedot == nil {
		p.add("a fields transform needs add, add_env, rename, remove, redact or dedot", at("type"))
	}
	for k := range s.Add {
		validatePath(p, k, at("add", k))
	}
	for k := range s.AddEnv {
		validatePath(p, k, at("add_env", k))
	}
	for from, to := range s.Rename {
		validatePath(p, from, at("rename", from))
		validatePath(p, to, at("rename", from))
	}
	for j, f := range s.Remove {
		validatePath(p, f, at("remove", j))
	}
	for j, r := range s.Redact {
		validatePath(p, r.Field, at("redact", j, "field"))
		if r.Pattern == "" {
			p.add("must be set", at("redact", j, "pattern"))
		}
		validatePattern(p, r.Pattern, at("redact", j, "pattern"))
	}
	for j, f := range s.Dedot {
		validatePath(p, f, at("dedot", j))
	}
	if s.DedotSeparator != "" && (strings.ContainsAny(s.DedotSeparator, `."\`) || len(s.DedotSeparator) > 1) {
		p.add("must be one character other than '.', '\"' and '\\', got %q", at("dedot_separator"), s.DedotSeparator)
	}
}

// validatePath checks a dotted field path.
func validatePath(p *problems, path string, at []any) {
	if path == "" || strings.HasPrefix(path, ".") || strings.HasSuffix(path, ".") || strings.Contains(path, "..") {
		p.add("must be a dotted field path such as log or http.request.id, got %q", at, path)
	}
	switch path {
	case "@timestamp":
		p.add("@timestamp cannot be edited", at)
	}
}

func validatePattern(p *problems, pattern string, at []any) {
	if pattern == "" {
		return
	}
	if _, err := regexp.Compile(pattern); err != nil {
		p.add("%v", at, err)
	}
}

func validateGlobs(p *problems, globs []string, at []any) {
	for j, g := range globs {
		if g == "" {
			p.add("must not be empty", append(slices.Clone(at), j))
		}
	}
}

// validateSelector checks a label selector, and that the labels it reads
// are shipped.
func validateSelector(p *problems, sel string, at []any) {
	if sel == "" {
		return
	}
	if _, err := labels.Parse(sel); err != nil {
		p.add("bad label selector: %v", at, err)
	}
}

func validateMatch(p *problems, c *Config, m *Match, at []any) {
	if m == nil {
		return
	}
	key := func(k ...any) []any { return append(slices.Clone(at), k...) }
	for j, name := range m.Inputs {
		if !slices.ContainsFunc(c.Inputs, func(in Input) bool { return in.Name == name }) {
			p.add("no input is named %q", key("inputs", j), name)
		}
	}
	validateGlobs(p, m.Namespaces, key("namespaces"))
	validateGlobs(p, m.Pods, key("pods"))
	validateGlobs(p, m.Containers, key("containers"))
	validateSelector(p, m.Labels, key("labels"))
	if m.Labels != "" && (!c.Kubernetes.Enabled || !c.Kubernetes.Labels) {
		p.add("a label selector needs kubernetes.enabled and kubernetes.labels", key("labels"))
	}
}

// validateFilterLabels reports label conditions of drop and keep
// transforms while the labels are not shipped.
// It also checks that names, which label the counters, are unique.
func validateFilterLabels(p *problems, c *Config) {
	names := map[string]bool{}
	for i, t := range c.Transforms {
		if f := t.Filter(); f != nil {
			if names[f.Name] {
				p.add("duplicate transform name %q", []any{"transforms", i, "name"}, f.Name)
			}
			names[f.Name] = true
		}
		var labels string
		switch s := t.Spec.(type) {
		case *Drop:
			labels = s.Labels
		case *Keep:
			labels = s.Labels
		}
		if labels != "" && (!c.Kubernetes.Enabled || !c.Kubernetes.Labels) {
			p.add("a label selector needs kubernetes.enabled and kubernetes.labels", []any{"transforms", i, "labels"})
		}
	}
}

// validateOutputMatches checks each output's match.
func validateOutputMatches(p *problems, c *Config) {
	for i, o := range c.Outputs {
		validateMatch(p, c, o.Match, []any{"outputs", i, "match"})
	}
}
