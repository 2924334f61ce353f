package logscli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sluicelog/sluice/logscli/live"
)

// Options are the command line.
type Options struct {
	PodRegex      string
	Namespace     string
	AllNamespaces bool
	Selector      string
	Container     string
	Grep          string
	Input         string

	Since    time.Duration
	From, To time.Time
	Follow   bool

	Output     string // text | json | raw
	Timestamps bool
	Color      string // auto | always | never

	Agents    []string
	TokenFile string

	Kubeconfig, Context string
	AgentNamespace      string
	AgentSelector       string
	AgentPort           int
	Resync              time.Duration

	ES        string
	Store     string
	Index     string
	IDField   string
	PageSize  int
	SeamDelay time.Duration
}

// defaultSince is the history shown without -f, --since or --from.
const defaultSince = time.Hour

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

type timeFlag struct{ t *time.Time }

func (f timeFlag) String() string {
	if f.t == nil || f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339)
}

// Set accepts RFC 3339 (with or without fractions), a date and time
// without a zone (local time) or a bare date.
func (f timeFlag) Set(v string) error {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
			*f.t = t
			return nil
		}
	}
	return fmt.Errorf("want a time like 2026-11-25T10:00:00Z or 2026-11-25 10:00")
}

const usageHead = `Usage: logs [POD-REGEX] [flags]

Shows the logs that sluice agents ship, across every pod at once: history
from Elasticsearch (or VictoriaLogs), live from the agents' tap with -f.

  logs api -n payments -f              follow the pods matching "api" in payments
  logs -A --grep 'error|panic' --since 30m
  logs -f --since 10m -n web           the last 10 minutes, then live, no gap

Without -n or -A: the kubeconfig context's namespace if it sets one, else
all namespaces. Without -f: the last hour unless --since or --from says.

Flags:
`

func newFlagSet(o *Options, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("logs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	str := func(p *string, long, short, def, usage string) {
		fs.StringVar(p, long, def, usage)
		if short != "" {
			fs.StringVar(p, short, def, "short for --"+long)
		}
	}
	boolean := func(p *bool, long, short, usage string) {
		fs.BoolVar(p, long, false, usage)
		if short != "" {
			fs.BoolVar(p, short, false, "short for --"+long)
		}
	}
	str(&o.Namespace, "namespace", "n", "", "only this namespace")
	boolean(&o.AllNamespaces, "all-namespaces", "A", "every namespace")
	str(&o.Selector, "selector", "l", "", "pod label selector (k=v,k!=v,k,!k)")
	str(&o.Container, "container", "c", "", "only this container name")
	fs.StringVar(&o.Grep, "grep", "", "only lines matching this regexp")
	fs.StringVar(&o.Input, "input", "", "only records of this agent input (e.g. syslog)")
	fs.DurationVar(&o.Since, "since", 0, "history from this long ago (e.g. 15m, 2h)")
	fs.Var(timeFlag{&o.From}, "from", "history from this time (RFC 3339, or local 2006-01-02 15:04)")
	fs.Var(timeFlag{&o.To}, "to", "history up to this time (not with -f)")
	boolean(&o.Follow, "follow", "f", "stream live records from the agents")
	str(&o.Output, "output", "o", "text", "text, json or raw")
	fs.BoolVar(&o.Timestamps, "timestamps", false, "text: start each line with its @timestamp")
	fs.StringVar(&o.Color, "color", "auto", "auto (when stdout is a terminal and NO_COLOR is unset), always or never")
	fs.Var((*stringList)(&o.Agents), "agent", "agent URL to tap directly, e.g. http://127.0.0.1:2020 (repeatable; no kubeconfig needed)")
	fs.StringVar(&o.TokenFile, "token-file", "", "file with the agents' tap token (their http.token_file; deploy/: the sluice-tap-token Secret), sent to --agent and through the API server's pod proxy")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig file (default $KUBECONFIG, then ~/.kube/config)")
	fs.StringVar(&o.Context, "context", "", "kubeconfig context")
	fs.StringVar(&o.AgentNamespace, "agent-namespace", "sluice", "namespace of the agent pods")
	fs.StringVar(&o.AgentSelector, "agent-selector", live.DefaultAgentSelector, "label selector of the agent pods")
	fs.IntVar(&o.AgentPort, "agent-port", 0, "agents' HTTP port (default: their container port named http, else 2020)")
	fs.DurationVar(&o.Resync, "agent-resync", 5*time.Second, "how often the agent pods are listed again (new nodes, rolling updates)")
	fs.StringVar(&o.ES, "es", "", "history store URL (default $SLUICE_ES_URL); Elasticsearch or VictoriaLogs")
	fs.StringVar(&o.Store, "store", "auto", "auto, elasticsearch or victorialogs")
	fs.StringVar(&o.Index, "index", "logs-*", "Elasticsearch index pattern or data stream")
	fs.StringVar(&o.IDField, "id-field", "sluice_id", "document id field (the agents' id_field), the tie-breaker of paging")
	fs.IntVar(&o.PageSize, "page-size", 1000, "records per history request")
	fs.DurationVar(&o.SeamDelay, "seam-delay", 3*time.Second, "with -f and history: how long the agents get to deliver what they hold before history is read (their flush interval plus the store's refresh)")
	fs.Usage = func() {
		fmt.Fprint(stderr, usageHead)
		fs.PrintDefaults()
	}
	return fs
}

// errHelp is -h: usage was printed, exit 0.
var errHelp = flag.ErrHelp

// ParseArgs reads the command line; getenv supplies defaults from the
// environment. POD-REGEX may come before, between or after flags.
func ParseArgs(args []string, stderr io.Writer, getenv func(string) string) (*Options, error) {
	o := &Options{}
	fs := newFlagSet(o, stderr)
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		if args[0] == "--" {
			positional = append(positional, args[1:]...)
			break
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
	if len(positional) > 1 {
		return nil, fmt.Errorf("one POD-REGEX at most, got %q", positional)
	}
	if len(positional) == 1 {
		o.PodRegex = positional[0]
	}
	if o.ES == "" {
		o.ES = getenv("SLUICE_ES_URL")
	}
	return o, o.check()
}

func (o *Options) check() error {
	switch {
	case o.Namespace != "" && o.AllNamespaces:
		return errors.New("-n and -A: choose one")
	case o.Output != "text" && o.Output != "json" && o.Output != "raw":
		return fmt.Errorf("-o %q: want text, json or raw", o.Output)
	case o.Color != "auto" && o.Color != "always" && o.Color != "never":
		return fmt.Errorf("--color %q: want auto, always or never", o.Color)
	case o.Follow && !o.To.IsZero():
		return errors.New("--to and -f: a live tail has no end")
	case o.Since < 0:
		return errors.New("--since must be positive")
	case o.Since > 0 && !o.From.IsZero():
		return errors.New("--since and --from: choose one")
	case !o.From.IsZero() && !o.To.IsZero() && !o.From.Before(o.To):
		return errors.New("--from must be before --to")
	case o.PageSize <= 0:
		return errors.New("--page-size must be positive")
	case o.Resync <= 0:
		return errors.New("--agent-resync must be positive")
	}
	return nil
}

// wantsHistory: without -f there is only history; with -f, only when a
// start was given.
func (o *Options) wantsHistory() bool {
	return !o.Follow || o.Since > 0 || !o.From.IsZero()
}

// historyFrom is the start of the history to show, relative to now.
func (o *Options) historyFrom(now time.Time) time.Time {
	switch {
	case !o.From.IsZero():
		return o.From
	case o.Since > 0:
		return now.Add(-o.Since)
	}
	return now.Add(-defaultSince)
}
