package logscli

import (
	"context"
	"errors"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sluicelog/sluice/logscli/live"
)

const longHelp = `Shows the logs of every pod at once, as sluice agents ship them: live
from the agents' tap with -f; history from the log store (Elasticsearch or
VictoriaLogs, --es or $SLUICE_ES_URL), or, when none is configured, from
the Kubernetes API (pods/log, the RBAC kubectl logs needs).

QUERY is a pod name regexp (unanchored), or a workload as kubectl names
it: deploy/NAME, sts/NAME, ds/NAME, job/NAME, rs/NAME, pod/NAME.

Without -n or -A: the kubeconfig context's namespace if it sets one, else
all namespaces. Without -f: the last hour unless --since, --from or --tail
says.

Exit status: 0 done (or Ctrl-C), 1 a runtime error (one line on stderr),
2 a bad command line.`

const examples = `  logs api -n payments -f              follow the pods matching "api" in payments
  logs -n shop deploy/api --since 1h -f   the last hour, then live, in order
  logs -l 'app in (api,web),!canary' -f  pods by label, set-based too
  logs -A -i 'error|panic' -e healthz --since 30m
  logs -n shop sts/db --tail 20 --previous   the crashed instance's last lines
  logs -f --template '{{.PodName}} {{.Message}}'
  logs --status -n payments           what each agent read and delivered of every file
  source <(logs --completion bash)     shell completion (bash, zsh, fish)`

// newCommand builds the command line of o. run is called with the
// positional arguments once the flags are parsed.
func newCommand(o *Options, version string, stdout, stderr io.Writer, run func(args []string) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "logs [QUERY] [flags]",
		Short:   "Tail and search the logs of every pod, live and history",
		Long:    longHelp,
		Example: examples,
		Version: version,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("one QUERY at most, got %q", args)
			}
			return nil
		},
		SilenceErrors:         true,
		SilenceUsage:          true,
		DisableFlagsInUseLine: true,
		CompletionOptions:     cobra.CompletionOptions{DisableDefaultCmd: true},
		RunE: func(_ *cobra.Command, args []string) error {
			return run(args)
		},
	}
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	cmd.SetVersionTemplate("logs {{.Version}}\n")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	addFlags(cmd.Flags(), o)
	registerCompletions(cmd, o)
	return cmd
}

func addFlags(fs *pflag.FlagSet, o *Options) {
	fs.SortFlags = false
	fs.StringVarP(&o.Namespace, "namespace", "n", "", "only this namespace")
	fs.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "every namespace")
	fs.StringVarP(&o.Selector, "selector", "l", "", "pod label selector: k=v, k!=v, 'k in (a,b)', 'k notin (x)', k, !k")
	fs.StringVarP(&o.Container, "container", "c", "", "only containers whose name matches this regexp")
	fs.StringArrayVarP(&o.ExcludeContainer, "exclude-container", "E", nil, "leave out containers whose name matches this regexp (repeatable)")
	fs.StringArrayVar(&o.ExcludePod, "exclude-pod", nil, "leave out pods whose name matches this regexp (repeatable)")
	fs.StringVar(&o.Node, "node", "", "only pods on this node")
	fs.StringArrayVarP(&o.Include, "include", "i", nil, "only lines matching one of these regexps (repeatable)")
	fs.StringArrayVarP(&o.Exclude, "exclude", "e", nil, "leave out lines matching any of these regexps (repeatable)")
	fs.StringVar(&o.Grep, "grep", "", "only lines matching this regexp (filtered by the agents themselves)")
	fs.StringVar(&o.Input, "input", "", "only records of this agent input (e.g. syslog)")
	fs.BoolVarP(&o.Follow, "follow", "f", false, "stream live records from the agents")
	fs.Var(sinceValue{&o.Since}, "since", "history from this long ago: 30s, 15m, 2h30m, 1d, 1w")
	fs.Var(timeValue{&o.From}, "from", "history from this time (RFC 3339, or local 2006-01-02 15:04)")
	fs.Var(timeValue{&o.To}, "to", "history up to this time (not with -f)")
	fs.IntVar(&o.Tail, "tail", -1, "the last N lines of each container's history (-1: all of the window)")
	fs.BoolVarP(&o.Previous, "previous", "p", false, "the previous instance of each container (after a restart or a crash)")
	fs.StringVarP(&o.Output, "output", "o", "text", "text, json or raw")
	fs.StringVar(&o.Template, "template", "", "a Go template per record, or a named one: "+strings.Join(templateNames(), ", "))
	fs.StringVarP(&o.Timestamps, "timestamps", "t", "", "start each line with its time: --timestamps (default) or --timestamps=short")
	fs.Lookup("timestamps").NoOptDefVal = "default"
	fs.StringVar(&o.Timezone, "timezone", "Local", "time zone of the times shown: Local, UTC or an IANA name")
	fs.StringVar(&o.Color, "color", "auto", "auto (when stdout is a terminal and NO_COLOR is unset), always or never")
	fs.BoolVar(&o.Status, "status", false, "print each agent's delivery ledger, file by file (size, read, acknowledged, rotated away unread), then exit")
	fs.StringVar(&o.Completion, "completion", "", "print the shell completion script: bash, zsh or fish")
	fs.StringArrayVar(&o.Agents, "agent", nil, "agent URL to tap directly, e.g. http://127.0.0.1:2020 (repeatable; no kubeconfig needed)")
	fs.StringVar(&o.TokenFile, "token-file", "", "file with the agents' tap token (their http.token_file; deploy/: the sluice-tap-token Secret)")
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
	fs.DurationVar(&o.SeamDelay, "seam-delay", 3*time.Second, "with -f and a store: how long the agents get to deliver what they hold before history is read")
}

