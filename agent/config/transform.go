package config

import (
	"github.com/sluicelog/sluice/parsers/regex"
)

// Transform is one step applied to every record. json, logfmt and regex
// are parsers: the first that succeeds on a line merges its fields.
type Transform struct {
	Type         string `yaml:"type"`
	Field        string `yaml:"field" for:"json logfmt regex drop keep throttle"`
	Target       string `yaml:"target" for:"json logfmt regex"`
	KeepOriginal bool   `yaml:"keep_original" for:"json logfmt regex"`

	// regex: exactly one of Pattern (Go regexp, named groups become
	// fields) and Preset (nginx, apache, klog); Types maps group names to
	// int, float or bool.
	Pattern string            `yaml:"pattern" for:"regex drop keep"`
	Preset  string            `yaml:"preset" for:"regex"`
	Types   map[string]string `yaml:"types" for:"regex"`

	// Regex is the compiled pattern or preset, set by Parse.
	Regex *regex.Parser `yaml:"-"`

	// Time takes @timestamp from a parsed field; NormalizeLevel turns the
	// level keys into one lower-case level field (fields.go). A transform
	// of type level normalises levels for every parser.
	Time           *TimeField `yaml:"time" for:"json logfmt regex"`
	NormalizeLevel bool       `yaml:"normalize_level" for:"json logfmt regex"`

	// drop, keep, throttle and fields work on the encoded documents, after
	// the parsers (filters.go). Name labels their counters (default
	// <type>_<index>); Match limits them to some batches. drop and keep
	// test field+pattern, namespaces and labels (all that are set).
	Name       string   `yaml:"name" for:"drop keep throttle fields"`
	Match      *Match   `yaml:"match" for:"drop keep throttle fields"`
	Namespaces []string `yaml:"namespaces" for:"drop keep"`
	Labels     string   `yaml:"labels" for:"drop keep"`
	// throttle: a token bucket of rate records/s and burst per key.
	Rate            float64  `yaml:"rate" for:"throttle"`
	Burst           int      `yaml:"burst" for:"throttle"`
	Key             string   `yaml:"key" for:"throttle"`
	SummaryInterval Duration `yaml:"summary_interval" for:"throttle"`
	MaxKeys         int      `yaml:"max_keys" for:"throttle"`
	// fields: edits by dotted path.
	Add            map[string]string `yaml:"add" for:"fields"`
	AddEnv         map[string]string `yaml:"add_env" for:"fields"`
	Rename         map[string]string `yaml:"rename" for:"fields"`
	Remove         []string          `yaml:"remove" for:"fields"`
	Redact         []Redact          `yaml:"redact" for:"fields"`
	Dedot          []string          `yaml:"dedot" for:"fields"`
	DedotSeparator string            `yaml:"dedot_separator" for:"fields"`
}

// validateTransforms checks each transform by its type and compiles its
// patterns and layouts.
func validateTransforms(p *problems, c *Config) {
	validateOrder(p, c.Transforms)
	for i, t := range c.Transforms {
		at := func(k string) []any { return []any{"transforms", i, k} }
		if isFilter(t.Type) {
			validateFilter(p, c, i)
			continue
		}
		switch t.Type {
		case "json", "logfmt", "regex":
			if t.Field != "" && t.Field != "log" {
				p.add("only the log field can be parsed for now, got %q", at("field"), t.Field)
			}
		case "level":
		default:
			p.add("unknown transform type %q (want json, logfmt, regex or level; or drop, keep, throttle or fields)", at("type"), t.Type)
		}
		validateTransformFields(p, &c.Transforms[i], at)
		if t.Type != "regex" {
			for _, k := range []struct {
				key string
				set bool
			}{{"pattern", t.Pattern != ""}, {"preset", t.Preset != ""}, {"types", t.Types != nil}} {
				if k.set {
					p.add("only for type regex", at(k.key))
				}
			}
			continue
		}
		var err error
		switch {
		case (t.Pattern == "") == (t.Preset == ""):
			p.add("exactly one of pattern and preset must be set", at("type"))
		case t.Preset != "":
			if t.Types != nil {
				p.add("only with pattern", at("types"))
			} else if c.Transforms[i].Regex, err = regex.Preset(t.Preset); err != nil {
				p.add("%v", at("preset"), err)
			}
		default:
			if c.Transforms[i].Regex, err = regex.New(t.Pattern, t.Types); err != nil {
				p.add("%v", at("pattern"), err)
			}
		}
	}
}

// validateOrder keeps the list in the order the transforms run: the
// parsers (json, logfmt, regex; the first that parses a line wins) and
// level on the raw line, then drop, keep, throttle and fields on the
// documents. A transform that could never run is an error too.
func validateOrder(p *problems, ts []Transform) {
	firstFilter, lastParser := -1, -1
	once := map[string]int{}
	for i, t := range ts {
		at := []any{"transforms", i, "type"}
		switch {
		case isFilter(t.Type):
			if firstFilter < 0 {
				firstFilter = i
			}
			continue
		case t.Type == "json" || t.Type == "logfmt" || t.Type == "regex":
			if j, ok := once[t.Type]; ok && t.Type != "regex" {
				p.add("a second %s transform never runs: transforms[%d] parses every line this one could", at, t.Type, j)
			}
			once[t.Type] = i
			lastParser = i
		case t.Type == "level":
			once["level"] = i
		default:
			continue
		}
		if firstFilter >= 0 {
			p.add("a %s transform must come before the drop, keep, throttle and fields transforms: it runs on the raw line, before them (move it above transforms[%d])", at, t.Type, firstFilter)
		}
	}
	if l, ok := once["level"]; ok && l < lastParser {
		p.add("a level transform must come after the parser transforms: it normalises what they parsed (move it below transforms[%d])", []any{"transforms", l, "type"}, lastParser)
	}
}
