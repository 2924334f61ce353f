// Package logscli is the logs command: like `kubectl logs -f`, across
// every pod of a cluster at once — live from the sluice agents' tap,
// history from the log store, joined without a gap or a duplicate.
package logscli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sluicelog/sluice/internal/klogroute"
	"github.com/sluicelog/sluice/internal/redact"
	"github.com/sluicelog/sluice/logscli/entry"
	"github.com/sluicelog/sluice/logscli/kubelogs"
	"github.com/sluicelog/sluice/logscli/live"
)

// clockSkew is how far past the moment history is read it reaches, with
// -f: a record stamped later than that by a node whose clock runs ahead
// is printed live instead, so node clocks may run ahead by this much
// without a gap.
const clockSkew = time.Minute

// Main runs the command and returns its exit code: 0, 1 for an error
// (one line on stderr), 2 for a bad command line. Ending ctx (Ctrl-C)
// ends it cleanly with 0. Help, --version and --completion print on
// stdout.
func Main(ctx context.Context, version string, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	// Every message passes here: no URL userinfo, password or token in
	// one (internal/redact).
	secrets := &redact.Redactor{}
	stderr = redact.NewWriter(stderr, secrets)
	o := &Options{}
	var cmd *cobra.Command
	cmd = newCommand(o, version, stdout, stderr, func(pos []string) error {
		if o.Completion != "" {
			return writeCompletion(cmd, o.Completion, stdout)
		}
		if err := o.complete(pos, getenv); err != nil {
			return err
		}
		if tok, err := readToken(o.TokenFile); err == nil {
			secrets.Add(tok) // an agent's refusal may quote it back
		}
		log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{
			ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey && len(groups) == 0 {
					return slog.Attr{} // a person watches this live
				}
				return a
			},
		}))
		klogroute.To(klogroute.Demoted(log.Handler()))
		if o.Status {
			return status(ctx, o, stdout, stderr)
		}
		return run(ctx, o, stdout, getenv, log)
	})
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "logs: %s (see logs --help)\n", describe(err))
		return 2
	case ctx.Err() != nil:
		return 0
	}
	fmt.Fprintln(stderr, "logs:", describe(err))
	return 1
}

func run(ctx context.Context, o *Options, stdout io.Writer, getenv func(string) string, log *slog.Logger) error {
	f := &entry.Filter{
		Namespace: o.Namespace, Pod: o.PodRegex, Container: o.Container,
		Input: o.Input, Labels: o.Selector, Grep: o.Grep, Node: o.Node,
		Include: o.Include, Exclude: o.Exclude,
		ExcludeContainer: o.ExcludeContainer, ExcludePod: o.ExcludePod,
	}
	if err := f.Compile(); err != nil {
		return &usageError{err}
	}
	color := o.Output == "text" && (o.Color == "always" ||
		o.Color == "auto" && getenv("NO_COLOR") == "" && isTerminal(stdout))
	p := newPrinter(stdout, o.Output, color, o.Timestamps, o.loc, o.IDField)
	if o.Template != "" {
		var err error
		if p.tmpl, err = compileTemplate(o.Template, color, o.loc); err != nil {
			return &usageError{err}
		}
	}
	defer p.flush()

	// The Kubernetes API is needed to find the agents, to read history
	// when no store is configured, and to resolve a workload.
	needKube := o.Follow && len(o.Agents) == 0 ||
		o.wantsHistory() && o.ES == "" ||
		o.Target.Kind != "" || o.Previous && o.ES != ""
	var kube *live.Kube
	if needKube {
		ko := o.kubeOptions()
		var err error
		if ko.Token, err = readToken(o.TokenFile); err != nil {
			return err
		}
		if kube, err = live.LoadKube(ko); err != nil {
			if o.wantsHistory() && o.ES == "" && errors.Is(err, live.ErrNoKubeconfig) {
				return errors.New("history needs a log store (--es URL or $SLUICE_ES_URL) or a kubeconfig (KUBECONFIG or --kubeconfig) to read it from the Kubernetes API")
			}
			return err
		}
	}
	defaultNamespace(o, f, kube)
	var owner *kubelogs.Owner
	if o.Target.Kind != "" {
		owner = &kubelogs.Owner{Kind: o.Target.Kind, Name: o.Target.Name, Namespace: f.Namespace}
		if owner.Namespace == "" {
			return usagef("%s/%s: a workload needs a namespace: -n NAMESPACE (or one in the kubeconfig context)", strings.ToLower(o.Target.Kind), o.Target.Name)
		}
		sel, err := kubelogs.Resolve(ctx, kube.Client(), owner)
		if err != nil {
			return err
		}
		f.Labels = joinSelectors(f.Labels, sel)
		if o.Target.Kind != "Job" && o.Target.Kind != "ReplicaSet" {
			// The agents name a Deployment's, StatefulSet's or DaemonSet's
			// pods' owner so (kubernetes.owner); a Job's may be its CronJob.
			f.OwnerKind, f.OwnerName = o.Target.Kind, o.Target.Name
		}
		if err := f.Compile(); err != nil {
			return err
		}
	}

	var hist historySource
	if o.wantsHistory() {
		var err error
		if hist, err = newHistory(ctx, o, f, kube, owner, getenv); err != nil {
			return err
		}
	}
	if !o.Follow {
		to := o.To
		if to.IsZero() {
			to = time.Now()
		}
		return history(ctx, hist, o, f, to, p, nil)
	}
	return follow(ctx, o, f, kube, owner, hist, p, log)
}

