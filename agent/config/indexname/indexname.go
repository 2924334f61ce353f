// Package indexname reads the index key of an elasticsearch output: literal
// text, {field} references and the strftime verbs %Y %m %d %H (UTC), %% a
// literal %. config checks it (with the key's line) and the output compiles
// it; both read it here, so they cannot disagree.
package indexname

import (
	"fmt"
	"strings"
)

// Kind is what a segment of a name stands for.
type Kind uint8

// The kinds of segment.
const (
	Literal Kind = iota
	Namespace
	Pod
	Container
	ContainerID
	Stream
	Input
	Year
	Month
	Day
	Hour
)

// Fields are the {field} names a template may use, in the order messages
// list them.
var Fields = []struct {
	Name string
	Kind Kind
}{
	{"kubernetes.namespace_name", Namespace},
	{"kubernetes.pod_name", Pod},
	{"kubernetes.container_name", Container},
	{"kubernetes.container_id", ContainerID},
	{"stream", Stream},
	{"input", Input},
}

// Segment is a run of literal text (Lit, with %% read as %) or one field
// or date verb.
type Segment struct {
	Kind Kind
	Lit  string
}

// Parse splits a template into its segments. An error says what is wrong
// and where, without quoting the template (the caller names the key).
func Parse(tmpl string) ([]Segment, error) {
	if tmpl == "" {
		return nil, fmt.Errorf("must not be empty")
	}
	var segs []Segment
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			segs = append(segs, Segment{Kind: Literal, Lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(tmpl); i++ {
		switch c := tmpl[i]; c {
		case '{':
			end := strings.IndexByte(tmpl[i+1:], '}')
			if end < 0 {
				return nil, fmt.Errorf("unterminated { at byte %d", i)
			}
			kind, ok := field(tmpl[i+1 : i+1+end])
			if !ok {
				return nil, fmt.Errorf("unknown field {%s} (known: %s)", tmpl[i+1:i+1+end], known())
			}
			flush()
			segs = append(segs, Segment{Kind: kind})
			i += 1 + end
		case '%':
			if i+1 >= len(tmpl) {
				return nil, fmt.Errorf("lone %% at the end (write %%%% for a literal %%)")
			}
			i++
			kind, ok := verb(tmpl[i])
			if !ok {
				return nil, fmt.Errorf("unknown date verb %%%c (known: %%Y %%m %%d %%H)", tmpl[i])
			}
			if kind == Literal {
				lit.WriteByte('%')
				continue
			}
			flush()
			segs = append(segs, Segment{Kind: kind})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return segs, nil
}

func field(name string) (Kind, bool) {
	for _, f := range Fields {
		if f.Name == name {
			return f.Kind, true
		}
	}
	return 0, false
}

func known() string {
	names := make([]string, len(Fields))
	for i, f := range Fields {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

// verb is the kind of %c; Literal for %%.
func verb(c byte) (Kind, bool) {
	switch c {
	case '%':
		return Literal, true
	case 'Y':
		return Year, true
	case 'm':
		return Month, true
	case 'd':
		return Day, true
	case 'H':
		return Hour, true
	}
	return 0, false
}
