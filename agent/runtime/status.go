package runtime

import (
	goruntime "runtime"
	"slices"
	"strings"
	"time"

	"github.com/sluicelog/sluice/agent/console"
	"github.com/sluicelog/sluice/agent/elasticsearch"
	"github.com/sluicelog/sluice/agent/kafka"
	"github.com/sluicelog/sluice/agent/kube"
	"github.com/sluicelog/sluice/agent/otlp"
	"github.com/sluicelog/sluice/agent/pipeline"
	"github.com/sluicelog/sluice/collector/syslog"
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
	// Filters are the drop, keep, throttle and fields transforms, with
	// each throttle's top offenders (kept out of metric labels: they name
	// pods).
	Filters []FilterStatus `json:"filters,omitempty"`
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
	Truncated   int64            `json:"truncated"` // shipped cut
	Lost        map[string]int64 `json:"lost"`      // never reaching a store, by reason
	// LagSeconds is the age of the oldest record read and not yet
	// acknowledged.
	LagSeconds float64      `json:"lag_seconds"`
	Files      []FileStatus `json:"files,omitempty"`
	// Released are the files let go of most recently (rotated away,
	// deleted, idle or given up on), with their final account.
	Released []FileStatus `json:"released_files,omitempty"`
	// FairShare is the input's fair_share scheduler; absent when off.
	FairShare *FairShareStatus `json:"fair_share,omitempty"`
	Spool     *SpoolStatus     `json:"spool,omitempty"`
}

// SpoolStatus is a syslog input's disk spool: what it holds, how long its
// oldest record has waited, and what went through it.
type SpoolStatus struct {
	Bytes            int64   `json:"bytes"`
	Segments         int64   `json:"segments"`
	OldestAgeSeconds float64 `json:"oldest_age_seconds"`
	Spooled          int64   `json:"spooled"`
	Replayed         int64   `json:"replayed"`
	Dropped          int64   `json:"dropped"`
	CorruptBytes     int64   `json:"corrupt_bytes"`
	WriteErrors      int64   `json:"write_errors"`
}

// FileStatus is one file's delivery ledger (tail.FileLedger). Offset is
// how far it is read, Acked how far its lines are delivered (-1: nothing
// yet), Lag = Size - Offset.
type FileStatus struct {
	Path      string `json:"path"`
	Namespace string `json:"namespace,omitempty"`
	Pod       string `json:"pod,omitempty"`
	Container string `json:"container,omitempty"`
	State     string `json:"state"`
	Offset    int64  `json:"offset"`
	Acked     int64  `json:"acked"`
	Size      int64  `json:"size"`
	Lag       int64  `json:"lag"`
	// LagSeconds is the age of the file's oldest line read and not yet
	// acknowledged; 0 when all read lines are.
	LagSeconds      float64    `json:"lag_seconds"`
	Generation      uint64     `json:"generation"`
	AckedGeneration uint64     `json:"acked_generation"`
	RotatedUnread   int64      `json:"rotated_unread"`
	LastAck         *time.Time `json:"last_ack,omitempty"`
	Released        *time.Time `json:"released,omitempty"`
}

// fileStatus is a file's ledger entry on the status page.
func fileStatus(f tail.FileLedger, now time.Time) FileStatus {
	fs := FileStatus{
		Path: f.Path, Namespace: f.Namespace, Pod: f.Pod, Container: f.Container, State: f.State,
		Offset: f.Read, Acked: f.Acked, Size: f.Size, Lag: max(f.Size-f.Read, 0),
		LagSeconds: ageSeconds(f.OldestUnacked, now), Generation: f.Generation,
		AckedGeneration: f.AckedGeneration, RotatedUnread: f.RotatedUnread,
	}
	if !f.LastAck.IsZero() {
		t := f.LastAck.UTC()
		fs.LastAck = &t
	}
	if !f.Released.IsZero() {
		t := f.Released.UTC()
		fs.Released = &t
	}
	return fs
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
	// DeadLettered and Pending: kafka outputs' records in the dead-letter
	// topic, and handed to the producer and not acknowledged yet.
	DeadLettered int64 `json:"documents_dead_lettered,omitempty"`
	Pending      int64 `json:"documents_pending,omitempty"`
	// AuthError: a kafka output's last SASL refusal while refusals go on.
	AuthError string `json:"auth_error,omitempty"`
	// Health is the output's state in words (elasticsearch outputs).
	Health *elasticsearch.State `json:"health,omitempty"`
}