// joinSelectors is both selectors: a comma is AND.
func joinSelectors(a, b string) string {
	switch {
	case strings.TrimSpace(a) == "":
		return b
	case b == "":
		return a
	}
	return a + "," + b
}

func (o *Options) kubeOptions() live.KubeOptions {
	return live.KubeOptions{
		Kubeconfig: o.Kubeconfig, Context: o.Context,
		Namespace: o.AgentNamespace, Selector: o.AgentSelector, Port: o.AgentPort,
		Node: o.Node,
	}
}

// defaultNamespace applies kubectl's habit: without -n or -A, the
// context's namespace — when it names one; a context without one means
// the whole cluster here, since this tool is about many pods. Syslog
// records have no namespace, so --input alone does not narrow it.
func defaultNamespace(o *Options, f *entry.Filter, kube *live.Kube) {
	if f.Namespace != "" || o.AllNamespaces || o.Input != "" || len(o.Agents) > 0 {
		return
	}
	if kube == nil {
		// History only: a kubeconfig is welcome but not needed.
		k, err := live.LoadKube(o.kubeOptions())
		if err != nil {
			return
		}
		kube = k
	}
	f.Namespace = kube.ContextNamespace
}

// history prints the records of [from, to), oldest first. When joining
// live it leaves out what sm says the live streams print, and notes the
// rest in sm.
func history(ctx context.Context, h historySource, o *Options, f *entry.Filter, to time.Time, p *printer, sm *seam) error {
	print := func(e *entry.Entry) error {
		if sm != nil {
			if sm.live(e) {
				return nil
			}
			sm.add(e)
		}
		return p.print(e)
	}
	if err := h.read(ctx, to, print); err != nil {
		return err
	}
	return p.flush()
}

