package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/internal/agenttest"
)

// dashboardFile is the shipped Grafana dashboard (the Helm chart's copy is
// held equal to it by TestMonitoringCopies).
const dashboardFile = "monitoring/dashboards/sluice.json"

// promqlNames is deploy/promqlnames: the Prometheus server's own PromQL
// parser (github.com/prometheus/prometheus/promql/parser v0.316.0), in a
// module of its own so its dependencies stay out of the agent's go.mod.
var promqlNames = moduleTool{name: "promqlnames"}

// TestDashboardMetrics: every query of the shipped dashboard, the panels'
// and the variables', parses as PromQL, and every metric it names is one a
// running agent exports (with a file input, a syslog input, a throttle and
// an Elasticsearch output, so its labelled series exist). A metric renamed
// in the agent, or mistyped in the dashboard, fails here.
func TestDashboardMetrics(t *testing.T) {
	parse := promqlNames.build(t)
	raw, err := os.ReadFile(dashboardFile)
	require.NoError(t, err)
	exported := exportedNames(scrapeRunningAgent(t))

	problems, checked := dashboardProblems(t, parse, raw, exported)
	for _, p := range problems {
		t.Error(p)
	}
	require.Greater(t, checked, 20, "queries checked")
	t.Logf("%d queries checked against %d exported names", checked, len(exported))

	// Mutation: one metric renamed in the dashboard is reported.
	renamed := bytes.ReplaceAll(raw, []byte("sluice_input_lag_seconds"), []byte("sluice_input_lag_secs"))
	require.NotEqual(t, raw, renamed, "the dashboard queries sluice_input_lag_seconds")
	problems, _ = dashboardProblems(t, parse, renamed, exported)
	require.Len(t, problems, 1, "the renamed metric")
	require.Contains(t, problems[0], "sluice_input_lag_secs")
}

// dashboardQuery is one PromQL query of the dashboard and where it is.
type dashboardQuery struct{ where, expr string }

// dashboardProblems parses every query of the dashboard raw with parse and
// lists what is wrong: a query that does not parse, names no metric, or
// names one that is not in exported. It returns the number of queries.
func dashboardProblems(t *testing.T, parse string, raw []byte, exported map[string]bool) ([]string, int) {
	t.Helper()
	queries := dashboardQueries(t, raw)
	exprs := make([]string, len(queries))
	for i, q := range queries {
		exprs[i] = q.expr
	}
	results := parsePromQL(t, parse, exprs)
	var problems []string
	for i, q := range queries {
		r := results[i]
		switch {
		case r.Error != "":
			problems = append(problems, fmt.Sprintf("%s: %q does not parse: %s", q.where, q.expr, r.Error))
		case len(r.Metrics) == 0:
			problems = append(problems, fmt.Sprintf("%s: %q names no metric", q.where, q.expr))
		}
		for _, m := range r.Metrics {
			if !exported[m] {
				problems = append(problems, fmt.Sprintf("%s: %s is not exported by the agent (query %q)", q.where, m, q.expr))
			}
		}
	}
	return problems, len(queries)
}

