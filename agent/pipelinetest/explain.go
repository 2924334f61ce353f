package pipelinetest

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/document"
	"github.com/sluicelog/sluice/agent/kube"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/agent/record/stream"
	"github.com/sluicelog/sluice/agent/transform"
	"github.com/sluicelog/sluice/collector/tail"
	"github.com/sluicelog/sluice/parsers/cri"
	"github.com/sluicelog/sluice/parsers/docker"
)

// filterTypes are the transforms that run after encoding
// (agent/transform); the others are the encoder's parsers.
var filterTypes = map[string]bool{"drop": true, "keep": true, "throttle": true, "fields": true}

// Explain prints, for a case's first input, what each stage of the
// pipeline made of it, in the order the agent runs them: the records read
// (after CRI/docker parsing and joining partial lines), after multiline,
// the Kubernetes metadata, the document after each parser transform and
// each filter transform, the routing decision, and each output's final
// document with its index and _id. Every stage runs the agent's own code
// on a fresh copy of the input.
func (f *File) Explain(w io.Writer, cfg *config.Config, c *Case) error {
	if len(c.Inputs) == 0 {
		return fmt.Errorf("nothing to explain: no input")
	}
	in := c.Inputs[0]
	h := &harness{cfg: cfg, clock: f.Clock.UnixNano(), dataStreams: f.DataStreams == nil || *f.DataStreams}
	one := &Case{Pods: c.Pods, Inputs: []Input{in}}
	read := func(noMultiline bool) (*record.Batch, error) {
		cp := *cfg
		cp.Inputs = append([]config.Input(nil), cfg.Inputs...)
		if noMultiline {
			for i := range cp.Inputs {
				cp.Inputs[i].Multiline = nil
			}
		}
		hh := &harness{cfg: &cp, clock: h.clock}
		bs, err := hh.read(one)
		if err != nil {
			return nil, err
		}
		return bs[0], nil
	}
	section(w, "input")
	for _, l := range append(in.Lines, in.Frames...) {
		fmt.Fprintf(w, "  %s\n", l)
	}
	b, err := read(true)
	if err != nil {
		return err
	}
	if len(in.Frames) == 0 {
		if ic, err := h.input(in.Input, "container_logs"); err == nil && !tail.Takes(ic, b.Source.Path) {
			fmt.Fprintf(w, "  file %s\n  input %s does not read this file: no glob of its paths matches it, or an exclude does\n", b.Source.Path, ic.Name)
			b.Discard()
			return nil
		}
	}
	if len(in.Frames) > 0 {
		section(w, "after the syslog parser")
	} else {
		fmt.Fprintf(w, "  file %s\n", b.Source.Path)
		section(w, "after CRI/docker parsing")
		printLines(w, in.Lines)
		section(w, "after joining partial lines")
	}
	printRecords(w, b)
	b.Discard()
	if ic, err := h.input(in.Input, "container_logs"); err == nil && len(in.Frames) == 0 && ic.Multiline != nil {
		if b, err = read(false); err != nil {
			return err
		}
		section(w, "after multiline")
		printRecords(w, b)
		b.Discard()
	}
	var enricher *kube.Enricher
	if cfg.Kubernetes.Enabled {
		enc := document.New(cfg.Transforms, h.now)
		if enricher, err = kube.NewStatic(kube.Options{Config: cfg.Kubernetes, NodeName: cfg.NodeName, KnownParser: enc.HasParser}, pods(c), nsLabels(c)); err != nil {
			return fmt.Errorf("kubernetes: %w", err)
		}
	}
	// stage reads the input again and runs it through enrichment, the
	// encoder with parsers and the filter chain with filters.
	stage := func(parsers, filters []config.Transform) (*record.Batch, bool, error) {
		b, err := read(false)
		if err != nil {
			return nil, false, err
		}
		if enricher != nil && !enricher.Enrich(b) {
			return b, false, nil
		}
		document.New(parsers, h.now).EncodeBatch(b)
		chain, err := transform.New(filters, transform.Options{Now: h.now, WallNow: func() time.Time { return time.Unix(0, h.clock) }, LookupEnv: func(string) (string, bool) { return "", false }})
		if err != nil {
			return nil, false, err
		}
		chain.NewWorker().Transform(b)
		return b, true, nil
	}
	b, kept, err := stage(nil, nil)
	if err != nil {
		return err
	}
	section(w, "kubernetes")
	switch {
	case !cfg.Kubernetes.Enabled:
		fmt.Fprintf(w, "  off: names from the file path %s\n", b.Kubernetes())
	case !kept:
		fmt.Fprintf(w, "  excluded by the sluice.io/exclude annotation: nothing is shipped\n")
		b.Discard()
		return nil
	default:
		fmt.Fprintf(w, "  %s\n", b.Kubernetes())
		if b.Parser != "" {
			fmt.Fprintf(w, "  parser from the sluice.io/parser annotation: %s\n", b.Parser)
		}
	}
	section(w, "document (no transform)")
	printDocs(w, b)
	b.Discard()
	var parsers, filters []config.Transform
	for _, t := range cfg.Transforms {
		if !filterTypes[t.Type] {
			parsers = append(parsers, t)
		}
	}
	for i, t := range parsers {
		if b, _, err = stage(parsers[:i+1], nil); err != nil {
			return err
		}
		section(w, "after "+describeTransform(t))
		printDocs(w, b)
		b.Discard()
	}
	for _, t := range cfg.Transforms {
		if !filterTypes[t.Type] {
			continue
		}
		filters = append(filters, t)
		if b, _, err = stage(parsers, filters); err != nil {
			return err
		}
		section(w, "after "+describeTransform(t))
		printDocs(w, b)
		b.Discard()
	}
	if b, _, err = stage(parsers, filters); err != nil {
		return err
	}
	section(w, "routing")
	for _, oc := range cfg.Outputs {
		m, err := transform.NewMatch(oc.Match)
		if err != nil {
			return fmt.Errorf("output %s: %w", oc.Name, err)
		}
		switch {
		case len(b.Records) == 0:
			fmt.Fprintf(w, "  %s: nothing left to route\n", oc.Name)
		case m == nil:
			fmt.Fprintf(w, "  %s: takes everything\n", oc.Name)
		case m.Match(b):
			fmt.Fprintf(w, "  %s: its match takes the batch\n", oc.Name)
		default:
			fmt.Fprintf(w, "  %s: its match does not take the batch\n", oc.Name)
		}
	}
	b.Discard()
	bs, err := h.read(one)
	if err != nil {
		return err
	}
	res, err := h.run(one, bs, cfg.Transforms)
	if err != nil {
		return err
	}
	section(w, "sent")
	if len(res.Docs) == 0 {
		fmt.Fprintf(w, "  nothing (dropped %d, throttled %d, excluded %d, unrouted %d)\n",
			res.Counts.Dropped, res.Counts.Throttled, res.Counts.Excluded, res.Counts.Unrouted)
	}
	for _, d := range res.Docs {
		fmt.Fprintf(w, "  output %s", d.Output)
		if d.Index != "" {
			fmt.Fprintf(w, ", index %s", d.Index)
		}
		if d.ID != "" {
			fmt.Fprintf(w, ", _id %s", d.ID)
			if !d.StableID {
				fmt.Fprintf(w, " (differs from run to run)")
			}
		}
		fmt.Fprintf(w, "\n    %s\n", d.Body)
	}
	return nil
}

