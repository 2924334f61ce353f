// Command dashboard writes sluice's Grafana dashboard, built with the
// Grafana Foundation SDK (typed builders, no Grafana code), to
// deploy/monitoring/dashboards/sluice.json and the Helm chart's copy:
//
//	go run ./deploy/monitoring/dashboard
//
// deploy/ TestDashboardGenerated fails when the files are not its output,
// and TestDashboardMetrics checks every metric a panel names against a
// running agent's /metrics.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

func main() {
	root := flag.String("root", ".", "the repository's root")
	flag.Parse()
	raw, err := Build()
	if err != nil {
		fmt.Fprintln(os.Stderr, "dashboard:", err)
		os.Exit(1)
	}
	for _, p := range Files {
		if err := os.WriteFile(filepath.Join(*root, p), raw, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "dashboard:", err)
			os.Exit(1)
		}
	}
}

// Files are where the dashboard is kept, relative to the repository.
var Files = []string{"deploy/monitoring/dashboards/sluice.json", "deploy/helm/sluice/files/dashboards/sluice.json"}

// sel narrows every query to the chosen nodes.
const sel = `node=~"$node"`

type panel struct {
	title, unit, help string
	queries           [][2]string // expr, legend
}

// rows are the dashboard: per node (legend) and, where it helps, total.
var rows = []struct {
	title  string
	panels []panel
}{
	{"Throughput", []panel{
		{"Records read", "rps", "Records the inputs read, per node and input.", [][2]string{
			{`sum by (node, input) (rate(sluice_input_records_total{` + sel + `}[$__rate_interval]))`, "{{node}} {{input}}"},
			{`sum(rate(sluice_input_records_total{` + sel + `}[$__rate_interval]))`, "total"}}},
		{"Documents delivered", "rps", "How each document ended: sent, duplicate (a replay), rescued, dead_lettered, failed.", [][2]string{
			{`sum by (node, output, result) (rate(sluice_output_documents_total{` + sel + `}[$__rate_interval]))`, "{{node}} {{output}} {{result}}"},
			{`sum by (result) (rate(sluice_output_documents_total{` + sel + `}[$__rate_interval]))`, "total {{result}}"}}},
		{"Bytes in and out", "Bps", "Bytes read by the inputs and request bodies the outputs sent.", [][2]string{
			{`sum by (node) (rate(sluice_input_bytes_total{` + sel + `}[$__rate_interval]))`, "in {{node}}"},
			{`sum by (node) (rate(sluice_output_bytes_total{` + sel + `}[$__rate_interval]))`, "out {{node}}"}}},
	}},
	{"Lag", []panel{
		{"Lag (seconds)", "s", "Age of the oldest record read and not yet acknowledged.", [][2]string{
			{`max by (node, input) (sluice_input_lag_seconds{` + sel + `})`, "{{node}} {{input}}"}}},
		{"Lag (bytes)", "bytes", "Bytes of the open files not read yet, and of the file furthest behind.", [][2]string{
			{`sum by (node, input) (sluice_input_lag_bytes{` + sel + `})`, "{{node}} {{input}}"},
			{`max by (node, input) (sluice_file_lag_max_bytes{` + sel + `})`, "furthest {{node}} {{input}}"}}},
	}},
	{"Output", []panel{
		{"Request failures by cause", "reqps", "Bulk requests failed as a whole; unauthorized, forbidden and tls need a person.", [][2]string{
			{`sum by (node, output, cause) (rate(sluice_output_request_failures_total{` + sel + `}[$__rate_interval]))`, "{{node}} {{output}} {{cause}}"}}},
		{"Document failures by cause", "rps", "Documents refused in answered requests.", [][2]string{
			{`sum by (node, output, cause) (rate(sluice_output_document_failures_total{` + sel + `}[$__rate_interval]))`, "{{node}} {{output}} {{cause}}"}}},
		{"Retries", "rps", "Documents and whole requests sent again.", [][2]string{
			{`sum by (node, output, kind) (rate(sluice_output_retries_total{` + sel + `}[$__rate_interval]))`, "{{node}} {{output}} {{kind}}"}}},
		{"Since last success", "s", "Time since a bulk request of the output last succeeded, while documents wait.", [][2]string{
			{`(time() - sluice_output_last_success_timestamp_seconds{` + sel + `}) and sluice_output_pending_documents{` + sel + `} > 0`, "{{node}} {{output}}"}}},
		{"Request duration p99", "s", "99th percentile of answered bulk requests.", [][2]string{
			{`histogram_quantile(0.99, sum by (node, output, le) (rate(sluice_output_request_duration_seconds_bucket{` + sel + `}[$__rate_interval])))`, "{{node}} {{output}}"}}},
	}},
	{"Losses and drops", []panel{
		{"Records lost", "rps", "Every record read that will never reach a store, by reason.", [][2]string{
			{`sum by (node, component, reason) (rate(sluice_lost_records_total{` + sel + `}[$__rate_interval]))`, "{{node}} {{component}} {{reason}}"}}},
		{"Dropped on purpose and throttled", "rps", "Deliberate drops by filters and throttles, and records no output took.", [][2]string{
			{`sum by (node, transform, type) (rate(sluice_transform_dropped_records_total{` + sel + `}[$__rate_interval]))`, "{{node}} {{transform}} {{type}}"},
			{`sum by (node) (rate(sluice_unrouted_records_total{` + sel + `}[$__rate_interval]))`, "unrouted {{node}}"}}},
	}},
	{"Resources", []panel{
		{"Memory against memory_limit", "bytes", "Resident memory, Go heap and batches held, against memory_limit.", [][2]string{
			{`process_resident_memory_bytes{container="sluice", ` + sel + `}`, "RSS {{node}}"},
			{`go_memstats_heap_inuse_bytes{container="sluice", ` + sel + `}`, "heap {{node}}"},
			{`sluice_pipeline_memory_bytes{` + sel + `}`, "batches {{node}}"},
			{`sluice_pipeline_memory_limit_bytes{` + sel + `}`, "memory_limit {{node}}"}}},
		{"GC", "s", "Time spent in garbage collection per second.", [][2]string{
			{`rate(go_gc_duration_seconds_sum{container="sluice", ` + sel + `}[$__rate_interval])`, "{{node}}"}}},
		{"Ring occupancy", "percentunit", "Batches waiting for a worker, of the ring's capacity.", [][2]string{
			{`sluice_ring_items{` + sel + `} / sluice_ring_capacity{` + sel + `}`, "{{node}}"}}},
		{"Files open and syslog connections", "short", "Files being read and open syslog connections.", [][2]string{
			{`sum by (node) (sluice_files_open{` + sel + `})`, "files {{node}}"},
			{`sum by (node) (sluice_input_connections{` + sel + `})`, "connections {{node}}"}}},
		{"Syslog connections closed", "short", "Connections the agent closed, by reason (max_connections and frame_memory turn senders away).", [][2]string{
			{`sum by (node, reason) (increase(sluice_input_connections_closed_total{` + sel + `}[$__rate_interval]))`, "{{node}} {{reason}}"}}},
	}},
}

