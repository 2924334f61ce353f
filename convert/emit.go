package convert

import (
	"fmt"
	"net"
	"regexp"
	"sort"
	"strings"
)

// The sluice config being built. Field order is the order written.
type outConfig struct {
	NodeName   string      `yaml:"node_name"`
	DataDir    string      `yaml:"data_dir"`
	HTTP       *outHTTP    `yaml:"http,omitempty"`
	Inputs     []outInput  `yaml:"inputs"`
	Kubernetes *outKube    `yaml:"kubernetes"`
	Transforms []outTransf `yaml:"transforms,omitempty"`
	Outputs    []outOutput `yaml:"outputs"`
	notes      []string    // settings without an equivalent, and field differences
	facts      conversionFacts
}

type outHTTP struct {
	Listen string `yaml:"listen"`
}

type outInput struct {
	Name      string   `yaml:"name"`
	Type      string   `yaml:"type"`
	Paths     []string `yaml:"paths,omitempty"`
	Exclude   []string `yaml:"exclude,omitempty"`
	StartAt   string   `yaml:"start_at,omitempty"`
	Multiline *outML   `yaml:"multiline,omitempty"`
	TCP       string   `yaml:"tcp,omitempty"`
	UDP       string   `yaml:"udp,omitempty"`
	Format    string   `yaml:"format,omitempty"`
}

type outML struct {
	Mode string `yaml:"mode"`
}

type outKube struct {
	Enabled     bool `yaml:"enabled"`
	Labels      bool `yaml:"labels"`
	Annotations bool `yaml:"annotations"`
}

type outTransf struct {
	Type         string            `yaml:"type"`
	Field        string            `yaml:"field,omitempty"`
	Target       *string           `yaml:"target,omitempty"`
	KeepOriginal *bool             `yaml:"keep_original,omitempty"`
	Pattern      string            `yaml:"pattern,omitempty"`
	Add          map[string]string `yaml:"add,omitempty"`
	Rename       map[string]string `yaml:"rename,omitempty"`
	Remove       []string          `yaml:"remove,omitempty"`
}

type outOutput struct {
	Name     string   `yaml:"name"`
	Type     string   `yaml:"type"`
	URLs     []string `yaml:"urls,omitempty"`
	Username string   `yaml:"username,omitempty"`
	Password string   `yaml:"password,omitempty"`
	Index    string   `yaml:"index,omitempty"`
}

// conversionFacts is what the generated test case checks.
type conversionFacts struct {
	mergeJSON   string // target of the JSON merge; "-" when lines are not parsed
	labels      bool
	added       map[string]string
	renamed     map[string]string
	removed     []string
	keepPattern []outTransf // keep/drop: the case's line must pass them
	esOutputs   []outOutput
	console     []string
	syslog      bool
}

// note records a setting with no equivalent.
func (c *outConfig) note(p *Plugin, q Param, why string) {
	c.notes = append(c.notes, fmt.Sprintf("%s (line %d): %s = %q: %s", strings.TrimSpace(p.Kind+" "+p.Name), q.Line, q.Key, clip(q.Value), why))
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// handled marks settings a converter read; the rest get a note.
type handled map[string]bool

func (c *outConfig) rest(p *Plugin, h handled, why string) {
	for _, q := range p.Params {
		k := strings.ToLower(q.Key)
		if !h[k] && k != "name" && k != "match" && k != "@type" && k != "tag" && k != "alias" && k != "@id" && k != "@log_level" {
			c.note(p, q, why)
		}
	}
}

func hostPort(listen, port, def string) string {
	if listen == "" {
		listen = "0.0.0.0"
	}
	if port == "" {
		port = def
	}
	return net.JoinHostPort(listen, port)
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// envNames are the ${VAR} references of s, sorted.
func envNames(s string) []string {
	seen := map[string]bool{}
	for _, m := range envRef.FindAllStringSubmatch(s, -1) {
		seen[m[1]] = true
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// fieldNotes explain the field names that differ from the source's.
var fieldNotes = map[string][]string{
	"Fluent Bit": {
		"kubernetes.docker_id is kubernetes.container_id in sluice",
		"kubernetes.container_hash is kubernetes.container_image_id",
		"kubernetes.pod_ip is not added; kubernetes.owner {kind, name} is (Deployment, not its ReplicaSet)",
		"a Fluent Bit record's time is @timestamp; stream and log keep their names",
	},
	"Fluentd": {
		"kubernetes.master_url and kubernetes.namespace_id are not added",
		"docker.container_id is kubernetes.container_id",
		"kubernetes.container_image_id and kubernetes.owner {kind, name} are added",
		"the record's time is @timestamp (logstash_format's @timestamp is always there)",
	},
}
