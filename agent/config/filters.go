package config

import (
	"math"
	"regexp"
	"slices"
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

// Filter transform types: they work on encoded documents, after the
// parsers, in the order of the transforms list.
func isFilter(typ string) bool {
	switch typ {
	case "drop", "keep", "throttle", "fields":
		return true
	}
	return false
}

// Throttle keys.
const (
	ThrottleKeyPod       = "pod"
	ThrottleKeyNamespace = "namespace"
	ThrottleKeyContainer = "container"
	ThrottleKeyField     = "field"
)

func defaultFilter(t *Transform, i int) {
	if t.Name == "" {
		t.Name = t.Type + "_" + itoa(i)
	}
	if t.Type == "throttle" {
		if t.Key == "" {
			t.Key = ThrottleKeyPod
		}
		if t.Burst == 0 {
			t.Burst = max(1, int(math.Ceil(t.Rate)))
		}
		if t.SummaryInterval == 0 {
			t.SummaryInterval = Duration(10 * time.Second)
		}
		if t.MaxKeys == 0 {
			t.MaxKeys = 10000
		}
	}
	if t.Type == "fields" && len(t.Dedot) > 0 && t.DedotSeparator == "" {
		t.DedotSeparator = "_"
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// validateFilter checks a drop, keep, throttle or fields transform.
func validateFilter(p *problems, c *Config, i int) {
	t := &c.Transforms[i]
	at := func(k ...any) []any { return append([]any{"transforms", i}, k...) }
	for _, k := range []struct {
		key string
		set bool
	}{
		{"target", t.Target != ""}, {"keep_original", t.KeepOriginal}, {"preset", t.Preset != ""},
		{"types", t.Types != nil}, {"time", t.Time != nil}, {"normalize_level", t.NormalizeLevel},
	} {
		if k.set {
			p.add("only for the parser transforms (json, logfmt, regex)", at(k.key))
		}
	}
	only := func(types string, keys ...struct {
		key string
		set bool
	}) {
		for _, k := range keys {
			if k.set && !strings.Contains(" "+types+" ", " "+t.Type+" ") {
				p.add("not a key of a %s transform (only for %s)", at(k.key), t.Type, strings.ReplaceAll(types, " ", ", "))
			}
		}
	}
	type kv = struct {
		key string
		set bool
	}
	only("drop keep", kv{"namespaces", t.Namespaces != nil}, kv{"labels", t.Labels != ""})
	only("drop keep", kv{"pattern", t.Pattern != ""})
	only("throttle", kv{"rate", t.Rate != 0}, kv{"burst", t.Burst != 0}, kv{"key", t.Key != ""},
		kv{"summary_interval", t.SummaryInterval != 0}, kv{"max_keys", t.MaxKeys != 0})
	only("fields", kv{"add", t.Add != nil}, kv{"add_env", t.AddEnv != nil}, kv{"rename", t.Rename != nil},
		kv{"remove", t.Remove != nil}, kv{"redact", t.Redact != nil}, kv{"dedot", t.Dedot != nil},
		kv{"dedot_separator", t.DedotSeparator != ""})
	validateMatch(p, c, t.Match, at("match"))

	switch t.Type {
	case "drop", "keep":
		if (t.Field == "") != (t.Pattern == "") {
			p.add("field and pattern go together", at("pattern"))
		}
		validatePattern(p, t.Pattern, at("pattern"))
		validateGlobs(p, t.Namespaces, at("namespaces"))
		validateSelector(p, t.Labels, at("labels"))
		if t.Type == "keep" && t.Field == "" && t.Namespaces == nil && t.Labels == "" {
			p.add("a keep transform needs a condition: field and pattern, namespaces or labels", at("type"))
		}
		if t.Type == "drop" && t.Field == "" && t.Namespaces == nil && t.Labels == "" && t.Match.Empty() {
			p.add("a drop transform without a condition or match would drop every record", at("type"))
		}
	case "throttle":
		if t.Rate <= 0 || t.Rate > 1e9 {
			p.add("must be a number of records per second above 0, got %v", at("rate"), t.Rate)
		}
		if t.Burst < 1 {
			p.add("must be at least 1, got %d", at("burst"), t.Burst)
		}
		switch t.Key {
		case ThrottleKeyPod, ThrottleKeyNamespace, ThrottleKeyContainer:
			if t.Field != "" {
				p.add("only with key: field", at("field"))
			}
		case ThrottleKeyField:
			if t.Field == "" {
				p.add("key: field needs field (a dotted path such as user.id)", at("field"))
			}
		default:
			p.add("must be pod, namespace, container or field, got %q", at("key"), t.Key)
		}
		if t.SummaryInterval.D() < 100*time.Millisecond {
			p.add("must be at least 100ms", at("summary_interval"))
		}
		if t.MaxKeys < 1 || t.MaxKeys > 1<<20 {
			p.add("must be between 1 and 1048576, got %d", at("max_keys"), t.MaxKeys)
		}
	case "fields":
		if t.Field != "" {
			p.add("not a key of a fields transform (name the fields in add, rename, remove, redact or dedot)", at("field"))
		}
		if t.Add == nil && t.AddEnv == nil && t.Rename == nil && t.Remove == nil && t.Redact == nil && t.Dedot == nil {
			p.add("a fields transform needs add, add_env, rename, remove, redact or dedot", at("type"))
		}
		for k := range t.Add {
			validatePath(p, k, at("add", k))
		}
		for k := range t.AddEnv {
			validatePath(p, k, at("add_env", k))
		}
		for from, to := range t.Rename {
			validatePath(p, from, at("rename", from))
			validatePath(p, to, at("rename", from))
		}
		for j, f := range t.Remove {
			validatePath(p, f, at("remove", j))
		}
		for j, r := range t.Redact {
			validatePath(p, r.Field, at("redact", j, "field"))
			if r.Pattern == "" {
				p.add("must be set", at("redact", j, "pattern"))
			}
			validatePattern(p, r.Pattern, at("redact", j, "pattern"))
		}
		for j, f := range t.Dedot {
			validatePath(p, f, at("dedot", j))
		}
		if t.DedotSeparator != "" && (strings.ContainsAny(t.DedotSeparator, `."\`) || len(t.DedotSeparator) > 1) {
			p.add("must be one character other than '.', '\"' and '\\', got %q", at("dedot_separator"), t.DedotSeparator)
		}
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
		if isFilter(t.Type) {
			if names[t.Name] {
				p.add("duplicate transform name %q", []any{"transforms", i, "name"}, t.Name)
			}
			names[t.Name] = true
		}
		if (t.Type == "drop" || t.Type == "keep") && t.Labels != "" && (!c.Kubernetes.Enabled || !c.Kubernetes.Labels) {
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
