package tail

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluicelog/sluice/agent/metrics/series"
)

// Collector returns the input's metrics, read from its counters when
// Prometheus scrapes: the read path pays nothing for them. The lag is one
// series per input however many files are open, never one per file.
func (t *Tailer) Collector() prometheus.Collector {
	d := func(f series.Family) *prometheus.Desc { return f.Desc(series.InputLabel, t.cfg.Name) }
	return &collector{
		t:       t,
		records: d(series.InputRecords), bytes: d(series.InputBytes),
		parseErrors: d(series.InputParseErrors), openErrors: d(series.InputOpenErrors),
		truncated: d(series.InputTruncated), joined: d(series.InputJoined),
		lagSeconds: d(series.InputLagSeconds), lagBytes: d(series.InputLagBytes), lagMax: d(series.FileLagMax),
		filesOpen: d(series.FilesOpen), rotatedUnread: d(series.InputRotatedUnread), refused: d(series.InputFilesRefused),
	}
}

type collector struct {
	t                                                  *Tailer
	records, bytes, parseErrors, openErrors, truncated *prometheus.Desc
	joined, lagSeconds, lagBytes, lagMax, filesOpen    *prometheus.Desc
	rotatedUnread, refused                             *prometheus.Desc
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.records, c.bytes, c.parseErrors, c.openErrors, c.truncated,
		c.joined, c.lagSeconds, c.lagBytes, c.lagMax, c.filesOpen, c.rotatedUnread, c.refused,
	} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st := &c.t.stats
	series.Counter(ch, c.records, st.Records.Load())
	series.Counter(ch, c.bytes, st.BytesRead.Load())
	series.Counter(ch, c.parseErrors, st.Malformed.Load())
	series.Counter(ch, c.openErrors, st.OpenErrors.Load())
	series.Counter(ch, c.joined, st.MultilineJoined.Load())
	series.Counter(ch, c.truncated, st.Truncated.Load())
	series.Counter(ch, c.rotatedUnread, st.UnreadRecovered.Load(), "recovered")
	series.Counter(ch, c.rotatedUnread, st.UnreadLost.Load(), "lost")
	for _, why := range Refusals {
		series.Counter(ch, c.refused, st.Refused[why].Load(), why.String())
	}
	series.Gauge(ch, c.filesOpen, float64(st.FilesOpen.Load()))
	series.Gauge(ch, c.lagSeconds, series.Age(c.t.OldestUnacked(), time.Now()))
	var sum, most int64
	c.t.OpenFiles(func(f OpenFile) {
		sum += f.Lag()
		most = max(most, f.Lag())
	})
	series.Gauge(ch, c.lagBytes, float64(sum))
	series.Gauge(ch, c.lagMax, float64(most))
}
