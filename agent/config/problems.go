package config

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// problems collects validation errors, each located by its key path.
type problems struct {
	root *yaml.Node
	errs []error
	// lines are the errors' lines, for sorting them.
	lines []int
	// seen are the keys whose values checkTree refused.
	seen map[string]bool
	// warnings are valid settings that are likely wrong.
	warnings []string
	// offline: the files the config names are not read (ParseOffline).
	offline bool
}

func newProblems(root *yaml.Node) *problems {
	return &problems{root: root, seen: map[string]bool{}}
}

// warn notes a setting that is valid but likely wrong.
func (p *problems) warn(format string, path []any, args ...any) {
	p.warnings = append(p.warnings, lineError(keyPath(path), lineOf(p.root, path), fmt.Sprintf(format, args...)).Error())
}

func (p *problems) add(format string, path []any, args ...any) {
	key := keyPath(path)
	if p.seen[key] {
		return // its value was refused when decoded; the default stands in
	}
	p.note(key, lineOf(p.root, path), fmt.Sprintf(format, args...))
}

// keyPath writes a path as the operator reads it: inputs[0].paths.
func keyPath(path []any) string {
	parts := make([]string, 0, len(path))
	for _, k := range path {
		switch k := k.(type) {
		case int:
			if len(parts) == 0 {
				parts = append(parts, "["+strconv.Itoa(k)+"]")
			} else {
				parts[len(parts)-1] += "[" + strconv.Itoa(k) + "]"
			}
		default:
			parts = append(parts, fmt.Sprint(k))
		}
	}
	return strings.Join(parts, ".")
}

func (p *problems) note(key string, line int, msg string) {
	p.errs = append(p.errs, lineError(key, line, msg))
	p.lines = append(p.lines, line)
}

// err returns every problem, in the order of the file's lines.
func (p *problems) err() error {
	idx := make([]int, len(p.errs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return p.lines[idx[a]] < p.lines[idx[b]] })
	out := make([]error, len(idx))
	for i, j := range idx {
		out[i] = p.errs[j]
	}
	return errors.Join(out...)
}

func lineError(key string, line int, msg string) error {
	if key == "" {
		key = "the config"
	}
	if line > 0 {
		return fmt.Errorf("%s (line %d): %s", key, line, msg)
	}
	return fmt.Errorf("%s: %s", key, msg)
}

// lineOf finds the line of the deepest node of path that exists in the
// document, so a missing key points at its parent.
func lineOf(root *yaml.Node, path []any) int {
	n := root
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, k := range path {
		if n == nil {
			break
		}
		line = n.Line
		var next *yaml.Node
		switch k := k.(type) {
		case int:
			if n.Kind == yaml.SequenceNode && k < len(n.Content) {
				next = n.Content[k]
			}
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == k {
						line = n.Content[i].Line
						next = n.Content[i+1]
						break
					}
				}
			}
		}
		n = next
	}
	if n != nil {
		line = n.Line
	}
	return line
}
