package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/agenttest"
)

// setCheckpointOffset rewrites the offset of the entry of lf in dataDir's
// checkpoints.json, as a bad disk or a hand edit would.
func setCheckpointOffset(t *testing.T, dataDir string, lf *logFile, offset int64) {
	t.Helper()
	path := filepath.Join(dataDir, "checkpoints.json")
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var f struct {
		Entries map[string]map[string]any `json:"entries"`
	}
	require.NoError(t, json.Unmarshal(raw, &f))
	fi, err := os.Stat(lf.path)
	require.NoError(t, err)
	id := idOf(fi)
	found := false
	for _, e := range f.Entries {
		if uint64(e["dev"].(float64)) == id.dev && uint64(e["inode"].(float64)) == id.ino {
			e["offset"], found = offset, true
		}
	}
	require.True(t, found, "no checkpoint of %s in %s", lf.path, raw)
	out, err := json.Marshal(map[string]any{"version": 1, "entries": f.Entries})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, out, 0o600))
}

// A checkpoint entry with a negative offset: the agent logs and counts it,
// reads that file again by start_at (head here) and ships it; the lines it
// sends again carry their first ids (a 409 in Elasticsearch), and the
// other files resume where they were.
func TestCheckpoint_BadEntry(t *testing.T) {
	e := newEnv(t)
	c := e.corpus
	bad := c.addFile(t, "ckpt", "bad-entry-1", "app", formatCRI)
	good := c.addFile(t, "ckpt", "good-entry-1", "app", formatDocker)
	c.appendLines(t, bad, 300)
	c.appendLines(t, good, 300)
	a := agenttest.Start(t, e.config, agenttest.Options{Name: "agent#1"})
	requireExactlyOnce(t, waitForLines(t, e.store, c, a, deliveryTimeout))
	require.Equal(t, 0, a.Stop(t))

	setCheckpointOffset(t, e.dataDir, bad, -500)
	c.appendLines(t, bad, 100)
	c.appendLines(t, good, 100)
	a2 := agenttest.Start(t, e.config, agenttest.Options{Name: "agent#2"})
	rep := waitForLines(t, e.store, c, a2, deliveryTimeout)
	requireIdempotent(t, rep)
	for k := range rep.dupes {
		require.Equal(t, bad.tag, k.file, "only the file of the bad entry is read again: %v", rep)
	}
	require.Equal(t, 300, rep.replays(), "the bad entry's file is replayed from its head")

	base := a2.APIURL(t, 1)
	require.Equal(t, 1.0, metricValue(t, base, "sluice_checkpoint_load_errors_total", "reason", "bad_entry"))
	require.Equal(t, 0.0, metricValue(t, base, "sluice_checkpoint_load_errors_total", "reason", "corrupt_file"))
	evs := a2.LogEvents("checkpoint entry dropped: its file resumes by start_at")
	require.Len(t, evs, 1)
	require.Equal(t, "ERROR", evs[0]["level"])
	require.Contains(t, evs[0]["err"], "negative offset -500")
	require.Equal(t, 0, a2.Stop(t))
}

// A corrupt or empty checkpoints.json: the agent keeps it aside, logs at
// ERROR, counts it, starts and ships every file (by start_at: head here),
// and writes a good file again.
func TestCheckpoint_CorruptFile(t *testing.T) {
	for _, tc := range []struct{ name, content, reason string }{
		{"torn", `{"version":1,"entries":{"containers|2049:1234":{"path":"/x","off`, "corrupt_file"},
		{"empty", "", "empty_file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			c := e.corpus
			lf := c.addFile(t, "ckpt", "corrupt-"+tc.name, "app", formatCRI)
			c.appendLines(t, lf, 300)
			require.NoError(t, os.MkdirAll(e.dataDir, 0o750))
			require.NoError(t, os.WriteFile(filepath.Join(e.dataDir, "checkpoints.json"), []byte(tc.content), 0o600))

			a := agenttest.Start(t, e.config, agenttest.Options{Name: "agent"})
			requireExactlyOnce(t, waitForLines(t, e.store, c, a, deliveryTimeout))
			base := a.APIURL(t, 1)
			require.Equal(t, 1.0, metricValue(t, base, "sluice_checkpoint_load_errors_total", "reason", tc.reason))
			ev := a.WaitLog(t, "checkpoints unreadable: kept aside, starting without them; every file resumes by start_at "+
				"(head: read again, ids make the replay idempotent in Elasticsearch; end: lines not yet shipped are skipped)", 1)

			require.Equal(t, "ERROR", ev["level"])
			require.Equal(t, 0, a.Stop(t))

			aside, err := filepath.Glob(filepath.Join(e.dataDir, "checkpoints.json.corrupt-*"))
			require.NoError(t, err)
			require.Len(t, aside, 1)
			require.Equal(t, ev["kept_as"], aside[0])
			require.True(t, strings.HasSuffix(aside[0], "Z"), "a UTC timestamp: %s", aside[0])
			kept, err := os.ReadFile(aside[0])
			require.NoError(t, err)
			require.Equal(t, tc.content, string(kept))
			entries, err := readCheckpoints(e.dataDir)
			require.NoError(t, err, "a good checkpoint file again")
			require.Len(t, entries, 1)
		})
	}
}
