package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/sluicelog/sluice/internal/promtest"
)

// TestAlertRulesValid: the PrometheusRule's groups, written as a Prometheus
// rule file, pass `promtool check rules` (PromQL that parses, durations,
// labels), so a broken expression fails here, not in the operator's
// Prometheus.
func TestAlertRulesValid(t *testing.T) {
	promtool := promtest.Promtool(t)
	b := render(t, "examples/monitoring", nil)
	if len(b.rules) != 1 {
		t.Fatalf("%d PrometheusRules, want 1", len(b.rules))
	}
	// The rule file format is the PrometheusRule's spec (groups: ...).
	raw, err := yaml.Marshal(b.rules[0].Spec)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sluice.rules.yaml")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s\n%s", err, out, raw)
	}
	t.Logf("%s", strings.TrimSpace(string(out)))
}

// TestMonitoringNamesDocumented: every sluice series an alert or a dashboard
// panel queries is in docs/metrics.md, which e2e
// TestPromtoolCheckMetrics holds to what a running agent exports; a metric
// renamed in the agent and not in the rules fails one of the two.
func TestMonitoringNamesDocumented(t *testing.T) {
	documented := promtest.Documented(t)
	for _, file := range []string{"monitoring/prometheusrule.yaml", "monitoring/dashboards/sluice.json"} {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range promtest.MetricName.FindAllString(string(raw), -1) {
			base := name
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				if strings.HasSuffix(name, s) && documented[strings.TrimSuffix(name, s)] {
					base = strings.TrimSuffix(name, s)
				}
			}
			if !documented[base] {
				t.Errorf("%s queries %s, which docs/metrics.md does not list", file, name)
			}
		}
	}
}
