package config

import (
	"fmt"
	"reflect"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/sluicelog/sluice/parsers/regex"
)

// Transform is one entry of transforms: its type and that type's own
// settings, Spec, one Go type per transform type (transformTypes). Each
// entry is decoded into its type's struct, and checkTree reports a key
// that type does not have, by line.
//
// json, logfmt and regex are parsers: the first that succeeds on a line
// merges its fields; level normalises levels for every parser. drop,
// keep, throttle and fields work on the encoded documents, after the
// parsers (filters.go).
type Transform struct {
	Type string
	// Spec is *JSON, *Logfmt, *Regex, *Level, *Drop, *Keep, *Throttle or
	// *Fields, as Type says; nil for a type that does not exist.
	Spec TransformSpec
}

// NewTransform is the entry of spec, for a config built by hand (its
// regex and time layout compiled with Compile).
func NewTransform(spec TransformSpec) Transform {
	return Transform{Type: spec.transformType(), Spec: spec}
}

// TransformSpec is the settings of one transform type.
type TransformSpec interface{ transformType() string }

// ParserOptions are the keys every parser transform (json, logfmt, regex)
// takes.
type ParserOptions struct {
	Field        string `yaml:"field"`
	Target       string `yaml:"target"`
	KeepOriginal bool   `yaml:"keep_original"`
	// Time takes @timestamp from a parsed field; NormalizeLevel turns the
	// level keys into one lower-case level field (fields.go).
	Time           *TimeField `yaml:"time"`
	NormalizeLevel bool       `yaml:"normalize_level"`
}

// JSON parses the log line as a JSON object.
type JSON ParserOptions

// Logfmt parses the log line as key=value pairs.
type Logfmt ParserOptions

// Regex parses the log line with a pattern or a preset.
type Regex struct {
	ParserOptions `yaml:",inline"`
	// Exactly one of Pattern (Go regexp, named groups become fields) and
	// Preset (nginx, apache, klog, ...); Types maps group names to int,
	// float or bool.
	Pattern string            `yaml:"pattern"`
	Preset  string            `yaml:"preset"`
	Types   map[string]string `yaml:"types"`

	// Compiled is the compiled pattern or preset, set by Parse (or
	// Compile, for a config built by hand).
	Compiled *regex.Parser `yaml:"-"`
}

// Level normalises the level of every parser's records. It takes no keys.
type Level struct{}

// FilterOptions are the keys every filter transform (drop, keep,
// throttle, fields) takes: Name labels its counters (default
// <type>_<index>); Match limits it to some batches.
type FilterOptions struct {
	Name  string `yaml:"name"`
	Match *Match `yaml:"match"`
}

// Condition is what drop and keep test: field+pattern, namespaces and
// labels, all that are set.
type Condition struct {
	FilterOptions `yaml:",inline"`
	Field         string   `yaml:"field"`
	Pattern       string   `yaml:"pattern"`
	Namespaces    []string `yaml:"namespaces"`
	Labels        string   `yaml:"labels"`
}

// Drop drops the records where its condition holds.
type Drop Condition

// Keep drops the records where its condition does not hold.
type Keep Condition

// Throttle is a token bucket of Rate records/s and Burst per key.
type Throttle struct {
	FilterOptions   `yaml:",inline"`
	Rate            float64  `yaml:"rate"`
	Burst           int      `yaml:"burst"`
	Key             string   `yaml:"key"`
	Field           string   `yaml:"field"`
	SummaryInterval Duration `yaml:"summary_interval"`
	MaxKeys         int      `yaml:"max_keys"`
}

// Fields edits fields by dotted path.
type Fields struct {
	FilterOptions  `yaml:",inline"`
	Add            map[string]string `yaml:"add"`
	AddEnv         map[string]string `yaml:"add_env"`
	Rename         map[string]string `yaml:"rename"`
	Remove         []string          `yaml:"remove"`
	Redact         []Redact          `yaml:"redact"`
	Dedot          []string          `yaml:"dedot"`
	DedotSeparator string            `yaml:"dedot_separator"`
}

func (*JSON) transformType() string     { return "json" }
func (*Logfmt) transformType() string   { return "logfmt" }
func (*Regex) transformType() string    { return "regex" }
func (*Level) transformType() string    { return "level" }
func (*Drop) transformType() string     { return "drop" }
func (*Keep) transformType() string     { return "keep" }
func (*Throttle) transformType() string { return "throttle" }
func (*Fields) transformType() string   { return "fields" }

// transformTypes are the transform types, in the order messages list them.
var transformTypes = []TransformSpec{&JSON{}, &Logfmt{}, &Regex{}, &Level{}, &Drop{}, &Keep{}, &Throttle{}, &Fields{}}

// newSpec returns an empty spec of the type named typ, or nil.
func newSpec(typ string) TransformSpec {
	for _, s := range transformTypes {
		if s.transformType() == typ {
			return reflect.New(reflect.TypeOf(s).Elem()).Interface().(TransformSpec)
		}
	}
	return nil
}

