package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const esBase = "data_dir: /tmp/x\ninputs: [{ name: c, type: container_logs, paths: [/x] }]\noutputs:\n  - name: es\n    type: elasticsearch\n    urls: [http://a:9200, http://b:9200]\n"

func TestElasticsearchOutputDefaults(t *testing.T) {
	cfg, err := Parse([]byte(esBase), env(nil))
	require.NoError(t, err)
	o := cfg.Outputs[0]
	require.Equal(t, "sluice-dead-letter", o.DeadLetterIndex)
	require.Equal(t, 90*time.Second, o.IdleTimeout.Duration())
	require.Equal(t, 30*time.Second, o.Timeout.Duration())
	require.Equal(t, "elasticsearch", o.Compatibility)
	require.Empty(t, o.DataStream)
	require.Empty(t, o.Template)
}

func TestElasticsearchOutputKeys(t *testing.T) {
	raw := esBase + `    data_stream: logs-kubernetes-default
    template: { file: /etc/sluice/template.json }
    dead_letter_index: dl
    idle_timeout: 5s
    username: elastic
    password_file: /run/secrets/pw
    tls: { ca_file: /ca.pem, cert_file: /c.pem, key_file: /k.pem, insecure_skip_verify: true }
    compatibility: opensearch
`
	raw, f := withFiles(t, raw, "/etc/sluice/template.json", "/run/secrets/pw", "/ca.pem", "/c.pem", "/k.pem")
	cfg, err := Parse([]byte(raw), env(nil))
	require.NoError(t, err)
	o := cfg.Outputs[0]
	require.Equal(t, "logs-kubernetes-default", o.DataStream)
	require.Equal(t, Template{File: f["/etc/sluice/template.json"], Name: "sluice-logs"}, o.Template)
	require.Equal(t, "dl", o.DeadLetterIndex)
	require.Equal(t, 5*time.Second, o.IdleTimeout.Duration())
	require.Equal(t, f["/run/secrets/pw"], o.PasswordFile)
	require.Equal(t, ClientTLS{CAFile: f["/ca.pem"], CertFile: f["/c.pem"], KeyFile: f["/k.pem"], InsecureSkipVerify: true}, o.TLS)
	require.Equal(t, "opensearch", o.Compatibility)
}

func TestElasticsearchOutputBad(t *testing.T) {
	f := func(extra string, wantErr ...string) {
		t.Helper()
		_, err := Parse([]byte(esBase+extra), env(nil))
		require.Error(t, err)
		for _, w := range wantErr {
			require.ErrorContains(t, err, w)
		}
	}
	f("    password: pw\n    password_file: /f\n", "outputs[0].password_file", "set only one of password and password_file")
	f("    api_key: k\n    api_key_file: /f\n", "set only one of api_key and api_key_file")
	f("    bearer_token: t\n    bearer_token_file: /f\n", "set only one of bearer_token and bearer_token_file")
	f("    username: u\n    api_key: k\n", "outputs[0].api_key", "not both")
	f("    bearer_token: t\n    api_key: k\n", "outputs[0].bearer_token", "not both")
	f("    tls: { cert_file: /c.pem }\n", "outputs[0].tls.cert_file", "go together")
	f("    compatibility: solr\n", "outputs[0].compatibility", `"solr"`)
	f("    data_stream: Logs-{stream}\n", "outputs[0].data_stream")
	f("    dead_letter_index: Dead\n", "outputs[0].dead_letter_index")
	f("    template: { name: x }\n", "outputs[0].template.file")
	f("    idle_timeout: -1s\n    timeout: -1s\n", "outputs[0].timeout", "outputs[0].idle_timeout")
	f("    tls: { ca: /x }\n", "outputs[0].tls.ca (line 7): unknown key (known: ca_file, cert_file, enabled, insecure_skip_verify, key_file)")
}

// A bad config's errors name keys, never the values of secrets.
func TestElasticsearchOutputErrorsHideSecrets(t *testing.T) {
	const secret = "hunter2-very-secret"
	raw := esBase + "    username: elastic\n    password: " + secret + "\n    password_file: /f\n    api_key: " + secret +
		"\n    api_key_file: /g\n    bearer_token: " + secret + "\n    bearer_token_file: /h\n    compatibility: nope\n    timeout: 0s\n"
	_, err := Parse([]byte(raw), env(nil))
	require.Error(t, err)
	require.ErrorContains(t, err, "password_file")
	require.NotContains(t, err.Error(), secret)
}