func section(w io.Writer, name string) { fmt.Fprintf(w, "== %s\n", name) }

func printRecords(w io.Writer, b *record.Batch) {
	if len(b.Records) == 0 {
		fmt.Fprintf(w, "  no record\n")
	}
	for i := range b.Records {
		r := &b.Records[i]
		var flags []string
		if r.Flags&record.Truncated != 0 {
			flags = append(flags, "cut")
		}
		if r.Flags&record.Malformed != 0 {
			flags = append(flags, "malformed")
		}
		fl := ""
		if len(flags) > 0 {
			fl = " [" + strings.Join(flags, ",") + "]"
		}
		fmt.Fprintf(w, "  %s %s offset %d%s: %q\n", time.Unix(0, r.Time).UTC().Format(time.RFC3339Nano), streamName(r.Stream), r.Offset, fl, r.Line)
	}
}

// printLines shows each physical line as the CRI or docker parser reads
// it, before partial lines are joined.
func printLines(w io.Writer, lines []string) {
	for _, l := range lines {
		line := []byte(l)
		var (
			t       int64
			st      stream.Stream
			partial bool
			msg     []byte
			err     error
			format  = "cri"
		)
		switch {
		case cri.Looks(line):
			var cl cri.Line
			cl, err = cri.Parse(line)
			t, st, partial, msg = cl.Time, cl.Stream, cl.Partial, cl.Msg
		case docker.Looks(line):
			var dl docker.Line
			dl, _, err = docker.Parse(nil, line)
			t, st, partial, msg, format = dl.Time, dl.Stream, dl.Partial, dl.Msg, "docker"
		default:
			fmt.Fprintf(w, "  not a container log line: shipped as it is: %q\n", l)
			continue
		}
		if err != nil {
			fmt.Fprintf(w, "  %s: malformed (%v): kept raw\n", format, err)
			continue
		}
		tag := "full"
		if partial {
			tag = "partial"
		}
		fmt.Fprintf(w, "  %s %s %s %s: %q\n", format, time.Unix(0, t).UTC().Format(time.RFC3339Nano), streamName(st), tag, msg)
	}
}

func streamName(s stream.Stream) string {
	if n := s.String(); n != "" {
		return n
	}
	return "-"
}

func printDocs(w io.Writer, b *record.Batch) {
	if len(b.Records) == 0 {
		fmt.Fprintf(w, "  dropped\n")
	}
	for i := range b.Records {
		fmt.Fprintf(w, "  %s\n", strings.TrimSpace(string(b.Doc(i))))
	}
}

func describeTransform(t config.Transform) string {
	s := "transform " + t.Type
	var field string
	if f := t.Filter(); f != nil && f.Name != "" {
		s += " " + f.Name
	}
	switch spec := t.Spec.(type) {
	case *config.Drop:
		field = spec.Field
	case *config.Keep:
		field = spec.Field
	case *config.Throttle:
		field = spec.Field
	default:
		if o := t.Parser(); o != nil {
			field = o.Field
		}
	}
	if field != "" {
		s += " (field " + field + ")"
	}
	return s
}
