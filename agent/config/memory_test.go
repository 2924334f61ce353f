package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// memoryBase has one elasticsearch output and two pipeline workers, so
// the sizes do not depend on this machine's CPUs.
const memoryBase = "data_dir: /tmp/x\nworkers: 2\ninputs: [{ name: c, type: container_logs, paths: [/x] }]\noutputs:\n  - name: es\n    type: elasticsearch\n    urls: [http://a:9200]\n"

// With only memory_limit set, bulk.max_bytes comes from it; a set one
// stays as it is.
func TestMaxBytesSizedFromMemoryLimit(t *testing.T) {
	for limit, want := range map[string]ByteSize{"40MiB": 512 << 10, "64MiB": 1 << 20, "256MiB": 8 << 20, "1GiB": 8 << 20} {
		cfg, err := Parse([]byte("memory_limit: "+limit+"\n"+memoryBase), env(nil))
		require.NoError(t, err, limit)
		require.Equal(t, want, cfg.Outputs[0].Bulk.MaxBytes, limit)
		require.True(t, cfg.Outputs[0].Bulk.Sized)
	}
	cfg, err := Parse([]byte("memory_limit: 256MiB\n"+memoryBase+"    bulk: { max_bytes: 2MiB }\n"), env(nil))
	require.NoError(t, err)
	require.Equal(t, ByteSize(2<<20), cfg.Outputs[0].Bulk.MaxBytes)
	require.False(t, cfg.Outputs[0].Bulk.Sized)
}

// A bulk.max_bytes that memory_limit cannot hold is an error that names
// the memory_limit it would need, at the key and its line.
func TestMaxBytesThatCannotFitIsAnError(t *testing.T) {
	_, err := Parse([]byte("memory_limit: 40MiB\n"+memoryBase+"    bulk: { max_bytes: 5MiB }\n"), env(nil))
	require.EqualError(t, err, "outputs[0].bulk.max_bytes (line 9): 5Mi needs memory_limit: 129Mi or more here "+
		"(memory_limit is 40Mi; with 2 pipeline workers and 2 bulk workers the output holds about 12 bodies at once, and batches for those in flight): "+
		"raise memory_limit, or lower bulk.max_bytes or leave it unset to size it from memory_limit")
	// What it names is enough.
	_, err = Parse([]byte("memory_limit: 129MiB\n"+memoryBase+"    bulk: { max_bytes: 5MiB }\n"), env(nil))
	require.NoError(t, err)
}

// A memory_limit too small to run is an error, not a warning.
func TestMemoryLimitTooSmallToRunIsAnError(t *testing.T) {
	for _, limit := range []string{"1MiB", "16MiB", "30MiB"} {
		_, err := Parse([]byte("memory_limit: "+limit+"\n"+memoryBase), env(nil))
		require.ErrorContains(t, err, "memory_limit (line 1): "+limit[:len(limit)-1]+" is too small to run: with these inputs and outputs (2 workers) the agent needs 31Mi or more", limit)
	}
	// A console output alone needs less: no bodies.
	_, err := Parse([]byte("memory_limit: 30MiB\ndata_dir: /tmp/x\nworkers: 2\ninputs: [{ name: c, type: container_logs, paths: [/x] }]\noutputs: [{ name: out, type: console }]\n"), env(nil))
	require.NoError(t, err)
	// A refused memory_limit is not judged again.
	_, err = Parse([]byte("memory_limit: lots\n"+memoryBase), env(nil))
	require.ErrorContains(t, err, "memory_limit")
	require.NotContains(t, err.Error(), "too small to run")
}