// ParseArgs reads the command line without running anything; getenv
// supplies defaults from the environment. --help and --version are the
// caller's (Main).
func ParseArgs(args []string, getenv func(string) string) (*Options, error) {
	o := &Options{}
	var parsed bool
	cmd := newCommand(o, "", io.Discard, io.Discard, func(pos []string) error {
		parsed = true
		return o.complete(pos, getenv)
	})
	cmd.SetArgs(args)
	if err := cmd.Execute(); err != nil {
		return nil, err
	}
	if !parsed {
		return nil, errHelp
	}
	return o, nil
}

// errHelp: help or the version was asked for and printed.
var errHelp = errors.New("help printed")

// complete takes the positional argument and the environment, and checks.
func (o *Options) complete(args []string, getenv func(string) string) error {
	if len(args) == 1 {
		var err error
		if o.PodRegex, o.Target, err = parseTarget(args[0]); err != nil {
			return &usageError{err}
		}
	}
	if o.ES == "" {
		o.ES = getenv("SLUICE_ES_URL")
	}
	return o.check()
}

// registerCompletions makes __complete (what the scripts call) offer
// namespaces, pods and workloads, contexts and the fixed values.
func registerCompletions(cmd *cobra.Command, o *Options) {
	fixed := func(flag string, values ...string) {
		_ = cmd.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
	}
	fixed("output", "text", "json", "raw")
	fixed("color", "auto", "always", "never")
	fixed("timestamps", "default", "short")
	fixed("completion", "bash", "zsh", "fish")
	fixed("store", "auto", "elasticsearch", "victorialogs")
	fixed("template", templateNames()...)
	fixed("timezone", "Local", "UTC")
	_ = cmd.RegisterFlagCompletionFunc("namespace", func(_ *cobra.Command, _ []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return completeKube(o, func(ctx context.Context, k *live.Kube) ([]string, error) {
			list, err := k.Client().CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
			if err != nil {
				return nil, err
			}
			var out []string
			for _, ns := range list.Items {
				out = append(out, ns.Name)
			}
			return out, nil
		}, prefix)
	})
	_ = cmd.RegisterFlagCompletionFunc("context", func(_ *cobra.Command, _ []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
		names, _ := live.Contexts(o.Kubeconfig)
		return filterPrefix(names, prefix), cobra.ShellCompDirectiveNoFileComp
	})
	cmd.ValidArgsFunction = func(_ *cobra.Command, args []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return completeKube(o, func(ctx context.Context, k *live.Kube) ([]string, error) {
			ns := o.Namespace
			if ns == "" && !o.AllNamespaces {
				ns = k.ContextNamespace
			}
			return k.PodNames(ctx, ns)
		}, prefix)
	}
}

// completeKube asks the API server within a couple of seconds; a shell
// waiting on a completion must not hang.
func completeKube(o *Options, list func(context.Context, *live.Kube) ([]string, error), prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	k, err := live.LoadKube(o.kubeOptions())
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	names, err := list(ctx, k)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	}
	return filterPrefix(names, prefix), cobra.ShellCompDirectiveNoFileComp
}

func filterPrefix(names []string, prefix string) []cobra.Completion {
	sort.Strings(names)
	var out []cobra.Completion
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out
}

// writeCompletion prints the script for shell.
func writeCompletion(cmd *cobra.Command, shell string, w io.Writer) error {
	switch shell {
	case "bash":
		return cmd.GenBashCompletionV2(w, true)
	case "zsh":
		return cmd.GenZshCompletion(w)
	case "fish":
		return cmd.GenFishCompletion(w, true)
	}
	return usagef("--completion %q: want bash, zsh or fish", shell)
}

// describe words an error for stderr: one line.
func describe(err error) string {
	return strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", " ")
}
