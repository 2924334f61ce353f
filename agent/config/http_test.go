package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

const httpBase = "data_dir: /tmp/x\ninputs:\n  - { name: c, type: container_logs, paths: [/x/*.log] }\noutputs:\n  - { name: o, type: console }\n"

func TestHTTP_Success(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("  s3cret\n"), 0o600))
	f := func(raw string, want HTTP) {
		t.Helper()
		cfg, err := Parse([]byte(httpBase+raw), env(nil))
		require.NoError(t, err)
		require.Equal(t, want, cfg.HTTP)
	}
	f("", HTTP{Listen: "0.0.0.0:2020"})
	f("http: { listen: 127.0.0.1:0 }\n", HTTP{Listen: "127.0.0.1:0"})
	f("http: { listen: \"\" }\n", HTTP{})
	f("http: { listen: 0.0.0.0:2020, allow_unauthenticated_api: true }\n", HTTP{Listen: "0.0.0.0:2020", AllowUnauthenticatedAPI: true})
	f("http: { listen: 127.0.0.1:2020, token_file: "+tokenFile+" }\n", HTTP{Listen: "127.0.0.1:2020", TokenFile: tokenFile})

	tok, err := ReadToken(tokenFile)
	require.NoError(t, err)
	require.Equal(t, "s3cret", tok)
}

func TestHTTP_Failure(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(empty, []byte("\n \n"), 0o600))
	two := filepath.Join(dir, "two")
	require.NoError(t, os.WriteFile(two, []byte("a b\n"), 0o600))
	f := func(raw string, wantErr ...string) {
		t.Helper()
		_, err := Parse([]byte(httpBase+raw), env(nil))
		require.Error(t, err)
		for _, w := range wantErr {
			require.ErrorContains(t, err, w)
		}
	}
	f("http:\n  listen: localhost\n", "http.listen (line 7): must be host:port")
	f("http:\n  token_file: "+filepath.Join(dir, "missing")+"\n", "http.token_file (line 7): file "+filepath.Join(dir, "missing")+" does not exist")
	f("http:\n  token_file: "+empty+"\n", "http.token_file (line 7): token file "+empty+" is empty")
	f("http:\n  token_file: "+two+"\n", "more than one word")
	f("http:\n  listen: \"\"\n  token_file: "+two+"\n", "http.token_file (line 8): needs http.listen")
	f("http:\n  tokenfile: x\n", "http.tokenfile (line 7): unknown key; did you mean `token_file`?")
}
