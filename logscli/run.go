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

	"github.com/sluicelog/sluice/internal/redact"
	"github.com/sluicelog/sluice/logscli/entry"
	"github.com/sluicelog/sluice/logscli/live"
	"github.com/sluicelog/sluice/logscli/store"
)

// clockSkew is how far past the moment history is read it reaches, with
// -f: a record stamped later than that by a node whose clock runs ahead
// is printed live instead, so node clocks may run ahead by this much
// without a gap.
const clockSkew = time.Minute

// Main runs the command and returns its exit code: 0, 1 for an error
// (one line on stderr), 2 for a bad command line. Ending ctx (Ctrl-C)
// ends it cleanly with 0.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	// Every message passes here: no URL userinfo, password or token in
	// one (internal/redact).
	secrets := &redact.Redactor{}
	stderr = redact.NewWriter(stderr, secrets)
	o, err := ParseArgs(args, stderr, getenv)
	if errors.Is(err, errHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "logs:", err)
		return 2
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
	if err := run(ctx, o, stdout, getenv, log); err != nil && ctx.Err() == nil {
		fmt.Fprintln(stderr, "logs:", err)
		return 1
	}
	return 0
}

func run(ctx context.Context, o *Options, stdout io.Writer, getenv func(string) string, log *slog.Logger) error {
	f := &entry.Filter{
		Namespace: o.Namespace, Pod: o.PodRegex, Container: o.Container,
		Input: o.Input, Labels: o.Selector, Grep: o.Grep,
	}
	if err := f.Compile(); err != nil {
		return err
	}
	color := o.Output == "text" && (o.Color == "always" ||
		o.Color == "auto" && getenv("NO_COLOR") == "" && isTerminal(stdout))
	p := newPrinter(stdout, o.Output, color, o.Timestamps, o.IDField)
	defer p.flush()

	var kube *live.Kube
	if o.Follow && len(o.Agents) == 0 {
		ko := o.kubeOptions()
		var err error
		if ko.Token, err = readToken(o.TokenFile); err != nil {
			return err
		}
		if kube, err = live.LoadKube(ko); err != nil {
			return err
		}
	}
	defaultNamespace(o, f, kube)

	var st store.Store
	if o.wantsHistory() {
		if o.ES == "" {
			return errors.New("history needs a log store: --es URL or $SLUICE_ES_URL (or -f without --since for live records only)")
		}
		var err error
		st, err = store.New(ctx, store.Options{
			URL: o.ES, Kind: o.Store, Index: o.Index, IDField: o.IDField,
			Username: getenv("SLUICE_ES_USERNAME"), Password: getenv("SLUICE_ES_PASSWORD"),
			APIKey: getenv("SLUICE_ES_API_KEY"),
		})
		if err != nil {
			return err
		}
	}
	if !o.Follow {
		to := o.To
		if to.IsZero() {
			to = time.Now()
		}
		return history(ctx, st, o, f, to, p, nil)
	}
	return follow(ctx, o, f, kube, st, p, log)
}

func (o *Options) kubeOptions() live.KubeOptions {
	return live.KubeOptions{
		Kubeconfig: o.Kubeconfig, Context: o.Context,
		Namespace: o.AgentNamespace, Selector: o.AgentSelector, Port: o.AgentPort,
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

// history prints the stored records of [from, to), oldest first. When
// joining live it leaves out what sm says the live streams print, and
// notes the rest in sm.
func history(ctx context.Context, st store.Store, o *Options, f *entry.Filter, to time.Time, p *printer, sm *seam) error {
	q := store.Query{Filter: f, From: o.historyFrom(time.Now()), To: to, PageSize: o.PageSize}
	err := st.Search(ctx, q, func(e *entry.Entry) error {
		if sm != nil {
			if sm.live(e) {
				return nil
			}
			sm.add(e)
		}
		return p.print(e)
	})
	if err != nil {
		return err
	}
	return p.flush()
}

// follow starts the live streams, buffers them while history (if any) is
// printed, then prints them as they come.
func follow(ctx context.Context, o *Options, f *entry.Filter, kube *live.Kube, st store.Store, p *printer, log *slog.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	in := make(chan *entry.Entry, 256)
	tail := live.New(in, log)
	defer func() {
		cancel()
		tail.Wait()
	}()
	sm := newSeam()
	buffered := unbounded(ctx, in, sm.noteLive)
	q := f.TapQuery()

	var targets []live.Target
	if kube == nil {
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
			return fmt.Errorf("no sluice agents found: no running pod in namespace %s matches %s (is sluice installed? see --agent-namespace, --agent-selector)",
				o.AgentNamespace, o.AgentSelector)
		}
	}
	if err := connectError(tail.Sync(ctx, targets), len(targets)); err != nil {
		return err
	}
	if kube != nil {
		go resync(ctx, kube, tail, q, o.Resync, log)
	}

	if st != nil {
		// What an agent tapped before our streams began may still be on
		// its way to the store: let it land, then read history to past
		// now. Everything is then in history or in the buffered streams.
		select {
		case <-time.After(o.SeamDelay):
		case <-ctx.Done():
			return nil
		}
		if err := history(ctx, st, o, f, time.Now().Add(clockSkew), p, sm); err != nil {
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
			case <-ctx.Done():
				return nil
			}
		}
		if sm.seen(e) {
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