// Build is the dashboard as indented JSON.
func Build() ([]byte, error) {
	// The v1 dashboard JSON: what Grafana's dashboard sidecar and every
	// Grafana version in use import; the SDK's v2 schema needs Grafana 12.
	//lint:ignore SA1019 v1 on purpose, see above
	b := dashboard.NewDashboardBuilder("sluice").
		Uid("sluice-agent").
		Description("The sluice log agents: throughput, lag, output failures, losses and resources, per node and in total. Alerts and their runbook: the README of sluice.").
		Tags([]string{"sluice", "logging"}).
		Refresh("30s").
		Time("now-3h", "now").
		Timezone("browser").
		WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").Label("Data source").Type("prometheus")).
		WithVariable(dashboard.NewQueryVariableBuilder("node").Label("Node").
			Query(dashboard.StringOrMap{String: cog.ToPtr("label_values(sluice_build_info, node)")}).
			Datasource(dashboard.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")}).
			Multi(true).IncludeAll(true).AllValue(".*").Refresh(dashboard.VariableRefreshOnTimeRangeChanged))
	for _, r := range rows {
		b = b.WithRow(dashboard.NewRowBuilder(r.title))
		for _, p := range r.panels {
			tp := timeseries.NewPanelBuilder().Title(p.title).Description(p.help).Unit(p.unit).Height(8).Span(12).
				Datasource(dashboard.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")})
			for _, q := range p.queries {
				tp = tp.WithTarget(prometheus.NewDataqueryBuilder().Expr(q[0]).LegendFormat(q[1]))
			}
			b = b.WithPanel(tp)
		}
	}
	d, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	raw, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(raw, '\n'), nil
}

// Queries are every panel's PromQL, for the tests.
func Queries() []string {
	var out []string
	for _, r := range rows {
		for _, p := range r.panels {
			for _, q := range p.queries {
				out = append(out, q[0])
			}
		}
	}
	return out
}
