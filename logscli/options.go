package logscli

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Options are the command line.
type Options struct {
	PodRegex      string
	Target        Target // TYPE/NAME: the pods of a workload
	Namespace     string
	AllNamespaces bool
	Selector      string
	Container     string // regexp
	Grep          string
	Input         string
	Node          string

	Include, Exclude             []string
	ExcludeContainer, ExcludePod []string

	Since    time.Duration
	From, To time.Time
	Follow   bool
	Tail     int // lines per container from the end of history; -1 = all
	Previous bool

	Output     string // text | json | raw
	Template   string // a Go template, or the name of one (templates)
	Timestamps string // "" | default | short
	Timezone   string // Local, UTC or an IANA name
	Color      string // auto | always | never
	Completion string // bash | zsh | fish: print the script
	Status     bool   // print the agents' delivery ledgers (status.go)

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

	loc *time.Location // Timezone, loaded by check
}

// Target is a workload named as kubectl names it: deploy/NAME and the like.
type Target struct {
	Kind string // Deployment, StatefulSet, DaemonSet, Job, ReplicaSet; "" = none
	Name string
}

// targetKinds maps kubectl's names and short names of a workload to its kind.
var targetKinds = map[string]string{
	"deploy": "Deployment", "deployment": "Deployment", "deployments": "Deployment",
	"sts": "StatefulSet", "statefulset": "StatefulSet", "statefulsets": "StatefulSet",
	"ds": "DaemonSet", "daemonset": "DaemonSet", "daemonsets": "DaemonSet",
	"job": "Job", "jobs": "Job",
	"rs": "ReplicaSet", "replicaset": "ReplicaSet", "replicasets": "ReplicaSet",
	"pod": "Pod", "pods": "Pod", "po": "Pod",
}

// parseTarget reads the positional argument: TYPE/NAME, or a pod regexp.
// A pod/NAME is the pod of that exact name.
func parseTarget(arg string) (podRegex string, t Target, err error) {
	kind, name, ok := strings.Cut(arg, "/")
	k, known := targetKinds[strings.ToLower(kind)]
	if !ok || !known {
		return arg, Target{}, nil
	}
	if name == "" || strings.Contains(name, "/") {
		return "", Target{}, fmt.Errorf("%q: want TYPE/NAME, e.g. deploy/api", arg)
	}
	if k == "Pod" {
		return "^" + regexp.QuoteMeta(name) + "$", Target{}, nil
	}
	return "", Target{Kind: k, Name: name}, nil
}

// defaultSince is the history shown without -f, --since, --from or --tail.
const defaultSince = time.Hour

// sinceValue is --since: a Go duration, with days (d) and weeks (w) too:
// 1d, 2h30m, 1w2d.
type sinceValue struct{ d *time.Duration }

var sinceRE = regexp.MustCompile(`^(?:(\d+)w)?(?:(\d+)d)?(.*)$`)

func (v sinceValue) String() string {
	if v.d == nil || *v.d == 0 {
		return ""
	}
	return v.d.String()
}

func (v sinceValue) Type() string { return "duration" }

func (v sinceValue) Set(s string) error {
	d, err := parseSince(s)
	if err != nil {
		return err
	}
	*v.d = d
	return nil
}

func parseSince(s string) (time.Duration, error) {
	m := sinceRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil || m[1] == "" && m[2] == "" && m[3] == "" {
		return 0, fmt.Errorf("want a duration like 30s, 15m, 2h30m, 1d or 1w")
	}
	var d time.Duration
	for i, unit := range []time.Duration{7 * 24 * time.Hour, 24 * time.Hour} {
		if m[i+1] == "" {
			continue
		}
		// 10,000 days is longer than any log is kept, and far from overflow.
		n, err := strconv.ParseInt(m[i+1], 10, 32)
		if err != nil || n > 10000 {
			return 0, fmt.Errorf("want a duration like 30s, 15m, 2h30m, 1d or 1w")
		}
		d += time.Duration(n) * unit
	}
	if m[3] != "" {
		rest, err := time.ParseDuration(m[3])
		if err != nil || rest > 10000*24*time.Hour {
			return 0, fmt.Errorf("want a duration like 30s, 15m, 2h30m, 1d or 1w")
		}
		d += rest
	}
	switch {
	case d <= 0:
		return 0, errors.New("must be positive")
	case d > 10000*24*time.Hour:
		return 0, errors.New("longer than 10000 days")
	}
	return d, nil
}

