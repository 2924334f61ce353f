package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// checkTree walks the document against the config types before it is
// decoded and reports, by key path and line, each key the section does not
// have and each value of the wrong kind, in the operator's words (yaml.v3
// names Go types and stops at the first custom error). A bad key is taken
// out and a bad value set to null, so the decode that follows succeeds and
// validation still reports every other problem of the file.
//
// A field tagged `for:"syslog"` (a list of types) belongs to those types
// of its section only; a field without the tag belongs to every type.
func checkTree(n *yaml.Node, t reflect.Type, path []any, p *problems) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.DocumentNode {
		for _, c := range n.Content {
			checkTree(c, t, path, p)
		}
		return
	}
	if n.Kind == yaml.AliasNode || isNull(n) {
		return
	}
	if scalarType(t) {
		checkScalar(n, t, path, p)
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			p.bad(path, n, "must be a map of keys, got %s", describe(n))
			return
		}
		checkStruct(n, t, path, p)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			p.bad(path, n, "must be a list, got %s", describe(n))
			return
		}
		for i, c := range n.Content {
			checkTree(c, t.Elem(), append(slices.Clip(path), i), p)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			p.bad(path, n, "must be a map, got %s", describe(n))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			checkTree(n.Content[i+1], t.Elem(), append(slices.Clip(path), n.Content[i].Value), p)
		}
	}
}

// field is one key of a section.
type field struct {
	typ   reflect.Type
	types []string // the section types it belongs to; nil = all
}

func fieldsOf(t reflect.Type) map[string]field {
	out := map[string]field{}
	isOutput := t == reflect.TypeFor[Output]()
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" && opts == "inline" && f.Type.Kind() == reflect.Struct {
			// An inline struct's keys are the section's own
			// (Output.ESConventions: elasticsearch keys; Output.Kafka and
			// Output.OTLP: the types of their for tag).
			for k, v := range fieldsOf(f.Type) {
				if isOutput {
					v.types = []string{"elasticsearch"}
					if tag := f.Tag.Get("for"); tag != "" {
						v.types = strings.Fields(tag) // Output.Kafka
					}
				}
				out[k] = v
			}
			continue
		}
		if name == "" || name == "-" {
			continue
		}
		var types []string
		if tag := f.Tag.Get("for"); tag != "" {
			types = strings.Fields(tag)
		}
		if isOutput && types == nil && !slices.Contains([]string{"name", "type", "match"}, name) {
			// Every output key but these is an elasticsearch output's (the
			// console output takes none), keys added later included.
			types = []string{"elasticsearch"}
		}
		out[name] = field{typ: f.Type, types: types}
	}
	return out
}

func checkStruct(n *yaml.Node, t reflect.Type, path []any, p *problems) {
	fields := fieldsOf(t)
	if t == reflect.TypeFor[Transform]() {
		// Each type's keys are its own struct's (transform.go).
		fields = transformFields()
	}
	typ := mapValue(n, "type")
	if !slices.Contains(sectionTypes[t], typ) {
		typ = "" // an unknown type is validation's to report
	}
	kept := n.Content[:0]
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		at := append(slices.Clip(path), k.Value)
		f, ok := fields[k.Value]
		switch {
		case !ok:
			if s := suggest(k.Value, fields, typ, "%s"); s != "" {
				// The key meant is missing only because of the typo.
				p.seen[keyPath(append(slices.Clip(path), s))] = true
			}
			p.bad(at, k, "%s", unknownKey(k.Value, fields, typ, section(t)))
			continue
		case typ != "" && f.types != nil && !slices.Contains(f.types, typ):
			p.bad(at, k, "not a key of %s %s (only for %s)%s", article(typ), section(t),
				orList(f.types), suggest(k.Value, fields, typ, "; did you mean `%s`?"))
			continue
		}
		checkTree(v, f.typ, at, p)
		kept = append(kept, k, v)
	}
	n.Content = kept
}

