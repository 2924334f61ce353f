package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/internal/agenttest"
)

// TestKafkaSASLRefusedShown: the built agent with a wrong
// SCRAM password in its password file. The operator sees why nothing
// arrives: one error line with the mechanism and the broker,
// sluice_output_kafka_auth_refusals_total rising, and the refusal as
// the output's auth_error in /api/v1/status, with the lines pending.
// The password is in none of them.
func TestKafkaSASLRefusedShown(t *testing.T) {
	agenttest.Binary(t)
	const wrong = "wr0ng-kafka-pw-93"
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "logs"),
		kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "sluice", "the-right-one"))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	broker := c.ListenAddrs()[0]

	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	require.NoError(t, os.MkdirAll(logs, 0o755))
	pwFile := filepath.Join(dir, "kafka-password")
	require.NoError(t, os.WriteFile(pwFile, []byte(wrong+"\n"), 0o600))
	cfg := agenttest.Config(dir)
	cfg.Inputs = []config.Input{agenttest.ContainerLogs(filepath.Join(logs, "*.log"))}
	out := config.Output{Name: "kafka", Type: "kafka"}
	out.Brokers, out.Topic = []string{broker}, "logs"
	out.SASL = config.KafkaSASL{Mechanism: "SCRAM-SHA-512", Username: "sluice", PasswordFile: pwFile}
	cfg.Outputs = []config.Output{out}
	cfg.ShutdownTimeout = config.Duration(500 * time.Millisecond)
	writeCRI(t, criFile(logs, "shop", "api-0"), 20, func(i int) string { return "line " + string(rune('a'+i)) })

	a := agenttest.Start(t, agenttest.WriteConfig(t, dir, cfg), agenttest.Options{})
	base := a.URL(t)
	var st struct {
		Outputs []struct {
			Name      string `json:"name"`
			Pending   int64  `json:"documents_pending"`
			Sent      int64  `json:"documents_sent"`
			AuthError string `json:"auth_error"`
		} `json:"outputs"`
	}
	var status string
	require.Eventually(t, func() bool {
		a.RequireRunning(t)
		status = get(t, base+"/api/v1/status")
		require.NoError(t, json.Unmarshal([]byte(status), &st))
		return len(st.Outputs) == 1 && st.Outputs[0].AuthError != "" && st.Outputs[0].Pending == 20 &&
			a.Metric(t, "sluice_output_kafka_auth_refusals_total", "output", "kafka") >= 3
	}, 15*time.Second, 50*time.Millisecond, "status: %s", status)
	require.Contains(t, st.Outputs[0].AuthError, `SCRAM-SHA-512 authentication as "sluice" refused by `+broker)
	require.Zero(t, st.Outputs[0].Sent)
	metrics := get(t, base+"/metrics")
	require.Equal(t, 3, a.Stop(t), "exit code after SIGTERM: delivery cut, the lines stay unacknowledged")

	stderr := a.Stderr.String()
	require.Equal(t, 1, strings.Count(stderr, "kafka broker refused SASL authentication"), stderr)
	for l := range strings.SplitSeq(stderr, "\n") {
		if strings.Contains(l, "refused SASL authentication") {
			require.Contains(t, l, `"level":"ERROR"`)
			require.Contains(t, l, `"mechanism":"SCRAM-SHA-512"`)
			require.Contains(t, l, `"broker":"`+broker+`"`)
		}
	}
	for what, s := range map[string]string{"stderr": stderr, "/metrics": metrics, "/api/v1/status": status} {
		require.NotContains(t, s, wrong, "the password in %s", what)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", url, b)
	return string(b)
}
