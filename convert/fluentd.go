package convert

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// ParseFluentd reads a Fluentd config: <source>, <filter PATTERN> and
// <match PATTERN> directives holding "key value" lines and nested
// sections (<parse>, <buffer>, <regexp>, …), whose settings come as
// section.key. @include lines are kept as directives (convert notes them).
func ParseFluentd(raw []byte) (*Source, error) {
	if err := tooBig(raw); err != nil {
		return nil, err
	}
	src := &Source{Format: "Fluentd"}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 64<<10), maxInput)
	var cur *Plugin
	open := ""        // the directive cur is in: source, filter, match, system, worker
	var nest []string // open sections inside the directive
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(strings.TrimSuffix(sc.Text(), "\r"))
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "</"):
			name := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(line, "</"), ">"))
			switch {
			case len(nest) > 0:
				if nest[len(nest)-1] != name {
					return nil, fmt.Errorf("line %d: </%s> closes <%s>", n, name, nest[len(nest)-1])
				}
				nest = nest[:len(nest)-1]
			case cur != nil && open == name:
				cur, open = nil, ""
			case cur == nil && name == "label":
			default:
				return nil, fmt.Errorf("line %d: </%s> closes nothing open", n, name)
			}
		case strings.HasPrefix(line, "<"):
			if !strings.HasSuffix(line, ">") {
				return nil, fmt.Errorf("line %d: section header without >: %q", n, line)
			}
			name, arg := splitKV(strings.TrimSuffix(line[1:], ">"))
			name = strings.ToLower(name)
			if cur != nil {
				if len(nest) >= 8 {
					return nil, fmt.Errorf("line %d: sections nested deeper than 8", n)
				}
				nest = append(nest, name)
				if arg != "" {
					cur.Params = append(cur.Params, Param{Key: strings.Join(nest, ".") + ".@arg", Value: arg, Line: n})
				}
				continue
			}
			switch name {
			case "source", "filter", "match":
			case "label", "system", "worker":
				// Their directives are read as top-level ones.
				src.Plugins = append(src.Plugins, Plugin{Kind: "directive", Name: "<" + name + ">", Line: n, Params: []Param{{Key: "<" + name + ">", Value: arg, Line: n}}})
				if name != "label" {
					cur, open = &Plugin{Kind: name}, name // read, not kept
				}
				continue
			default:
				return nil, fmt.Errorf("line %d: unknown directive <%s>", n, name)
			}
			kind := map[string]string{"source": "input", "filter": "filter", "match": "output"}[name]
			src.Plugins = append(src.Plugins, Plugin{Kind: kind, Match: arg, Line: n})
			cur, open = &src.Plugins[len(src.Plugins)-1], name
		default:
			key, val := splitKV(line)
			if strings.HasPrefix(key, "@include") || cur == nil {
				if cur == nil && !strings.HasPrefix(key, "@") {
					return nil, fmt.Errorf("line %d: setting outside a directive: %q", n, line)
				}
				src.Plugins = append(src.Plugins, Plugin{Kind: "directive", Name: key, Line: n, Params: []Param{{Key: key, Value: val, Line: n}}})
				continue
			}
			val = rubyEnv(unquote(val))
			if len(nest) > 0 {
				key = strings.Join(nest, ".") + "." + key
			}
			if key == "@type" {
				cur.Name = strings.ToLower(val)
			}
			cur.Params = append(cur.Params, Param{Key: key, Value: val, Line: n})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if cur != nil {
		return nil, fmt.Errorf("<%s> is not closed", open)
	}
	return src, nil
}

// rubyEnvRef is Fluentd's embedded Ruby for an environment variable,
// with an optional default: #{ENV['NAME']}, #{ENV['NAME'] || 'x'},
// #{ENV['NAME'] || use_default}.
var rubyEnvRef = regexp.MustCompile(`#\{ENV\[['"]([A-Za-z_][A-Za-z0-9_]*)['"]\](\s*\|\|\s*(?:['"]([^'"]*)['"]|use_default|use_nil|nil|true|false|[0-9]+))?\s*\}`)

// rubyEnv turns Fluentd's environment references into sluice's ${VAR}
// and ${VAR:-default}; other embedded Ruby stays (and is noted where it
// is used).
func rubyEnv(v string) string {
	return rubyEnvRef.ReplaceAllStringFunc(v, func(m string) string {
		sub := rubyEnvRef.FindStringSubmatch(m)
		switch def := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(sub[2]), "||")); {
		case sub[2] == "":
			return "${" + sub[1] + "}"
		case sub[3] != "" || strings.HasPrefix(def, "'") || strings.HasPrefix(def, "\""):
			return "${" + sub[1] + ":-" + sub[3] + "}"
		case def == "use_default" || def == "use_nil" || def == "nil":
			return "${" + sub[1] + ":-}"
		default:
			return "${" + sub[1] + ":-" + def + "}"
		}
	})
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
		return v[1 : len(v)-1]
	}
	return v
}