// sectionTypes are the types of each section whose keys differ by type.
var sectionTypes = map[reflect.Type][]string{
	reflect.TypeFor[Input]():     {"container_logs", "syslog"},
	reflect.TypeFor[Output]():    {"elasticsearch", "kafka", "console", "otlp"},
	reflect.TypeFor[Transform](): transformTypeNames(),
}

// section names what a struct is, for messages.
func section(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[Input]():
		return "input"
	case reflect.TypeFor[Output]():
		return "output"
	case reflect.TypeFor[Transform]():
		return "transform"
	}
	return "section"
}

func unknownKey(key string, fields map[string]field, typ, sect string) string {
	if s := suggest(key, fields, typ, "did you mean `%s`?"); s != "" {
		return "unknown key; " + s
	}
	known := make([]string, 0, len(fields))
	for name, f := range fields {
		if typ == "" || f.types == nil || slices.Contains(f.types, typ) {
			known = append(known, name)
		}
	}
	slices.Sort(known)
	what := "known"
	if typ != "" {
		what = "keys of " + article(typ) + " " + sect
	}
	return "unknown key (" + what + ": " + strings.Join(known, ", ") + ")"
}

// suggest returns format filled with the key of the section (of type typ)
// closest to key in spelling, or "" when none is close.
func suggest(key string, fields map[string]field, typ, format string) string {
	best, bestD := "", 0
	for name, f := range fields {
		if typ != "" && f.types != nil && !slices.Contains(f.types, typ) {
			continue
		}
		d := distance(key, name)
		if limit := max(1, min(len(key), len(name))/3); d <= limit && (best == "" || d < bestD || d == bestD && name < best) {
			best, bestD = name, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(format, best)
}

// distance is the edit distance of a and b, a swap of two neighbouring
// letters counting as one edit (optimal string alignment).
func distance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

func orList(s []string) string {
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

func mapValue(n *yaml.Node, key string) string {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key && n.Content[i+1].Kind == yaml.ScalarNode {
			return n.Content[i+1].Value
		}
	}
	return ""
}

var (
	byteSizeType = reflect.TypeFor[ByteSize]()
	durationType = reflect.TypeFor[Duration]()
	maxLagType   = reflect.TypeFor[MaxLag]()
)

func scalarType(t reflect.Type) bool {
	if t == maxLagType {
		return true // a struct written as one value: 64Mi or 5m
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int64, reflect.Float64:
		return true
	}
	return false
}

// checkScalar decodes n alone into a value of type t and turns a failure
// into a message that says what is expected.
func checkScalar(n *yaml.Node, t reflect.Type, path []any, p *problems) {
	if n.Kind != yaml.ScalarNode {
		p.bad(path, n, "must be a single value, got %s", describe(n))
		return
	}
	if t.Kind() == reflect.String {
		return
	}
	err := n.Decode(reflect.New(t).Interface())
	if err == nil {
		return
	}
	switch {
	case t == byteSizeType:
		_, err = ParseByteSize(n.Value)
		p.bad(path, n, "%v", err)
	case t == durationType:
		p.bad(path, n, "must be a duration such as 250ms, 1s or 5m, got %q", n.Value)
	case t.Kind() == reflect.Bool:
		p.bad(path, n, "must be true or false, got %q", n.Value)
	case t.Kind() == reflect.Float64:
		p.bad(path, n, "must be a number, got %q", n.Value)
	default:
		p.bad(path, n, "must be a whole number, got %q", n.Value)
	}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a map"
	}
	return fmt.Sprintf("%q", n.Value)
}

// bad reports a problem at a node, and sets the node to null so the decode
// leaves the key at its default.
func (p *problems) bad(path []any, n *yaml.Node, format string, args ...any) {
	key := keyPath(path)
	p.seen[key] = true
	p.note(key, n.Line, fmt.Sprintf(format, args...))
	*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
}

func article(word string) string {
	if strings.ContainsRune("aeiou", rune(word[0])) {
		return "an " + word
	}
	return "a " + word
}
