package logscli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/sluicelog/sluice/logscli/live"
)

// logs --status: every agent's delivery ledger (its /api/v1/status), file
// by file, so an operator can prove that nothing was lost, or see exactly
// what was. The agents are found as -f finds them (--agent URLs, or the
// API server's pod proxy).

// agentStatus is the part of an agent's /api/v1/status the ledger needs
// (agent/runtime.Status; not imported, to keep the CLI small).
type agentStatus struct {
	Node   string `json:"node"`
	Inputs []struct {
		Name     string       `json:"name"`
		Files    []fileLedger `json:"files"`
		Released []fileLedger `json:"released_files"`
	} `json:"inputs"`
}

// fileLedger is one file of an agent's ledger, as it shows it.
type fileLedger struct {
	Node            string     `json:"node"`
	Input           string     `json:"input"`
	Path            string     `json:"path"`
	Namespace       string     `json:"namespace,omitempty"`
	Pod             string     `json:"pod,omitempty"`
	Container       string     `json:"container,omitempty"`
	State           string     `json:"state"`
	Size            int64      `json:"size"`
	Offset          int64      `json:"offset"`
	Acked           int64      `json:"acked"`
	Generation      uint64     `json:"generation"`
	AckedGeneration uint64     `json:"acked_generation"`
	RotatedUnread   int64      `json:"rotated_unread"`
	LastAck         *time.Time `json:"last_ack,omitempty"`
	Released        *time.Time `json:"released,omitempty"`
}

// maxStatusBytes bounds an agent's status page: 256 released files and a
// few thousand open ones fit many times over.
const maxStatusBytes = 64 << 20

// status prints the ledgers of the agents; an agent that cannot be read
// is said on stderr, and makes the exit status 1 after the others print.
func status(ctx context.Context, o *Options, stdout, stderr io.Writer) error {
	targets, err := statusTargets(ctx, o)
	if err != nil {
		return err
	}
	if len(targets) == 0 {
		return errors.New("no sluice agent found (no running pod in namespace " + o.AgentNamespace + " matches " + o.AgentSelector + ")")
	}
	keep, err := ledgerFilter(o)
	if err != nil {
		return err
	}
	var files []fileLedger
	failed := 0
	for _, t := range targets {
		st, err := readStatus(ctx, t)
		if err != nil {
			fmt.Fprintln(stderr, "logs:", describe(err))
			failed++
			continue
		}
		for _, in := range st.Inputs {
			for _, group := range [][]fileLedger{in.Files, in.Released} {
				for _, f := range group {
					f.Node, f.Input = st.Node, in.Name
					if keep(f) {
						files = append(files, f)
					}
				}
			}
		}
	}
	sort.SliceStable(files, func(i, j int) bool {
		a, b := files[i], files[j]
		switch {
		case a.Node != b.Node:
			return a.Node < b.Node
		case a.Path != b.Path:
			return a.Path < b.Path
		case (a.Released == nil) != (b.Released == nil):
			return a.Released != nil // a file let go of before the one that took its name
		case a.Released != nil:
			return a.Released.Before(*b.Released)
		}
		return false
	})
	if failed == len(targets) {
		return fmt.Errorf("no agent could be read")
	}
	if o.Output == "json" || o.Output == "raw" {
		err = printLedgerJSON(stdout, files)
	} else {
		err = printLedger(stdout, files, o.loc)
	}
	if err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d agents could not be read", failed, len(targets))
	}
	return nil
}

// statusTargets are the agents' status pages: --agent URLs, else the
// agent pods through the API server.
func statusTargets(ctx context.Context, o *Options) ([]live.Target, error) {
	token, err := readToken(o.TokenFile)
	if err != nil {
		return nil, err
	}
	if len(o.Agents) > 0 {
		var out []live.Target
		for _, a := range o.Agents {
			t, err := live.DirectAt(a, token, "status", nil)
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		}
		return out, nil
	}
	ko := o.kubeOptions()
	ko.Token = token
	k, err := live.LoadKube(ko)
	if err != nil {
		return nil, err
	}
	return k.TargetsAt(ctx, "status", nil)
}

