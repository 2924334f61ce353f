package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Environment references (${VAR}, ${VAR:-default}, and $$ for a literal $)
// are replaced inside parsed scalar values, never in the YAML text, so a
// value's bytes arrive as they are and can never change the document's
// structure (a password starting with '*', '!' or '&', holding " #", a
// comma, a quote or a newline is that password, nothing else).
//
// The braces of ${…} are YAML flow indicators, so before parsing each
// reference is swapped for a token of letters and digits, which YAML reads
// as part of a plain or quoted scalar wherever it stands; after parsing,
// each scalar's tokens are replaced by the values. A reference in a
// comment is never looked up.

// ref is one ${…} (or $$) found in the text.
type ref struct {
	expr   string // the text between the braces; "" for $$
	name   string
	def    string
	hasDef bool
	err    string // a bad reference, reported only if a scalar holds it
}

// source returns how the reference was written.
func (r ref) source() string {
	if r.expr == "" && r.err == "" {
		return "$$"
	}
	return "${" + r.expr + "}"
}

// envText is the YAML text with references swapped for tokens.
type envText struct {
	text   []byte
	prefix string // every token is prefix + index + "x"
	refs   []ref
}

// tokenize swaps each reference in src for a token. A "${" with no "}" on
// its line stays as it is: it is an error only inside a scalar.
func tokenize(src []byte) envText {
	e := envText{prefix: tokenPrefix(src)}
	var out strings.Builder
	out.Grow(len(src))
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c != '$' || i+1 >= len(src) || (src[i+1] != '$' && src[i+1] != '{') {
			out.WriteByte(c)
			continue
		}
		if src[i+1] == '$' {
			e.add(&out, ref{})
			i++
			continue
		}
		end := strings.IndexAny(string(src[i+2:]), "}\n")
		if end < 0 || src[i+2+end] != '}' {
			out.WriteByte(c)
			continue
		}
		e.add(&out, parseRef(string(src[i+2:i+2+end])))
		i += 2 + end
	}
	e.text = []byte(out.String())
	return e
}

func (e *envText) add(out *strings.Builder, r ref) {
	out.WriteString(e.prefix)
	out.WriteString(strconv.Itoa(len(e.refs)))
	out.WriteByte('x')
	e.refs = append(e.refs, r)
}

func parseRef(expr string) ref {
	r := ref{expr: expr, name: expr}
	if name, def, ok := strings.Cut(expr, ":-"); ok {
		r.name, r.def, r.hasDef = name, def, true
	}
	if !validName(r.name) {
		r.err = fmt.Sprintf("bad variable name %q in ${%s}", r.name, expr)
	}
	return r
}

// tokenPrefix returns a random prefix that src does not contain, so no
// text of the file is taken for a token.
func tokenPrefix(src []byte) string {
	for {
		var b [8]byte
		_, _ = rand.Read(b[:])
		p := "sluiceenv" + hex.EncodeToString(b[:]) + "x"
		if !strings.Contains(string(src), p) {
			return p
		}
	}
}

// expansion records what went into each expanded scalar, so that error
// messages can show how a value was written instead of the value.
type expansion struct {
	value, source string
}

// expandTree replaces the tokens inside every scalar of the tree (keys
// too) with their values. Plain scalars are typed again from their new
// value (so "${WORKERS}" can be an int), except that a value YAML would
// read as null stays the string it is.
func (e *envText) expandTree(n *yaml.Node, lookup func(string) (string, bool), done *[]expansion) error {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		return e.expandScalar(n, lookup, done)
	}
	var errs []error
	for _, c := range n.Content {
		if err := e.expandTree(c, lookup, done); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (e *envText) expandScalar(n *yaml.Node, lookup func(string) (string, bool), done *[]expansion) error {
	if strings.Contains(n.Value, "${") {
		return fmt.Errorf("line %d: unterminated ${ (a reference is ${NAME} on one line; write $${ for a literal ${)", n.Line)
	}
	if !strings.Contains(n.Value, e.prefix) {
		return nil
	}
	var val, src strings.Builder
	rest := n.Value
	for {
		i := strings.Index(rest, e.prefix)
		if i < 0 {
			break
		}
		val.WriteString(rest[:i])
		src.WriteString(rest[:i])
		rest = rest[i+len(e.prefix):]
		j := strings.IndexByte(rest, 'x')
		k, err := strconv.Atoi(rest[:max(j, 0)])
		if j < 0 || err != nil || k >= len(e.refs) {
			return fmt.Errorf("BUG: line %d: broken environment token", n.Line)
		}
		rest = rest[j+1:]
		r := e.refs[k]
		src.WriteString(r.source())
		v, err := resolveRef(r, lookup)
		if err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		val.WriteString(v)
	}
	val.WriteString(rest)
	src.WriteString(rest)
	n.Value = val.String()
	*done = append(*done, expansion{value: n.Value, source: src.String()})
	if n.Style == 0 { // plain and untagged: type it again
		n.Tag = ""
		if n.Value != "" && n.ShortTag() == "!!null" {
			n.Tag = "!!str"
		}
	}
	return nil
}

func resolveRef(r ref, lookup func(string) (string, bool)) (string, error) {
	if r.err != "" {
		return "", fmt.Errorf("%s", r.err)
	}
	if r.expr == "" {
		return "$", nil
	}
	v, ok := lookup(r.name)
	switch {
	case ok && (v != "" || !r.hasDef):
		return v, nil
	case r.hasDef:
		return r.def, nil
	}
	return "", fmt.Errorf("environment variable %s is not set (write ${%s:-default} to allow that)", r.name, r.name)
}

// restore writes the references back into a message about the tokenized
// text (a YAML syntax error may quote a piece of it).
func (e *envText) restore(msg string) string {
	if !strings.Contains(msg, e.prefix) {
		return msg
	}
	for k := len(e.refs) - 1; k >= 0; k-- { // 12 before 1
		msg = strings.ReplaceAll(msg, e.prefix+strconv.Itoa(k)+"x", e.refs[k].source())
	}
	return msg
}

// hideValues replaces, in a message, each quoted expanded value with how it
// was written (`${ES_PASSWORD}`), so no message carries what came from the
// environment. yaml.v3 quotes values in backticks, cut to 7 bytes and "..."
// past 10; our own messages use %q.
func hideValues(msg string, done []expansion) string {
	for _, x := range done {
		if x.value == "" {
			continue
		}
		short := x.value
		if len(short) > 10 {
			short = short[:7] + "..."
		}
		msg = strings.ReplaceAll(msg, "`"+short+"`", "`"+x.source+"`")
		msg = strings.ReplaceAll(msg, strconv.Quote(x.value), strconv.Quote(x.source))
	}
	return msg
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		ok := c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (i > 0 && c >= '0' && c <= '9')
		if !ok {
			return false
		}
	}
	return true
}
