package convert

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Result is a converted config.
type Result struct {
	Config []byte   // the sluice config, notes first as comments
	Notes  []string // settings with no equivalent, and field differences
	cfg    *outConfig
}

// Convert turns a parsed config into a sluice config.
func Convert(src *Source, from string) (*Result, error) {
	c := &outConfig{NodeName: "${NODE_NAME}", DataDir: "/var/lib/sluice", facts: conversionFacts{mergeJSON: "-", added: map[string]string{}, renamed: map[string]string{}}}
	for i := range src.Plugins {
		p := &src.Plugins[i]
		switch src.Format {
		case "Fluentd":
			c.fluentd(p)
		default:
			c.fluentBit(p)
		}
	}
	if len(c.Inputs) == 0 {
		return nil, fmt.Errorf("%s: no tail or syslog input to convert", from)
	}
	if len(c.Outputs) == 0 {
		return nil, fmt.Errorf("%s: no elasticsearch or stdout output to convert", from)
	}
	if c.Kubernetes == nil {
		c.Kubernetes = &outKube{}
	}
	var body bytes.Buffer
	enc := yaml.NewEncoder(&body)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "# Converted from %s (%s) by sluice convert. Review the notes, then\n# run `sluice test` on the generated test file.\n#\n", printable(from), src.Format)
	notes := append([]string(nil), c.notes...)
	for _, f := range fieldNotes[src.Format] {
		notes = append(notes, "field names: "+f)
	}
	for i, n := range notes {
		notes[i] = printable(n)
		fmt.Fprintf(&out, "# NOTE %s\n", notes[i])
	}
	out.WriteString("\n")
	out.Write(body.Bytes())
	return &Result{Config: out.Bytes(), Notes: notes, cfg: c}, nil
}

func (c *outConfig) containers(paths, exclude []string, head bool, ml string) {
	in := outInput{Name: "containers", Type: "container_logs", Paths: paths, Exclude: exclude}
	if len(c.Inputs) > 0 {
		in.Name = fmt.Sprintf("containers_%d", len(c.Inputs))
	}
	if head {
		in.StartAt = "head"
	}
	if ml != "" {
		in.Multiline = &outML{Mode: ml}
	}
	c.Inputs = append(c.Inputs, in)
}

func (c *outConfig) syslogIn(tcp, udp, format string) {
	name := "syslog"
	for _, in := range c.Inputs {
		if in.Type == "syslog" {
			name = fmt.Sprintf("syslog_%d", len(c.Inputs))
		}
	}
	c.Inputs = append(c.Inputs, outInput{Name: name, Type: "syslog", TCP: tcp, UDP: udp, Format: format})
	c.facts.syslog = true
}

func (c *outConfig) kube(labels, annotations bool) {
	c.Kubernetes = &outKube{Enabled: true, Labels: labels, Annotations: annotations}
	c.facts.labels = labels
}

func (c *outConfig) json(target string, keep bool) {
	t := target
	k := keep
	c.Transforms = append(c.Transforms, outTransf{Type: "json", Field: "log", Target: &t, KeepOriginal: &k})
	if c.facts.mergeJSON == "-" {
		c.facts.mergeJSON = target
	}
}

func (c *outConfig) filter(kind, field, pattern string) {
	t := outTransf{Type: kind, Field: field, Pattern: pattern}
	c.Transforms = append(c.Transforms, t)
	c.facts.keepPattern = append(c.facts.keepPattern, t)
}

func (c *outConfig) fields(add, rename map[string]string, remove []string) {
	if len(add)+len(rename)+len(remove) == 0 {
		return
	}
	c.Transforms = append(c.Transforms, outTransf{Type: "fields", Add: add, Rename: rename, Remove: remove})
	for k, v := range add {
		c.facts.added[k] = v
	}
	for k, v := range rename {
		c.facts.renamed[k] = v
	}
	c.facts.removed = append(c.facts.removed, remove...)
}

// es adds an Elasticsearch output.
func (c *outConfig) es(url, user, password, index string) {
	name := "es"
	if len(c.facts.esOutputs) > 0 {
		name = fmt.Sprintf("es_%d", len(c.facts.esOutputs)+1)
	}
	o := outOutput{Name: name, Type: "elasticsearch", URLs: []string{url}, Username: user, Password: password, Index: index}
	c.Outputs = append(c.Outputs, o)
	c.facts.esOutputs = append(c.facts.esOutputs, o)
}

func (c *outConfig) console() {
	name := "stdout"
	if len(c.facts.console) > 0 {
		name = fmt.Sprintf("stdout_%d", len(c.facts.console)+1)
	}
	c.Outputs = append(c.Outputs, outOutput{Name: name, Type: "console"})
	c.facts.console = append(c.facts.console, name)
}

// secret keeps a password out of the converted file unless it is an
// environment reference already.
func (c *outConfig) secret(v, env string) string {
	if v == "" || onlyEnv.MatchString(v) {
		return v
	}
	c.notes = append(c.notes, fmt.Sprintf("the password is not copied: set %s in the agent's environment (from a Secret), or use password_file", env))
	return "${" + env + "}"
}

func list(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// jsonList reads Fluentd's ["a","b"] (or a plain comma list).
func jsonList(v string) []string {
	v = strings.TrimSpace(v)
	v = strings.TrimSuffix(strings.TrimPrefix(v, "["), "]")
	var out []string
	for _, s := range list(v) {
		out = append(out, strings.Trim(s, `"'`))
	}
	return out
}

// index is a date-named index from a logstash-style prefix.
func logstashIndex(prefix, sep, dateFmt string) string {
	if sep == "" {
		sep = "-"
	}
	date := "%Y.%m.%d"
	if dateFmt != "" {
		date = dateFmt
	}
	return prefix + sep + date
}

// printable replaces control characters, which would end or break a
// YAML comment, with U+FFFD.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029 {
			return '\uFFFD'
		}
		return r
	}, s)
}

// onlyEnv matches a value that is one ${VAR} or ${VAR:-default}.
var onlyEnv = regexp.MustCompile(`^\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}$`)

var strftimeOK = regexp.MustCompile(`^(%[YmdH]|[^%])*$`)
