package pipelinetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Check compares a case's result with its expectations and returns one
// line per difference, each naming the output, the document and the
// field; none when the case passes.
func Check(c *Case, r *Result) []string {
	var diffs []string
	byOutput := map[string][]Expect{}
	var order []string
	for _, e := range c.Expect {
		if _, ok := byOutput[e.Output]; !ok {
			order = append(order, e.Output)
		}
		byOutput[e.Output] = append(byOutput[e.Output], e)
	}
	for _, out := range order {
		if out == "" {
			diffs = append(diffs, "expect: an entry names no output")
			continue
		}
		want, got := byOutput[out], r.PerOutput(out)
		if len(got) != len(want) {
			diffs = append(diffs, fmt.Sprintf("output %s: got %d documents, want %d", out, len(got), len(want)))
		}
		for i := range min(len(got), len(want)) {
			for _, d := range checkDoc(want[i], got[i]) {
				diffs = append(diffs, fmt.Sprintf("output %s, document %d: %s", out, i+1, d))
			}
		}
		for i := len(want); i < len(got); i++ {
			diffs = append(diffs, fmt.Sprintf("output %s, document %d: not expected: %s", out, i+1, got[i].Body))
		}
	}
	names := make([]string, 0, len(c.Outputs))
	for n := range c.Outputs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if got := len(r.PerOutput(n)); got != c.Outputs[n] {
			diffs = append(diffs, fmt.Sprintf("output %s: got %d documents, want %d", n, got, c.Outputs[n]))
		}
	}
	if w := c.Counts; w != nil {
		g := r.Counts
		for _, x := range []struct {
			name      string
			got, want int64
		}{{"dropped", g.Dropped, w.Dropped}, {"throttled", g.Throttled, w.Throttled}, {"excluded", g.Excluded, w.Excluded}, {"unrouted", g.Unrouted, w.Unrouted}, {"not_read", g.NotRead, w.NotRead}} {
			if x.got != x.want {
				diffs = append(diffs, fmt.Sprintf("counts.%s: got %d, want %d", x.name, x.got, x.want))
			}
		}
	}
	return diffs
}

// checkDoc compares one document with its expectation.
func checkDoc(e Expect, d Doc) []string {
	var diffs []string
	if e.Index != "" && e.Index != d.Index {
		diffs = append(diffs, fmt.Sprintf("index: got %q, want %q", d.Index, e.Index))
	}
	if e.ID != "" && e.ID != d.ID {
		diffs = append(diffs, fmt.Sprintf("_id: got %q, want %q", d.ID, e.ID))
	}
	got, err := decode(d.Body)
	if err != nil {
		return append(diffs, fmt.Sprintf("not a JSON document (%v): %s", err, d.Body))
	}
	if e.Doc != nil {
		want, err := normalize(e.Doc)
		if err != nil {
			return append(diffs, fmt.Sprintf("expect.doc: %v", err))
		}
		diffs = append(diffs, diffValues("", want, got)...)
	}
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if d := checkField(k, e.Fields[k], got); d != "" {
			diffs = append(diffs, d)
		}
	}
	return diffs
}

// checkField checks one field assertion; "" when it holds.
func checkField(path string, a Assert, doc any) string {
	v, found := lookup(doc, path)
	if a.Absent {
		if found {
			return fmt.Sprintf("%s: got %s, want it absent", path, show(v))
		}
		return ""
	}
	if !found {
		return fmt.Sprintf("%s: absent, want %s", path, describe(a))
	}
	if a.hasEquals {
		want, err := normalize(a.Equals)
		if err != nil {
			return fmt.Sprintf("%s: equals: %v", path, err)
		}
		if !equal(want, v) {
			return fmt.Sprintf("%s: got %s, want %s", path, show(v), show(want))
		}
	}
	if a.Matches != "" {
		re, err := regexp.Compile(a.Matches)
		if err != nil {
			return fmt.Sprintf("%s: matches: bad pattern: %v", path, err)
		}
		s, ok := v.(string)
		if !ok {
			s = show(v)
		}
		if !re.MatchString(s) {
			return fmt.Sprintf("%s: got %s, want a match of /%s/", path, show(v), a.Matches)
		}
	}
	if a.Type != "" && typeOf(v) != a.Type {
		return fmt.Sprintf("%s: got %s (a %s), want a %s", path, show(v), typeOf(v), a.Type)
	}
	return ""
}

func describe(a Assert) string {
	switch {
	case a.hasEquals:
		v, _ := normalize(a.Equals)
		return show(v)
	case a.Matches != "":
		return "a match of /" + a.Matches + "/"
	case a.Type != "":
		return "a " + a.Type
	}
	return "it present"
}

// lookup finds a field by dotted path. Keys may hold dots themselves
// (kubernetes.labels.app.kubernetes.io/name): at each level the longest
// key that the path starts with wins.
func lookup(doc any, path string) (any, bool) {
	if path == "" {
		return doc, true
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, false
	}
	if v, ok := m[path]; ok {
		return v, true
	}
	for i := len(path) - 1; i > 0; i-- {
		if path[i] != '.' {
			continue
		}
		if v, ok := m[path[:i]]; ok {
			if got, ok := lookup(v, path[i+1:]); ok {
				return got, true
			}
		}
	}
	return nil, false
}

// diffValues lists the differences between want and got, field by field.
func diffValues(path string, want, got any) []string {
	wm, wok := want.(map[string]any)
	gm, gok := got.(map[string]any)
	if wok && gok {
		keys := map[string]bool{}
		for k := range wm {
			keys[k] = true
		}
		for k := range gm {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		var diffs []string
		for _, k := range sorted {
			p := k
			if path != "" {
				p = path + "." + k
			}
			w, inW := wm[k]
			g, inG := gm[k]
			switch {
			case !inG:
				diffs = append(diffs, fmt.Sprintf("%s: absent, want %s", p, show(w)))
			case !inW:
				diffs = append(diffs, fmt.Sprintf("%s: got %s, not expected", p, show(g)))
			default:
				diffs = append(diffs, diffValues(p, w, g)...)
			}
		}
		return diffs
	}
	if equal(want, got) {
		return nil
	}
	if path == "" {
		path = "(document)"
	}
	return []string{fmt.Sprintf("%s: got %s, want %s", path, show(got), show(want))}
}

// decode reads a document, keeping numbers as written.
func decode(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// normalize turns a YAML value into what decode returns for its JSON.
func normalize(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return decode(b)
}

func equal(a, b any) bool {
	return canon(a) == canon(b)
}

// canon is a value's JSON, with numbers compared by value (1 and 1.0 are
// the same number).
func canon(v any) string {
	switch x := v.(type) {
	case json.Number:
		if f, err := strconv.ParseFloat(string(x), 64); err == nil {
			return strconv.FormatFloat(f, 'g', -1, 64)
		}
		return string(x)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var sb strings.Builder
		sb.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				sb.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			sb.Write(kb)
			sb.WriteByte(':')
			sb.WriteString(canon(x[k]))
		}
		sb.WriteByte('}')
		return sb.String()
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = canon(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// show prints a value as JSON, cut when long.
func show(v any) string {
	s := canon(v)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

func typeOf(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case json.Number, float64:
		return "number"
	case bool:
		return "bool"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}
