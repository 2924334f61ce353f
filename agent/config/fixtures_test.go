package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/testcert"
)

// withFiles replaces each path of paths in raw with a real file of the kind
// its name says (a key, a certificate, a .json index template, else a
// secret), since Parse reads every file the config names. It returns the
// config and the real path of each.
func withFiles(t *testing.T, raw string, paths ...string) (string, map[string]string) {
	t.Helper()
	dir := t.TempDir()
	cert, key := testcert.Write(t, dir)
	onDisk := map[string]string{}
	for i, p := range paths {
		var dst string
		switch {
		case strings.Contains(p, "key") || strings.HasPrefix(filepath.Base(p), "k."):
			dst = key
		case strings.Contains(p, "crt") || strings.HasSuffix(p, ".pem"):
			dst = cert
		case strings.HasSuffix(p, ".json"):
			dst = filepath.Join(dir, "t"+string(rune('a'+i))+".json")
			require.NoError(t, os.WriteFile(dst, []byte(`{"index_patterns":["logs-*"]}`), 0o600))
		default:
			dst = filepath.Join(dir, "s"+string(rune('a'+i)))
			require.NoError(t, os.WriteFile(dst, []byte("s3cret\n"), 0o600))
		}
		raw = strings.ReplaceAll(raw, p, dst)
		onDisk[p] = dst
	}
	return raw, onDisk
}
