package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLoadDataDir: Load (what the agent and -validate read a config with)
// refuses a data_dir the agent could not keep its checkpoints in; Parse
// does not look (a test's or a tool's config need not name a folder of
// this machine). Unwritable folders: e2e TestValidate_DataDirNotWritable.
func TestLoadDataDir(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	load := func(dataDir string) error {
		path := filepath.Join(t.TempDir(), "sluice.yaml")
		raw := "data_dir: " + dataDir + "\n" + httpBase[len("data_dir: /tmp/x\n"):]
		require.NoError(t, os.WriteFile(path, []byte(raw), 0o600))
		_, err := Load(path)
		return err
	}
	require.NoError(t, load(dir))
	require.NoError(t, load(filepath.Join(dir, "new", "nested")), "created with its parents at start")
	err := load(file)
	require.ErrorContains(t, err, "sluice.yaml: data_dir (line 1): "+file+" is not a folder")
	err = load(filepath.Join(file, "sub"))
	require.ErrorContains(t, err, "data_dir (line 1): folder "+file+"/sub cannot be created: "+file+" is not a folder")
	_, err = Parse([]byte("data_dir: "+file+"\n"+httpBase[len("data_dir: /tmp/x\n"):]), env(nil))
	require.NoError(t, err)
}
