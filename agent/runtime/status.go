package runtime

import (
	goruntime "runtime"
	"slices"
	"strings"
	"time"

	"github.com/sluicelog/sluice/agent/kube"
	"github.com/sluicelog/sluice/collector/tail"
)

// Status is what /api/v1/status shows.
type Status struct {
	Version       string         `json:"version"`
	GoVersion     string         `json:"go_version"`
	Node          string         `json:"node"`
	Started       time.Time      `json:"started"`
	UptimeSeconds float64        `json:"uptime_seconds"`
	Ready         bool           `json:"ready"`
	Health        string         `json:"health"` // "ok" or why /healthz fails
	Pipeline      PipelineStatus `json:"pipeline"`
	Inputs        []InputStatus  `json:"inputs"`
	Outputs       []OutputStatus `json:"outputs"`
	// Kubernetes is the pod metadata cache; absent when enrichment is off.
	Kubernetes *kube.Status `json:"kubernetes,omitempty"`
}

// PipelineStatus is the handoff between inputs and outputs.
type PipelineStatus struct {
	Workers        int   `json:"workers"`
	MemoryBytes    int64 `json:"memory_bytes"`
	MemoryLimit    int64 `json:"memory_limit_bytes"` // memory_limit: the agent's whole memory
	BatchLimit     int64 `json:"batch_limit_bytes"`  // the batches' share of it
	RingItems      int   `json:"ring_items"`
	RingCapacity   int   `json:"ring_capacity"`
	TapSubscribers int   `json:"tap_subscribers"`
}

// InputStatus is one input with its counters and, for container_logs, its
// open files.
type InputStatus struct {
	Name        string           `json:"name"`
	Type        string           `json:"type"`
	Records     int64            `json:"records"`
	Bytes       int64            `json:"bytes"`
	ParseErrors int64            `json:"parse_errors"`
	Dropped     map[string]int64 `json:"dropped"`
	Files       []FileStatus     `json:"files,omitempty"`
}

// FileStatus is one file being read. Offset is how far it is read, Acked
// how far its lines are delivered (-1: nothing yet), Lag = Size - Offset.
type FileStatus struct {
	Path   string `json:"path"`
	Offset int64  `json:"offset"`
	Acked  int64  `json:"acked"`
	Size   int64  `json:"size"`
	Lag    int64  `json:"lag"`
}

// OutputStatus is one output with its counters.
type OutputStatus struct {
	Name           string `json:"name"`
	Type           string `json:"type"`
	Sent           int64  `json:"documents_sent"`
	Duplicate      int64  `json:"documents_duplicate"`
	Failed         int64  `json:"documents_failed"`
	ItemRetries    int64  `json:"item_retries"`
	RequestRetries int64  `json:"request_retries"`
	Bytes          int64  `json:"bytes"`
	InFlight       int64  `json:"inflight_requests"`
}

// Status reads the agent's state now.
func (a *Agent) Status() Status {
	st := Status{
		Version:       a.version,
		GoVersion:     goruntime.Version(),
		Node:          a.cfg.NodeName,
		Started:       a.started.UTC(),
		UptimeSeconds: time.Since(a.started).Seconds(),
		Ready:         a.readiness() == nil,
		Health:        "ok",
		Pipeline: PipelineStatus{
			Workers:        a.pipe.Workers(),
			MemoryBytes:    a.pipe.MemoryUsed(),
			MemoryLimit:    int64(a.cfg.MemoryLimit),
			BatchLimit:     a.pipe.MemoryLimit(),
			RingItems:      a.pipe.RingLen(),
			RingCapacity:   a.pipe.RingCap(),
			TapSubscribers: a.pipe.Tap().Subscribers(),
		},
		Inputs:  []InputStatus{},
		Outputs: []OutputStatus{},
	}
	if a.kube != nil {
		ks := a.kube.Status()
		st.Kubernetes = &ks
	}
	if err := a.pipe.Health(); err != nil {
		st.Health = err.Error()
	}
	for _, in := range a.inputStats {
		is := InputStatus{
			Name: in.Name, Type: in.Type,
			Records: in.Records(), Bytes: in.Bytes(), ParseErrors: in.ParseErrors(),
			Dropped: map[string]int64{},
		}
		for _, d := range in.Drops {
			is.Dropped[d.Reason] = d.Count()
		}
		if in.Files != nil {
			is.Files = []FileStatus{}
			in.Files(func(f tail.OpenFile) {
				is.Files = append(is.Files, FileStatus{Path: f.Path, Offset: f.Offset, Acked: f.Acked, Size: f.Size, Lag: f.Lag()})
			})
			slices.SortFunc(is.Files, func(x, y FileStatus) int { return strings.Compare(x.Path, y.Path) })
		}
		st.Inputs = append(st.Inputs, is)
	}
	for _, o := range a.outputStats {
		s := o.Stats()
		st.Outputs = append(st.Outputs, OutputStatus{
			Name: o.Name, Type: o.Type,
			Sent: s.Sent, Duplicate: s.Duplicate, Failed: s.Failed,
			ItemRetries: s.ItemRetries, RequestRetries: s.RequestRetries,
			Bytes: s.Bytes, InFlight: s.InFlight,
		})
	}
	return st
}