// grafanaVar is a dashboard variable: $name, ${name} or ${name:format}.
var grafanaVar = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\$(\w+)`)

// labelValues is a query variable's label_values(selector, label).
var labelValues = regexp.MustCompile(`^\s*label_values\((.+),\s*\w+\s*\)\s*$`)

// dashboardQueries lists the PromQL of every panel target (rows' nested
// panels too) and of every query variable, with Grafana's variables
// replaced as Grafana would before sending it: the interval ones by a
// duration, the others by their "All" value.
func dashboardQueries(t *testing.T, raw []byte) []dashboardQuery {
	t.Helper()
	type panel struct {
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
		Panels []json.RawMessage `json:"panels"`
	}
	var d struct {
		Panels     []json.RawMessage `json:"panels"`
		Templating struct {
			List []struct {
				Name     string          `json:"name"`
				Type     string          `json:"type"`
				Query    json.RawMessage `json:"query"`
				AllValue string          `json:"allValue"`
			} `json:"list"`
		} `json:"templating"`
	}
	require.NoError(t, json.Unmarshal(raw, &d), dashboardFile)
	all := map[string]string{}
	var out []dashboardQuery
	for _, v := range d.Templating.List {
		all[v.Name] = v.AllValue
		if v.Type != "query" {
			continue
		}
		var q string
		require.NoError(t, json.Unmarshal(v.Query, &q), "variable %s: query", v.Name)
		m := labelValues.FindStringSubmatch(q)
		require.NotNil(t, m, "variable %s: %q is not label_values(metric, label)", v.Name, q)
		out = append(out, dashboardQuery{"variable " + v.Name, m[1]})
	}
	subst := func(expr string) string {
		return grafanaVar.ReplaceAllStringFunc(expr, func(s string) string {
			m := grafanaVar.FindStringSubmatch(s)
			name := m[1] + m[2]
			switch name {
			case "__rate_interval", "__interval", "__range":
				return "5m"
			}
			if v, ok := all[name]; ok && v != "" {
				return v
			}
			return ".*"
		})
	}
	var walk func(raws []json.RawMessage)
	walk = func(raws []json.RawMessage) {
		for _, r := range raws {
			var p panel
			require.NoError(t, json.Unmarshal(r, &p))
			for i, tg := range p.Targets {
				if tg.Expr != "" {
					out = append(out, dashboardQuery{fmt.Sprintf("panel %q target %d", p.Title, i), subst(tg.Expr)})
				}
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

// promqlResult is promqlnames' answer for one expression.
type promqlResult struct {
	Metrics []string `json:"metrics"`
	Error   string   `json:"error"`
}

// parsePromQL runs promqlnames on exprs.
func parsePromQL(t *testing.T, bin string, exprs []string) []promqlResult {
	t.Helper()
	in, err := json.Marshal(exprs)
	require.NoError(t, err)
	cmd := exec.Command(bin)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "promqlnames: %s", stderr.String())
	var res []promqlResult
	require.NoError(t, json.Unmarshal(out, &res))
	require.Len(t, res, len(exprs))
	return res
}

// scrapeRunningAgent runs the built agent with a file input, a syslog
// input, a throttle and an Elasticsearch output whose server is down, and
// scrapes /metrics once it has read the file.
func scrapeRunningAgent(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	require.NoError(t, os.MkdirAll(logs, 0o755))
	c := agenttest.Config(dir)
	syslog := config.Input{Name: "syslog", Type: "syslog", TCP: "127.0.0.1:0", UDP: "127.0.0.1:0"}
	c.Inputs = []config.Input{agenttest.ContainerLogs(filepath.Join(logs, "*.log")), syslog}
	c.Transforms = []config.Transform{config.NewTransform(&config.Throttle{FilterOptions: config.FilterOptions{Name: "per-pod"}, Rate: 100})}
	c.Outputs = []config.Output{agenttest.StoreOutput("http://" + freeAddr(t))} // nothing listens
	const lines = 10
	var b strings.Builder
	for i := range lines {
		fmt.Fprintf(&b, "%s stdout F line %d\n", time.Now().UTC().Format(time.RFC3339Nano), i)
	}
	id := strings.Repeat("0123456789abcdef", 4)
	require.NoError(t, os.WriteFile(filepath.Join(logs, "api-0_ops_api-"+id+".log"), []byte(b.String()), 0o644))

	a := agenttest.Start(t, agenttest.WriteConfig(t, dir, c), agenttest.Options{Bin: buildAgent(t)})
	var mfs map[string]*dto.MetricFamily
	require.EventuallyWithT(t, func(ct *assert.CollectT) {
		require.True(ct, a.Running(), "the agent exited")
		mfs = a.Metrics(ct)
		require.Equal(ct, float64(lines), a.Metric(ct, "sluice_input_records_total", "input", "containers"))
	}, readyTimeout, 50*time.Millisecond, "the agent reads the file")
	return mfs
}

// exportedNames are the series names a scrape holds: a histogram's
// _bucket, _sum and _count, a summary's _sum and _count, and each
// family's own name.
func exportedNames(mfs map[string]*dto.MetricFamily) map[string]bool {
	names := map[string]bool{}
	for name, mf := range mfs {
		if len(mf.GetMetric()) == 0 {
			continue
		}
		names[name] = true
		var suffixes []string
		switch mf.GetType() {
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			suffixes = []string{"_bucket", "_sum", "_count"}
		case dto.MetricType_SUMMARY:
			suffixes = []string{"_sum", "_count"}
		}
		for _, s := range suffixes {
			names[name+s] = true
		}
	}
	return names
}
