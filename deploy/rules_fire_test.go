package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/sluicelog/sluice/internal/promtest"
)

// ruleTests is testdata/alerts.promtool.yaml, promtool's unit test
// format (https://prometheus.io/docs/prometheus/latest/configuration/unit_testing_rules/).
const ruleTests = "testdata/alerts.promtool.yaml"

// TestAlertRulesFire runs `promtool test rules` on the alerts: each fires
// on synthetic series that should fire it, with the labels and summary an
// on-call engineer sees, and stays silent on healthy series and before its
// `for:` is over. The descriptions and runbook links are left out of the
// comparison (TestMonitoringKustomize checks every alert has them).
func TestAlertRulesFire(t *testing.T) {
	promtool := promtest.Promtool(t)
	b := render(t, "examples/monitoring", nil)
	if len(b.rules) != 1 {
		t.Fatalf("%d PrometheusRules, want 1", len(b.rules))
	}
	spec := b.rules[0].Spec.DeepCopy()
	alerts := map[string]bool{}
	for gi := range spec.Groups {
		for ri := range spec.Groups[gi].Rules {
			r := &spec.Groups[gi].Rules[ri]
			delete(r.Annotations, "description")
			delete(r.Annotations, "runbook_url")
			if r.Alert != "" {
				alerts[r.Alert] = true
			}
		}
	}
	raw, err := yaml.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(ruleTests)
	if err != nil {
		t.Fatal(err)
	}
	checkRuleTestCoverage(t, tests, alerts)

	dir := t.TempDir()
	for name, data := range map[string][]byte{"sluice.rules.yaml": raw, "alerts.promtool.yaml": tests} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(promtool, "test", "rules", "alerts.promtool.yaml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}

// checkRuleTestCoverage wants, for every alert of the rule, a test where
// it fires and one where it stays silent.
func checkRuleTestCoverage(t *testing.T, raw []byte, alerts map[string]bool) {
	t.Helper()
	var file struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string `json:"alertname"`
				ExpAlerts []any  `json:"exp_alerts"`
			} `json:"alert_rule_test"`
		} `json:"tests"`
	}
	if err := yaml.Unmarshal(raw, &file); err != nil {
		t.Fatalf("%s: %v", ruleTests, err)
	}
	fires, silent := map[string]bool{}, map[string]bool{}
	for _, tg := range file.Tests {
		for _, at := range tg.AlertRuleTest {
			if !alerts[at.Alertname] {
				t.Errorf("%s tests %s, which is not an alert of the rule", ruleTests, at.Alertname)
			}
			if len(at.ExpAlerts) > 0 {
				fires[at.Alertname] = true
			} else {
				silent[at.Alertname] = true
			}
		}
	}
	for a := range alerts {
		if !fires[a] {
			t.Errorf("%s: no test where %s fires", ruleTests, a)
		}
		if !silent[a] {
			t.Errorf("%s: no test where %s stays silent", ruleTests, a)
		}
	}
}
