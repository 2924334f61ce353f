package runtime

import (
	"fmt"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/fairshare"
	"github.com/sluicelog/sluice/collector/tail"
)

// defaultFairInFlight is fair_share's budget when no output says what it
// holds in flight (console only).
const defaultFairInFlight = 1 << 20

// shareFairly turns an input's fair_share on: its budget is in_flight, or
// a quarter of what the outputs hold in flight ((workers + bulk.workers)
// × bulk.max_bytes each). The budget counts the lines' bytes, and a
// line's document is two to four times its size, so a quarter still fills
// the bulk bodies being sent and the next one; a quiet key waits behind
// about the budget, so more only adds latency (bench/RESULTS.md, noisy
// neighbours: a half doubled the quiet lines' latency for the same
// throughput). Partly filled bodies go as soon as the workers are idle
// while batches wait (FlushWhenHeld), not after flush_interval.
func (a *Agent) shareFairly(t *tail.Tailer, in config.Input) error {
	f := in.FairShare
	if f == nil {
		return nil
	}
	limit := int64(f.InFlight)
	if limit == 0 {
		limit = a.outputsInFlight() / 4
	}
	limit = max(limit, int64(in.BatchBytes))
	s := fairshare.New(limit)
	s.SetCeilings(int64(f.MaxBytesPerSecond), int64(f.MaxRecordsPerSecond))
	p := fairshare.Policy{
		By: f.By, Weights: f.Weights, DefaultWeight: f.DefaultWeight,
		MaxLagBytes: int64(f.MaxLag.Bytes), MaxLagTime: f.MaxLag.Time.Duration(), DropOldest: f.OnMaxLag == "drop_oldest",
	}
	for _, lw := range f.LabelWeights {
		sel, err := labels.Parse(lw.Selector) // checked by the config already
		if err != nil {
			return fmt.Errorf("fair_share label_weights %q: %w", lw.Selector, err)
		}
		p.LabelWeights = append(p.LabelWeights, fairshare.LabelWeight{Selector: sel, Weight: lw.Weight})
	}
	if a.kube != nil {
		p.Pods = a.kube.PodMeta
		p.Invalid = fairshare.NewInvalid(a.logger.With("input", in.Name))
	}
	t.ShareFairly(s, p)
	if err := a.registry.Register(s.Collector(in.Name)); err != nil {
		return fmt.Errorf("fair share metrics: %w", err)
	}
	if a.fair == nil {
		a.fair = map[string]*fairshare.Scheduler{}
	}
	a.fair[in.Name] = s
	a.pipe.FlushWhenHeld(a.fairHeld)
	a.logger.Info("fair share on", "input", in.Name, "by", f.By, "in_flight_bytes", limit)
	return nil
}

// fairHeld reports whether a fair_share input holds batches back for
// its budget (the pipeline then flushes at once when idle).
func (a *Agent) fairHeld() bool {
	for _, s := range a.fair {
		if s.Stats().Waiting.Load() > 0 {
			return true
		}
	}
	return false
}

// outputsInFlight sums what the outputs hold in flight.
func (a *Agent) outputsInFlight() int64 {
	var sum int64
	writers := max(a.cfg.Workers, 1)
	for _, o := range a.outputs {
		if b, ok := o.(interface{ InFlightBytes(writers int) int64 }); ok {
			sum += b.InFlightBytes(writers)
		}
	}
	if sum == 0 {
		return defaultFairInFlight
	}
	return sum
}

// FairShareStatus is an input's fair share on the status page.
type FairShareStatus struct {
	InFlightBytes int64                 `json:"in_flight_bytes"`
	LimitBytes    int64                 `json:"limit_bytes"`
	Waiting       int64                 `json:"waiting_batches"`
	Keys          []fairshare.KeyStatus `json:"keys"`
}

// fairStatus is input name's fair share, or nil when it is off.
func (a *Agent) fairStatus(name string) *FairShareStatus {
	s := a.fair[name]
	if s == nil {
		return nil
	}
	st := s.Stats()
	return &FairShareStatus{
		InFlightBytes: st.InFlight.Load(), LimitBytes: s.Limit(), Waiting: st.Waiting.Load(),
		Keys: s.Keys(),
	}
}