// UnmarshalYAML decodes an entry into the struct of its type. checkTree
// has already taken out the keys that type does not have.
func (t *Transform) UnmarshalYAML(n *yaml.Node) error {
	t.Type = mapValue(n, "type")
	t.Spec = newSpec(t.Type)
	if t.Spec == nil {
		return nil // validateTransforms reports the type
	}
	return n.Decode(t.Spec)
}

// MarshalYAML writes the entry as it is read: type and the keys of its
// spec that are set (a key left out reads back as the same zero value; a
// nil list must not come back as an empty one).
func (t Transform) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.MappingNode}
	add := func(key string, v any) error {
		var val yaml.Node
		if err := val.Encode(v); err != nil {
			return fmt.Errorf("transform key %s: %w", key, err)
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key}, &val)
		return nil
	}
	if err := add("type", t.Type); err != nil {
		return nil, err
	}
	if t.Spec == nil {
		return n, nil
	}
	var walk func(v reflect.Value) error
	walk = func(v reflect.Value) error {
		for i := range v.NumField() {
			f := v.Type().Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			switch {
			case opts == "inline":
				if err := walk(v.Field(i)); err != nil {
					return err
				}
			case name == "" || name == "-" || v.Field(i).IsZero():
			default:
				if err := add(name, v.Field(i).Interface()); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return n, walk(reflect.ValueOf(t.Spec).Elem())
}

// Parser returns the options of a parser transform, or nil.
func (t Transform) Parser() *ParserOptions {
	switch s := t.Spec.(type) {
	case *JSON:
		return (*ParserOptions)(s)
	case *Logfmt:
		return (*ParserOptions)(s)
	case *Regex:
		return &s.ParserOptions
	}
	return nil
}

// Filter returns the name and match of a filter transform, or nil.
func (t Transform) Filter() *FilterOptions {
	switch s := t.Spec.(type) {
	case *Drop:
		return &s.FilterOptions
	case *Keep:
		return &s.FilterOptions
	case *Throttle:
		return &s.FilterOptions
	case *Fields:
		return &s.FilterOptions
	}
	return nil
}

// transformFields are the keys of every transform type, each with the
// types that have it, for checkTree's messages ("only for ...").
var transformFields = sync.OnceValue(func() map[string]field {
	out := map[string]field{"type": {typ: reflect.TypeFor[string]()}}
	for _, s := range transformTypes {
		typ := s.transformType()
		for name, f := range fieldsOf(reflect.TypeOf(s).Elem()) {
			have, ok := out[name]
			if ok && have.typ != f.typ {
				panic(fmt.Sprintf("config: transform key %s has two Go types, %s and %s", name, have.typ, f.typ))
			}
			out[name] = field{typ: f.typ, types: append(have.types, typ)}
		}
	}
	return out
})

func transformTypeNames() []string {
	names := make([]string, len(transformTypes))
	for i, s := range transformTypes {
		names[i] = s.transformType()
	}
	return names
}

// Compile compiles a regex transform's pattern or preset into Compiled:
// Parse does it; a config built by hand calls it.
func (r *Regex) Compile() error {
	var err error
	switch {
	case (r.Pattern == "") == (r.Preset == ""):
		return fmt.Errorf("exactly one of pattern and preset must be set")
	case r.Preset != "":
		r.Compiled, err = regex.Preset(r.Preset)
	default:
		r.Compiled, err = regex.New(r.Pattern, r.Types)
	}
	return err
}

// validateTransforms checks each transform by its type and compiles its
// patterns and layouts.
func validateTransforms(p *problems, c *Config) {
	validateOrder(p, c.Transforms)
	for i, t := range c.Transforms {
		at := func(k ...any) []any { return append([]any{"transforms", i}, k...) }
		if t.Spec == nil {
			if t.Type == "" {
				p.add("must be set (json, logfmt, regex or level; or drop, keep, throttle or fields)", at("type"))
			} else {
				p.add("unknown transform type %q (want json, logfmt, regex or level; or drop, keep, throttle or fields)", at("type"), t.Type)
			}
			continue
		}
		if t.Filter() != nil {
			validateFilter(p, c, i)
			continue
		}
		o := t.Parser()
		if o == nil {
			continue // level
		}
		if o.Field != "" && o.Field != "log" {
			p.add("must be log (a parser reads the line as read, before any field exists), got %q", at("field"), o.Field)
		}
		validateTime(p, o.Time, at("time"))
		r, ok := t.Spec.(*Regex)
		if !ok {
			continue
		}
		switch {
		case (r.Pattern == "") == (r.Preset == ""):
			p.add("exactly one of pattern and preset must be set", at("type"))
		case r.Preset != "" && r.Types != nil:
			p.add("only with pattern", at("types"))
		default:
			if err := r.Compile(); err != nil && r.Preset != "" {
				p.add("%v", at("preset"), err)
			} else if err != nil {
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
		case t.Filter() != nil:
			if firstFilter < 0 {
				firstFilter = i
			}
			continue
		case t.Parser() != nil:
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
