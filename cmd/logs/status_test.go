package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// statusRow is a line of logs --status -o json.
type statusRow struct {
	Node, Input, Path, Namespace, Pod, Container, State string
	Size, Offset, Acked, RotatedUnread                  int64 `json:",omitempty"`
	LastAck                                             *time.Time
}

func (r *statusRow) UnmarshalJSON(b []byte) error {
	var m struct {
		Node, Input, Path, Namespace, Pod, Container, State string
		Size, Offset, Acked                                 int64
		RotatedUnread                                       int64      `json:"rotated_unread"`
		LastAck                                             *time.Time `json:"last_ack"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*r = statusRow{m.Node, m.Input, m.Path, m.Namespace, m.Pod, m.Container, m.State, m.Size, m.Offset, m.Acked, m.RotatedUnread, m.LastAck}
	return nil
}

func statusRows(t require.TestingT, out string) []statusRow {
	var rows []statusRow
	for _, l := range splitLines(out) {
		var r statusRow
		require.NoError(t, json.Unmarshal([]byte(l), &r), l)
		rows = append(rows, r)
	}
	return rows
}

// TestStatusLedger prints a real agent's delivery ledger: a file being
// read, and a file rotated away and deleted, each read to its end and
// acknowledged byte for byte; -n narrows it; without its token the agent
// refuses and logs says so (exit 1).
func TestStatusLedger(t *testing.T) {
	requireBinaries(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("s3cret-tok\n"), 0o600))
	a := startAgent(t, agentOpts{node: "node-a", tokenFile: tokenFile})
	env := cliEnv()
	api := a.file("payments", "api-1", "api")
	web := a.file("web", "web-1", "nginx")
	api.write(t, "one", "two", "three")
	web.write(t, "hello")

	args := []string{"--status", "--agent", a.url, "--token-file", tokenFile}
	// The rotation: the file is renamed away, written to once more by
	// its runtime, and deleted once read; a new file takes the name.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		out, _, code := runCLI(t, env, append(args, "-o", "json")...)
		require.Equal(c, 0, code)
		require.Len(c, statusRows(c, out), 2)
	}, 20*time.Second, 50*time.Millisecond)
	require.NoError(t, os.Rename(api.path, api.path+".1"))
	rotated := *api
	rotated.path = api.path + ".1"
	rotated.write(t, "four")
	fi, err := os.Stat(rotated.path)
	require.NoError(t, err)
	api.write(t, "five")

	var rows []statusRow
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		out, _, code := runCLI(t, env, append(args, "-o", "json", "-n", "payments")...)
		require.Equal(c, 0, code)
		rows = statusRows(c, out)
		require.Len(c, rows, 2)
		for _, r := range rows {
			require.Equal(c, r.Size, r.Acked, "%+v", r)
		}
		require.Equal(c, "released", rows[0].State, "the file let go of, before the one that took its name")
	}, 30*time.Second, 100*time.Millisecond)
	require.NoError(t, os.Remove(rotated.path))
	gone, live := rows[0], rows[1]
	require.Equal(t, statusRow{Node: "node-a", Input: "containers", Path: api.path, Namespace: "payments", Pod: "api-1", Container: "api",
		State: "released", Size: fi.Size(), Offset: fi.Size(), Acked: fi.Size(), LastAck: gone.LastAck}, gone)
	require.NotNil(t, gone.LastAck)
	require.Equal(t, "reading", live.State)
	require.Equal(t, live.Size, live.Offset)

	out, stderr, code := runCLI(t, env, args...)
	require.Equal(t, 0, code, stderr)
	lines := splitLines(out)
	require.Len(t, lines, 5, out)
	require.Regexp(t, `^NODE +NAMESPACE +POD +CONTAINER +STATE +GEN +SIZE +READ +ACKED +UNREAD +UNACKED +ROTATED-UNREAD +LAST-ACK +PATH$`, lines[0])
	require.Contains(t, out, "node-a  payments   api-1  api        released")
	require.Equal(t, "3 files: 0 bytes not read yet, 0 read and not acknowledged, 0 rotated away unread", lines[4])

	out, stderr, code = runCLI(t, env, "--status", "--agent", a.url)
	require.Equal(t, 1, code)
	require.Empty(t, out)
	require.Contains(t, stderr, "unauthorized (401)")
	require.NotContains(t, stderr, "s3cret-tok")
	require.True(t, strings.HasSuffix(stderr, "logs: no agent could be read\n"), stderr)
}
