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
		skippedRecords: d(fairSkippedRecords), skippedBytes: d(fairSkippedBytes), letGo: d(fairLetGo),
	}
}

// fair_share's max_lag series (maxlag.go), under series.InputLabel; only
// an input with fair_share reports them.
var (
	fairSkippedRecords = series.Family{Name: "sluice_fair_share_skipped_records_total", Help: "Records skipped without delivery because their file was more than fair_share's max_lag behind (on_max_lag: drop_oldest); each run of them is reported in a summary record."}
	fairSkippedBytes   = series.Family{Name: "sluice_fair_share_skipped_bytes_total", Help: "File bytes skipped without delivery because their file was more than fair_share's max_lag behind (on_max_lag: drop_oldest)."}
	fairLetGo          = series.Family{Name: "sluice_fair_share_files_let_go_total", Help: "Files found deleted while more than fair_share's max_lag behind and let go of with bytes unread (on_max_lag: drop_oldest); their bytes are in sluice_rotated_unread_bytes_total."}
)

type collector struct {
	t                                                  *Tailer
	records, bytes, parseErrors, openErrors, truncated *prometheus.Desc
	joined, lagSeconds, lagBytes, lagMax, filesOpen    *prometheus.Desc
	rotatedUnread, refused                             *prometheus.Desc
	skippedRecords, skippedBytes, letGo                *prometheus.Desc
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.records, c.bytes, c.parseErrors, c.openErrors, c.truncated,
		c.joined, c.lagSeconds, c.lagBytes, c.lagMax, c.filesOpen, c.rotatedUnread, c.refused,
		c.skippedRecords, c.skippedBytes, c.letGo,
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
	if c.t.fair != nil {
		series.Counter(ch, c.skippedRecords, st.SkippedRecords.Load())
		series.Counter(ch, c.skippedBytes, st.SkippedBytes.Load())
		series.Counter(ch, c.letGo, st.LetGo.Load())
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

// rotatedUnread is sluice_rotated_unread_bytes_total: one series per
// namespace, summed over the container_logs inputs (no input label: an
// operator asks what a namespace lost, whichever input read it).
var rotatedUnread = prometheus.NewDesc("sluice_rotated_unread_bytes_total",
	"Bytes that left container log files before they were read, by namespace: a copytruncate with no copy that held them (also in sluice_input_rotated_unread_bytes_total{result=\"lost\"}), a file deleted while more than fair_share's max_lag behind and let go of (on_max_lag: drop_oldest), or a file deleted while the agent was down (its size at the last checkpoint minus the checkpoint: a lower bound).",
	[]string{"namespace"}, nil)

// UnreadCollector exports sluice_rotated_unread_bytes_total over ts.
func UnreadCollector(ts ...*Tailer) prometheus.Collector { return unreadCollector(ts) }

type unreadCollector []*Tailer

// Describe implements prometheus.Collector.
func (c unreadCollector) Describe(ch chan<- *prometheus.Desc) { ch <- rotatedUnread }

// Collect implements prometheus.Collector.
func (c unreadCollector) Collect(ch chan<- prometheus.Metric) {
	sum := map[string]int64{}
	for _, t := range c {
		for ns, n := range t.RotatedUnread() {
			sum[ns] += n
		}
	}
	for ns, n := range sum {
		ch <- prometheus.MustNewConstMetric(rotatedUnread, prometheus.CounterValue, float64(n), ns)
	}
}
