package config

import (
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
	"k8s.io/apimachinery/pkg/labels"
)

// FairShare admits a container_logs input's batches per key by weighted
// fair queuing when the outputs are the bottleneck (agent/fairshare): a
// noisy key is slowed by reading its files later, never by dropping.
//
//	fair_share: { by: namespace, weights: { payments: 4 }, in_flight: 1MiB }
type FairShare struct {
	// By is what shares: namespace, pod or container (from the file's
	// path, as the kubelet names it).
	By string `yaml:"by"`
	// Weights gives a namespace's keys their weight; DefaultWeight the
	// others'. A key with weight 4 gets four times the bytes of a key
	// with weight 1 while both have more to send than there is room for.
	Weights       map[string]int `yaml:"weights"`
	DefaultWeight int            `yaml:"default_weight"`
	// InFlight is the budget of bytes read and not yet acknowledged that
	// all keys share; 0 = the outputs' in-flight bytes ((workers +
	// bulk.workers) × bulk.max_bytes, summed), set by the runtime. Smaller
	// means less latency for a quiet key behind a backlog, too small
	// starves the outputs.
	InFlight ByteSize `yaml:"in_flight"`
	// MaxLag bounds how far behind a file may fall, in bytes (size −
	// the start of the batch waiting to go) or time (the age of its
	// first line); zero: no bound. OnMaxLag says what happens beyond it:
	// wait (read on later; nothing dropped) or drop_oldest (skip ahead,
	// counted, with a summary record; a deleted file is let go of and its
	// unread bytes counted rotated away).
	MaxLag   MaxLag `yaml:"max_lag"`
	OnMaxLag string `yaml:"on_max_lag"`
	// LabelWeights give the files of pods whose labels match a selector a
	// weight, the first match; a pod's annotation sluice.io/weight wins
	// over them, and they over Weights. Both need kubernetes enrichment.
	LabelWeights []LabelWeight `yaml:"label_weights"`
	// Per-key ceilings: a key sends no faster, even with room to spare;
	// a batch over it waits (delayed, never dropped). 0: none.
	MaxBytesPerSecond   ByteSize `yaml:"max_bytes_per_second"`
	MaxRecordsPerSecond int      `yaml:"max_records_per_second"`
}

// LabelWeight is a weight for the pods a label selector matches.
type LabelWeight struct {
	Selector string `yaml:"selector"` // app=api, tier in (web,api), !canary
	Weight   int    `yaml:"weight"`
}

// MaxLag is a bound in bytes (10MiB) or in time (5m); at most one is set.
type MaxLag struct {
	Bytes ByteSize `yaml:"-"`
	Time  Duration `yaml:"-"`
}

// IsZero reports whether no bound is set.
func (m MaxLag) IsZero() bool { return m.Bytes == 0 && m.Time == 0 }

// UnmarshalYAML reads a duration (300ms, 30s, 5m, 1h) or a size (10MiB):
// "m" is minutes; megabytes are M, MB or Mi.
func (m *MaxLag) UnmarshalYAML(n *yaml.Node) error {
	v := strings.TrimSpace(n.Value)
	if d, err := time.ParseDuration(v); err == nil {
		if d <= 0 {
			return fmt.Errorf("line %d: must be positive, got %q", n.Line, v)
		}
		*m = MaxLag{Time: Duration(d)}
		return nil
	}
	b, err := ParseByteSize(v)
	if err != nil || b == 0 {
		return fmt.Errorf("line %d: must be a size such as 64Mi or a duration such as 5m, got %q", n.Line, v)
	}
	*m = MaxLag{Bytes: b}
	return nil
}

// maxWeight bounds a weight, so a typo cannot take every share.
const maxWeight = 1000

func defaultFairShare(f *FairShare) {
	if f == nil {
		return
	}
	if f.By == "" {
		f.By = "namespace"
	}
	if f.DefaultWeight == 0 {
		f.DefaultWeight = 1
	}
	if f.OnMaxLag == "" {
		f.OnMaxLag = "wait"
	}
}

// validateFairShare checks an input's fair_share section.
func validateFairShare(p *problems, in Input, at func(string) []any) {
	f := in.FairShare
	if f == nil {
		return
	}
	key := func(k string) []any { return append(at("fair_share"), k) }
	if in.Type != "container_logs" {
		p.add("only for container_logs inputs", at("fair_share"))
		return
	}
	switch f.By {
	case "namespace", "pod", "container":
	default:
		p.add("must be namespace, pod or container, got %q", key("by"), f.By)
	}
	if f.DefaultWeight < 1 || f.DefaultWeight > maxWeight {
		p.add("must be between 1 and %d, got %d", key("default_weight"), maxWeight, f.DefaultWeight)
	}
	for ns, w := range f.Weights {
		if w < 1 || w > maxWeight {
			p.add("must be between 1 and %d, got %d", append(key("weights"), ns), maxWeight, w)
		}
	}
	for i, lw := range f.LabelWeights {
		at := append(key("label_weights"), i)
		if _, err := labels.Parse(lw.Selector); err != nil || strings.TrimSpace(lw.Selector) == "" {
			p.add("must be a label selector such as app=api or 'tier in (web,api)', got %q", append(at, "selector"), lw.Selector)
		}
		if lw.Weight < 1 || lw.Weight > maxWeight {
			p.add("must be between 1 and %d, got %d", append(at, "weight"), maxWeight, lw.Weight)
		}
	}
	if f.MaxRecordsPerSecond < 0 {
		p.add("must be 0 (none) or more, got %d", key("max_records_per_second"), f.MaxRecordsPerSecond)
	}
	switch f.OnMaxLag {
	case "wait", "drop_oldest":
	default:
		p.add("must be wait or drop_oldest, got %q", key("on_max_lag"), f.OnMaxLag)
	}
	if f.OnMaxLag == "drop_oldest" && f.MaxLag.IsZero() {
		p.add("drop_oldest needs max_lag (a size such as 64Mi or a duration such as 5m)", key("on_max_lag"))
	}
	if f.InFlight != 0 && f.InFlight < 4<<10 {
		p.add("must be at least 4KiB (or unset: sized from the outputs), got %d bytes", key("in_flight"), int64(f.InFlight))
	}
}