// readStatus reads one agent's status page.
func readStatus(ctx context.Context, t live.Target) (*agentStatus, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rc, err := t.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	body, err := io.ReadAll(io.LimitReader(rc, maxStatusBytes+1))
	if err != nil {
		return nil, fmt.Errorf("agent %s: read status: %w", t.Name, err)
	}
	if len(body) > maxStatusBytes {
		return nil, fmt.Errorf("agent %s: status larger than %d MiB", t.Name, maxStatusBytes>>20)
	}
	var st agentStatus
	if err := json.Unmarshal(body, &st); err != nil {
		return nil, fmt.Errorf("agent %s: status is not the JSON of a sluice agent: %w", t.Name, err)
	}
	return &st, nil
}

// ledgerFilter keeps the files of -n, QUERY (a pod regexp), -c and
// --input.
func ledgerFilter(o *Options) (func(fileLedger) bool, error) {
	var pod, ctr *regexp.Regexp
	var err error
	if o.PodRegex != "" {
		if pod, err = regexp.Compile(o.PodRegex); err != nil {
			return nil, usagef("QUERY %q: %v", o.PodRegex, err)
		}
	}
	if o.Container != "" {
		if ctr, err = regexp.Compile(o.Container); err != nil {
			return nil, usagef("-c %q: %v", o.Container, err)
		}
	}
	return func(f fileLedger) bool {
		return (o.Namespace == "" || f.Namespace == o.Namespace) &&
			(pod == nil || pod.MatchString(f.Pod)) &&
			(ctr == nil || ctr.MatchString(f.Container)) &&
			(o.Input == "" || f.Input == o.Input)
	}, nil
}

// printLedgerJSON writes a JSON object per file, one a line.
func printLedgerJSON(w io.Writer, files []fileLedger) error {
	enc := json.NewEncoder(w)
	for _, f := range files {
		if err := enc.Encode(f); err != nil {
			return err
		}
	}
	return nil
}

// printLedger writes a table, a file a row, then the totals. UNREAD is
// what the file holds beyond what was read, UNACKED what was read and is
// not delivered yet, ROTATED-UNREAD what left the file before it was read.
func printLedger(w io.Writer, files []fileLedger, loc *time.Location) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tNAMESPACE\tPOD\tCONTAINER\tSTATE\tGEN\tSIZE\tREAD\tACKED\tUNREAD\tUNACKED\tROTATED-UNREAD\tLAST-ACK\tPATH")
	var unread, unacked, rotated int64
	for _, f := range files {
		u, a := max(f.Size-f.Offset, 0), f.unacked()
		unread, unacked, rotated = unread+u, unacked+a, rotated+f.RotatedUnread
		last := "-"
		if f.LastAck != nil {
			last = f.LastAck.In(loc).Format("15:04:05")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%d\t%d\t%d\t%s\t%s\n",
			f.Node, dash(f.Namespace), dash(f.Pod), dash(f.Container), f.State, f.Generation,
			f.Size, f.Offset, acked(f.Acked), u, a, f.RotatedUnread, last, f.Path)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d files: %d bytes not read yet, %d read and not acknowledged, %d rotated away unread\n",
		len(files), unread, unacked, rotated)
	return err
}

// unacked is what was read of the generation being read and is not
// delivered; 0 when the acknowledgements are of an older generation.
func (f fileLedger) unacked() int64 {
	switch {
	case f.Acked < 0:
		return f.Offset
	case f.AckedGeneration != f.Generation:
		return f.Offset
	}
	return max(f.Offset-f.Acked, 0)
}

func acked(n int64) string {
	if n < 0 {
		return "-"
	}
	return strconv.FormatInt(n, 10)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