// follow starts the live streams, buffers them while history (if any) is
// printed, then prints them as they come.
func follow(ctx context.Context, o *Options, f *entry.Filter, kube *live.Kube, owner *kubelogs.Owner, hist historySource, p *printer, log *slog.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	in := make(chan *entry.Entry, 256)
	tail := live.New(in, log)
	// When pods/log is followed: its error, and its end.
	apiErr, apiDone := make(chan error, 1), make(chan struct{})
	following := false
	defer func() {
		cancel()
		tail.Wait()
		if following {
			<-apiDone
		}
	}()
	sm := newSeam(hist != nil && hist.byTime())
	buffered := unbounded(ctx, in, sm.noteLive)
	q := f.TapQuery()
	start := time.Now()

	var targets []live.Target
	if len(o.Agents) > 0 {
		token, err := readToken(o.TokenFile)
		if err != nil {
			return err
		}
		for _, a := range o.Agents {
			t, err := live.Direct(a, token, q)
			if err != nil {
				return err
			}
			targets = append(targets, t)
		}
	} else {
		var err error
		if targets, err = kube.Targets(ctx, q); err != nil {
			return err
		}
		if len(targets) == 0 {
			// kubectl logs -f's way, for every pod the query selects.
			log.Info("no sluice agents found (no running pod in namespace " + o.AgentNamespace + " matches " + o.AgentSelector +
				"): following through the Kubernetes API instead, one pods/log stream per container, as kubectl logs -f does")
			following = true
			kq := kubelogs.Query{Namespace: f.Namespace, Selector: f.Labels, Node: f.Node, Owner: owner, Filter: f}
			go func() {
				defer close(apiDone)
				apiErr <- kubelogs.Follow(ctx, kube.Client(), kq, start, in, log)
			}()
		}
	}
	if !following {
		if err := connectError(tail.Sync(ctx, targets), len(targets)); err != nil {
			return err
		}
		if len(o.Agents) == 0 {
			go resync(ctx, kube, tail, q, o.Resync, log)
		}
	}

	if hist != nil {
		// What an agent tapped before our streams began may still be on
		// its way to a store: let it land, then read history to past now.
		// Everything is then in history or in the buffered streams. The
		// kubelet's files hold every line before the agents read it.
		if d := hist.settle(o.SeamDelay); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return nil
			}
		}
		if err := history(ctx, hist, o, f, time.Now().Add(clockSkew), p, sm); err != nil {
			return err
		}
	}
	sm.historyDone()
	for {
		var e *entry.Entry
		select {
		case e = <-buffered:
		default:
			// Nothing waiting: show what is buffered, then wait.
			if err := p.flush(); err != nil {
				return err
			}
			select {
			case e = <-buffered:
			case err := <-apiErr:
				return err
			case <-ctx.Done():
				return nil
			}
		}
		if sm.seen(e) || !f.MatchLive(e, o.IDField) {
			continue
		}
		if err := p.print(e); err != nil {
			return err
		}
	}
}

// connectError is the error of a start where no agent could be reached,
// or where one refused for good (RBAC, credentials, a bad filter): those
// are the user's to fix. Agents that are only unreachable for now are
// retried in the background while others stream.
func connectError(errs map[string]error, n int) error {
	names := make([]string, 0, len(errs))
	for name := range errs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if live.IsFatal(errs[name]) {
			return errs[name]
		}
	}
	if len(errs) == n && n > 0 {
		return errs[names[0]]
	}
	return nil
}

// resync lists the agents again every interval, so new nodes and
// replaced pods are tapped and departed ones closed.
func resync(ctx context.Context, kube *live.Kube, tail *live.Tail, q url.Values, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	var lastErr string
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		targets, err := kube.Targets(ctx, q)
		if err != nil {
			if ctx.Err() == nil && err.Error() != lastErr {
				log.Warn("cannot list the agents; the streams already open go on", "err", err)
				lastErr = err.Error()
			}
			continue
		}
		if len(targets) == 0 && lastErr != "none" {
			log.Warn("no agent is running right now; waiting for agents to come back")
			lastErr = "none"
		} else if len(targets) > 0 {
			lastErr = ""
		}
		for name, err := range tail.Sync(ctx, targets) {
			log.Warn("cannot tap a new agent", "agent", name, "err", err)
		}
	}
}

// unbounded passes records from in on in order, holding as many as it
// must: an agent drops a client that stops reading, so the streams are
// read on while history is printed. Each record is shown to note as it
// arrives.
func unbounded(ctx context.Context, in <-chan *entry.Entry, note func(*entry.Entry)) <-chan *entry.Entry {
	out := make(chan *entry.Entry)
	go func() {
		var buf []*entry.Entry
		for {
			var send chan *entry.Entry
			var head *entry.Entry
			if len(buf) > 0 {
				send, head = out, buf[0]
			}
			select {
			case e := <-in:
				note(e)
				buf = append(buf, e)
			case send <- head:
				buf[0] = nil
				buf = buf[1:]
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

func readToken(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}
