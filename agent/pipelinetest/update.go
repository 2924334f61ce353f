package pipelinetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"

	"gopkg.in/yaml.v3"
)

// setExpect replaces case i's expectations in the file's YAML with what
// res holds: every document whole, its index and its _id (when it is the
// same on every run), and the counts when the case has them.
func (f *File) setExpect(i int, res *Result) {
	type golden struct {
		Output string `yaml:"output"`
		Index  string `yaml:"index,omitempty"`
		ID     string `yaml:"id,omitempty"`
		Doc    any    `yaml:"doc"`
	}
	exp := []golden{}
	for _, d := range res.Docs {
		e := golden{Output: d.Output, Index: d.Index}
		if d.StableID {
			e.ID = d.ID
		}
		if v, err := decode(d.Body); err == nil {
			e.Doc = plain(v)
		}
		exp = append(exp, e)
	}
	c := caseNode(&f.node, i)
	if c == nil {
		return
	}
	setKey(c, "expect", exp)
	f.Cases[i].Counts = nil
	if get(c, "counts") != nil {
		setKey(c, "counts", map[string]int64{
			"dropped": res.Counts.Dropped, "throttled": res.Counts.Throttled,
			"excluded": res.Counts.Excluded, "unrouted": res.Counts.Unrouted, "not_read": res.Counts.NotRead,
		})
	}
}

// write saves the file's YAML.
func (f *File) write() error {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&f.node); err != nil {
		return fmt.Errorf("encode %s: %w", f.path, err)
	}
	if err := os.WriteFile(f.path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	return nil
}

// plain turns decoded JSON numbers into YAML numbers.
func plain(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return n
		}
		if f, err := strconv.ParseFloat(string(x), 64); err == nil {
			return f
		}
		return string(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = plain(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	}
	return v
}

// caseNode is the mapping of case i in the file's YAML.
func caseNode(doc *yaml.Node, i int) *yaml.Node {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	cases := get(doc.Content[0], "cases")
	if cases == nil || cases.Kind != yaml.SequenceNode || i >= len(cases.Content) {
		return nil
	}
	return cases.Content[i]
}

// get is the value of key in mapping m.
func get(m *yaml.Node, key string) *yaml.Node {
	for j := 0; j+1 < len(m.Content); j += 2 {
		if m.Content[j].Value == key {
			return m.Content[j+1]
		}
	}
	return nil
}

// setKey sets key in mapping m to v, appending it when missing.
func setKey(m *yaml.Node, key string, v any) {
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		return
	}
	for j := 0; j+1 < len(m.Content); j += 2 {
		if m.Content[j].Value == key {
			m.Content[j+1] = &n
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, &n)
}