// FilterStatus is one filter transform's counters.
type FilterStatus struct {
	Name    string         `json:"name"`
	Type    string         `json:"type"`
	Dropped int64          `json:"dropped"`
	Edited  int64          `json:"edited,omitempty"`
	Keys    int            `json:"keys,omitempty"`
	Top     []ThrottledKey `json:"top,omitempty"`
}

// ThrottledKey is a throttle key with the records dropped of it.
type ThrottledKey struct {
	Key     string `json:"key"`
	Dropped int64  `json:"dropped"`
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
	if a.filterStats != nil {
		for _, f := range a.filterStats() {
			fs := FilterStatus{Name: f.Name, Type: f.Type, Dropped: f.Dropped, Edited: f.Edited, Keys: f.Keys}
			for _, k := range f.Top {
				fs.Top = append(fs.Top, ThrottledKey{Key: k.Key, Dropped: k.Dropped})
			}
			st.Filters = append(st.Filters, fs)
		}
	}
	if a.kube != nil {
		ks := a.kube.Status()
		st.Kubernetes = &ks
	}
	if err := a.pipe.Health(); err != nil {
		st.Health = err.Error()
	}
	for _, src := range a.sources {
		is := src.status()
		is.FairShare = a.fairStatus(src.name)
		if sp := a.spools[src.name]; sp != nil {
			is.Spool = spoolStatus(sp)
		}
		st.Inputs = append(st.Inputs, is)
	}
	for _, o := range a.outputs {
		st.Outputs = append(st.Outputs, outputStatus(o))
	}
	return st
}

// ageSeconds is the seconds from t to now; 0 for the zero time.
func ageSeconds(t, now time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return max(now.Sub(t).Seconds(), 0)
}

// source is a configured input, for the status page.
type source struct {
	name, typ string
	in        input
}

// status reads the input's counters now.
func (s source) status() InputStatus {
	is := InputStatus{Name: s.name, Type: s.typ, Lost: map[string]int64{}}
	now := time.Now()
	switch in := s.in.(type) {
	case *tail.Tailer:
		st := in.Stats()
		is.Records, is.Bytes, is.ParseErrors = st.Records.Load(), st.BytesRead.Load(), st.Malformed.Load()
		is.Truncated = st.Truncated.Load()
		is.LagSeconds = ageSeconds(in.OldestUnacked(), now)
		is.Files = []FileStatus{}
		in.Ledger(func(f tail.FileLedger) {
			if f.Released.IsZero() {
				is.Files = append(is.Files, fileStatus(f, now))
			} else {
				is.Released = append(is.Released, fileStatus(f, now))
			}
		})
		slices.SortFunc(is.Files, func(x, y FileStatus) int { return strings.Compare(x.Path, y.Path) })
	case *syslog.Input:
		st := in.Stats()
		is.Records, is.Bytes, is.ParseErrors = st.Records.Load(), st.Bytes.Load(), st.Malformed.Load()
		is.Truncated = st.Truncated.Load()
		is.LagSeconds = ageSeconds(in.OldestUnacked(), now)
		for _, l := range in.Lost() {
			is.Lost[l.Reason] = l.Records
		}
	}
	return is
}

// outputStatus reads the output's counters and health now.
func outputStatus(o pipeline.Output) OutputStatus {
	switch o := o.(type) {
	case *elasticsearch.Output:
		s := o.Stats()
		h := o.Health()
		return OutputStatus{
			Name: o.Name(), Type: "elasticsearch",
			Sent: s.DocsSent, Duplicate: s.DocsDuplicate, Failed: s.DocsFailed,
			ItemRetries: s.ItemRetries, RequestRetries: s.RequestRetries,
			Bytes: s.BytesSent, InFlight: s.InFlight, Health: &h,
		}
	case *console.Output:
		s := o.Stats()
		return OutputStatus{Name: o.Name(), Type: "console", Sent: s.Documents, Failed: s.Failed, Bytes: s.Bytes}
	case *kafka.Output:
		s := o.Stats()
		return OutputStatus{
			Name: o.Name(), Type: "kafka", Sent: s.DocsSent, Failed: s.DocsFailed,
			ItemRetries: s.Retries, Bytes: s.BytesSent, DeadLettered: s.DocsDeadLettered, Pending: s.Pending,
			AuthError: s.AuthError,
		}
	case *otlp.Output:
		s := o.Stats()
		return OutputStatus{
			Name: o.Name(), Type: "otlp", Sent: s.Sent, Failed: s.Failed,
			RequestRetries: s.RequestRetries, Bytes: s.Bytes, InFlight: s.InFlight,
		}
	}
	return OutputStatus{}
}