// timeValue is --from and --to.
type timeValue struct{ t *time.Time }

func (f timeValue) String() string {
	if f.t == nil || f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339)
}

func (f timeValue) Type() string { return "time" }

// Set accepts RFC 3339 (with or without fractions), a date and time
// without a zone (local time) or a bare date.
func (f timeValue) Set(v string) error {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
			*f.t = t
			return nil
		}
	}
	return fmt.Errorf("want a time like 2026-11-25T10:00:00Z or 2026-11-25 10:00")
}

// usageError is a bad command line: exit 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// check validates the options together and completes them.
func (o *Options) check() error {
	switch {
	case o.Namespace != "" && o.AllNamespaces:
		return usagef("-n and -A: choose one")
	case o.Output != "text" && o.Output != "json" && o.Output != "raw":
		return usagef("-o %q: want text, json or raw", o.Output)
	case o.Color != "auto" && o.Color != "always" && o.Color != "never":
		return usagef("--color %q: want auto, always or never", o.Color)
	case o.Timestamps != "" && o.Timestamps != "default" && o.Timestamps != "short":
		return usagef("--timestamps=%q: want default or short", o.Timestamps)
	case o.Follow && !o.To.IsZero():
		return usagef("--to and -f: a live tail has no end")
	case o.Since > 0 && !o.From.IsZero():
		return usagef("--since and --from: choose one")
	case !o.From.IsZero() && !o.To.IsZero() && !o.From.Before(o.To):
		return usagef("--from must be before --to")
	case o.Tail < -1:
		return usagef("--tail must be -1 (all) or more")
	case o.PageSize <= 0:
		return usagef("--page-size must be positive")
	case o.Resync <= 0:
		return usagef("--agent-resync must be positive")
	case o.Previous && o.Follow:
		return usagef("--previous and -f: a previous container instance has ended; leave out -f")
	case o.Template != "" && o.Output != "text":
		return usagef("--template and -o %s: choose one", o.Output)
	case o.Status && (o.Follow || o.Target.Kind != "" || o.Previous):
		return usagef("--status prints the agents' ledgers: leave out -f, --previous and TYPE/NAME")
	}
	loc, err := loadZone(o.Timezone)
	if err != nil {
		return usagef("--timezone %q: %v", o.Timezone, err)
	}
	o.loc = loc
	return nil
}

func loadZone(name string) (*time.Location, error) {
	switch strings.ToLower(name) {
	case "", "local":
		return time.Local, nil
	case "utc":
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, errors.New("unknown time zone (want Local, UTC or an IANA name like Europe/Paris)")
	}
	return loc, nil
}

// wantsHistory: without -f there is only history; with -f, only when a
// start or a tail was given.
func (o *Options) wantsHistory() bool {
	return !o.Follow || o.Since > 0 || !o.From.IsZero() || o.Tail >= 0
}

// historyFrom is the start of the history to show, relative to now:
// --from, --since, else the last hour. A store's --tail is the last lines
// of that window (searching a whole store for them would read it all).
func (o *Options) historyFrom(now time.Time) time.Time {
	switch {
	case !o.From.IsZero():
		return o.From
	case o.Since > 0:
		return now.Add(-o.Since)
	}
	return now.Add(-defaultSince)
}

// apiSince is the sinceTime of a pods/log request: none with --tail
// alone (the kubelet reads the file's end, as kubectl --tail does).
func (o *Options) apiSince(now time.Time) (time.Time, bool) {
	if o.Tail >= 0 && o.Since == 0 && o.From.IsZero() {
		return time.Time{}, false
	}
	return o.historyFrom(now), true
}
