package tail

import (
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/agenttest"
	"github.com/sluicelog/sluice/internal/loglimit"
)

// A flood of cut lines does not hide the truncation that follows it: each
// warning has its own allowance, so "file truncated" is logged even in the
// second after a "line cut".
func TestTruncationWarningSurvivesCutLines(t *testing.T) {
	e := newEnv(t)
	e.cfg.MaxLineBytes = 1024
	var logs agenttest.Buffer
	e.tune = func(tl *Tailer) {
		tl.logger = slog.New(slog.NewJSONHandler(&logs, nil))
		tl.limit = loglimit.New(tl.logger, time.Hour) // one line per message for the whole test
	}
	p := e.path("p", "ns")
	long := criLine("stdout", "F", strings.Repeat("y", 5000))
	e.write(p, long, long, long, long, long, long, long, long, long, long)
	e.start()
	e.waitLines(10)
	require.NoError(t, os.Truncate(p, 0))
	e.write(p, criLine("stdout", "F", "after"))
	e.waitLines(11)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.Equal(c, 1, logs.Count("file truncated; reading from its start"), logs.String())
	}, 10*time.Second, 5*time.Millisecond)
	require.Equal(t, 1, logs.Count("line longer than max_line_bytes cut"), "the flood is one line")
	require.Equal(t, int64(10), e.tailer.Stats().Truncated.Load(), "the counter has them all")
}
