package config

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
	if f.InFlight != 0 && f.InFlight < 4<<10 {
		p.add("must be at least 4KiB (or unset: sized from the outputs), got %d bytes", key("in_flight"), int64(f.InFlight))
	}
}
