package metrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicelog/sluice/agent/console"
	"github.com/sluicelog/sluice/agent/elasticsearch"
	"github.com/sluicelog/sluice/collector/syslog"
	"github.com/sluicelog/sluice/collector/tail"
)

// TailInput describes a container_logs input.
func TailInput(name string, t *tail.Tailer) Input {
	st := t.Stats()
	return Input{
		Name: name, Type: "container_logs",
		Records:       st.Records.Load,
		Bytes:         st.BytesRead.Load,
		ParseErrors:   st.Malformed.Load,
		OpenErrors:    st.OpenErrors.Load,
		Truncated:     st.Truncated.Load,
		FilesOpen:     st.FilesOpen.Load,
		Files:         t.OpenFiles,
		OldestUnacked: t.OldestUnacked,
		Joined:        st.MultilineJoined.Load,
		RotatedUnread: []Drop{
			{Reason: "recovered", Count: st.UnreadRecovered.Load},
			{Reason: "lost", Count: st.UnreadLost.Load},
		},
		FilesRefused: func() []Drop {
			out := make([]Drop, 0, len(tail.Refusals))
			for _, why := range tail.Refusals {
				out = append(out, Drop{Reason: why.String(), Count: st.Refused[why].Load})
			}
			return out
		}(),
	}
}

// SyslogInput describes a syslog input.
func SyslogInput(name string, in *syslog.Input) Input {
	st := in.Stats()
	return Input{
		Name: name, Type: "syslog",
		Records:     st.Records.Load,
		Bytes:       st.Bytes.Load,
		ParseErrors: st.Malformed.Load,
		Truncated:   st.Truncated.Load,
		Lost: []Drop{
			{Reason: "udp_overflow", Count: st.DroppedFull.Load},
			{Reason: "udp_receive_buffer", Count: in.UDPKernelDrops},
			{Reason: "shutdown", Count: st.DroppedShutdown.Load},
		},
		Connections:   st.ConnsOpen.Load,
		OldestUnacked: in.OldestUnacked,
		FrameBytes:    st.FrameBytes.Load,
		Closed: []Drop{
			{Reason: "max_connections", Count: st.ConnsRefused.Load},
			{Reason: "idle_timeout", Count: st.ConnsIdleClosed.Load},
			{Reason: "handshake_timeout", Count: st.ConnsHandshakeTimeout.Load},
			{Reason: "frame_memory", Count: st.ConnsFrameMemory.Load},
		},
	}
}

// ElasticsearchOutput describes an elasticsearch output.
func ElasticsearchOutput(o *elasticsearch.Output) Output {
	return Output{
		Name: o.Name(), Type: "elasticsearch",
		Stats: func() OutputStats {
			st := o.Stats()
			return OutputStats{
				Sent: st.DocsSent, Duplicate: st.DocsDuplicate, Failed: st.DocsFailed,
				Rescued: st.DocsRescued, DeadLettered: st.DocsDeadLettered,
				FailureStore: st.DocsFailureStore, LabelsDropped: st.LabelsDropped,
				ItemRetries: st.ItemRetries, RequestRetries: st.RequestRetries,
				Bytes: st.BytesSent, InFlight: st.InFlight,
			}
		},
		ObserveRequests:  func(obs prometheus.Observer) { o.SetRequestObserver(obs) },
		RequestFailures:  causes(elasticsearch.Causes(), o.RequestFailures),
		DocumentFailures: causes(elasticsearch.DocCauses(), o.DocumentFailures),
		Lost: []Drop{{Reason: "dead_letter_rejected", Count: func() int64 {
			return o.DocumentFailures(elasticsearch.DocDeadLetterRejected)
		}}},
		LastSuccess: o.LastSuccess,
		Pending:     o.PendingDocuments,
	}
}

// causes is one Drop per cause, each reading count(cause).
func causes[C fmt.Stringer](all []C, count func(C) int64) []Drop {
	out := make([]Drop, 0, len(all))
	for _, c := range all {
		out = append(out, Drop{Reason: c.String(), Count: func() int64 { return count(c) }})
	}
	return out
}

// ConsoleOutput describes a console output.
func ConsoleOutput(o *console.Output) Output {
	return Output{
		Name: o.Name(), Type: "console",
		Stats: func() OutputStats {
			st := o.Stats()
			return OutputStats{Sent: st.Documents, Failed: st.Failed, Bytes: st.Bytes}
		},
		Lost: []Drop{{Reason: "write_failed", Count: func() int64 { return o.Stats().Failed }}},
	}
}
