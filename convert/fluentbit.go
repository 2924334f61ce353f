package convert

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// ParseFluentBit reads a Fluent Bit config in the classic form: [SECTION]
// headers, then "Key Value" lines, indented; # comments; @INCLUDE and
// @SET are kept as settings of their own (convert notes them).
func ParseFluentBit(raw []byte) (*Source, error) {
	if err := tooBig(raw); err != nil {
		return nil, err
	}
	src := &Source{Format: "Fluent Bit"}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 64<<10), maxInput)
	var cur *Plugin
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(strings.TrimSuffix(sc.Text(), "\r"))
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "["):
			end := strings.IndexByte(line, ']')
			if end < 0 {
				return nil, fmt.Errorf("line %d: section header without ]: %q", n, line)
			}
			kind := strings.ToLower(strings.TrimSpace(line[1:end]))
			switch kind {
			case "service", "input", "filter", "output", "parser", "multiline_parser", "upstream", "node", "plugins", "stream_task":
			default:
				return nil, fmt.Errorf("line %d: unknown section [%s]", n, line[1:end])
			}
			src.Plugins = append(src.Plugins, Plugin{Kind: kind, Line: n})
			cur = &src.Plugins[len(src.Plugins)-1]
		case strings.HasPrefix(line, "@"):
			key, val := splitKV(line)
			src.Plugins = append(src.Plugins, Plugin{Kind: "directive", Name: strings.ToLower(key), Line: n, Params: []Param{{Key: key, Value: val, Line: n}}})
			cur = nil
		default:
			if cur == nil {
				return nil, fmt.Errorf("line %d: setting outside a section: %q", n, line)
			}
			key, val := splitKV(line)
			cur.add(key, val, n)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	return src, nil
}

// add sets a setting; name and match are the plugin's own.
func (p *Plugin) add(key, val string, line int) {
	switch strings.ToLower(key) {
	case "name":
		p.Name = strings.ToLower(val)
	case "match", "match_regex":
		p.Match = val
	}
	p.Params = append(p.Params, Param{Key: key, Value: val, Line: line})
}

func splitKV(line string) (key, val string) {
	i := strings.IndexAny(line, " \t")
	if i < 0 {
		return line, ""
	}
	return line[:i], strings.TrimSpace(line[i:])
}

// ParseFluentBitYAML reads a Fluent Bit config in the YAML form:
// service, pipeline.inputs, pipeline.filters and pipeline.outputs (and
// parsers), each a list of maps with a name.
func ParseFluentBitYAML(raw []byte) (*Source, error) {
	if err := tooBig(raw); err != nil {
		return nil, err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		return nil, fmt.Errorf("yaml: %w", err)
	}
	src := &Source{Format: "Fluent Bit"}
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return src, nil
	}
	top := root.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: the config is not a map", top.Line)
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		switch strings.ToLower(k.Value) {
		case "service":
			p := Plugin{Kind: "service", Line: k.Line}
			if err := p.addMap(v, ""); err != nil {
				return nil, err
			}
			src.Plugins = append(src.Plugins, p)
		case "pipeline":
			if v.Kind != yaml.MappingNode {
				return nil, fmt.Errorf("line %d: pipeline is not a map", v.Line)
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				kind := strings.TrimSuffix(strings.ToLower(v.Content[j].Value), "s")
				if err := addList(src, kind, v.Content[j+1]); err != nil {
					return nil, err
				}
			}
		case "parsers", "multiline_parsers":
			if err := addList(src, strings.TrimSuffix(strings.ToLower(k.Value), "s"), v); err != nil {
				return nil, err
			}
		default:
			src.Plugins = append(src.Plugins, Plugin{Kind: "directive", Name: strings.ToLower(k.Value), Line: k.Line, Params: []Param{{Key: k.Value, Line: k.Line}}})
		}
	}
	return src, nil
}

func addList(src *Source, kind string, list *yaml.Node) error {
	if list.Kind != yaml.SequenceNode {
		return fmt.Errorf("line %d: %ss is not a list", list.Line, kind)
	}
	for _, item := range list.Content {
		p := Plugin{Kind: kind, Line: item.Line}
		if err := p.addMap(item, ""); err != nil {
			return err
		}
		src.Plugins = append(src.Plugins, p)
	}
	return nil
}

// addMap adds a map's scalars as settings; a list value adds the key once
// per item (as classic repeats it), a nested map adds prefix.key.
func (p *Plugin) addMap(m *yaml.Node, prefix string) error {
	if m.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: want a map", m.Line)
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		key := prefix + k.Value
		switch v.Kind {
		case yaml.ScalarNode:
			p.add(key, v.Value, k.Line)
		case yaml.SequenceNode:
			for _, e := range v.Content {
				if e.Kind == yaml.ScalarNode {
					p.add(key, e.Value, e.Line)
				}
			}
		case yaml.MappingNode:
			if err := p.addMap(v, key+"."); err != nil {
				return err
			}
		}
	}
	return nil
}
