package live

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/internal/agenttest"
	"github.com/sluicelog/sluice/logscli/entry"
)

// TestTailReconnectsAfterDrop: an agent that drops a slow client ends the
// stream with its sluice_tap line; the reader says so and reconnects, and
// the line is not taken for a record.
func TestTailReconnectsAfterDrop(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "namespace=ns", r.URL.RawQuery)
		n := conns.Add(1)
		fmt.Fprintf(w, `{"@timestamp":"2026-11-25T10:00:00Z","log":"conn %d"}`+"\n", n)
		if n == 1 {
			fmt.Fprintln(w, `{"sluice_tap":{"dropped":"the client did not read fast enough; reconnect"}}`)
			return
		}
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()

	var logs agenttest.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	out := make(chan *entry.Entry, 10)
	tail := New(out, log)
	ctx, cancel := context.WithCancel(context.Background())
	tg, err := Direct(srv.URL, "", map[string][]string{"namespace": {"ns"}})
	require.NoError(t, err)
	require.Empty(t, tail.Sync(ctx, []Target{tg}))
	for _, want := range []string{"conn 1", "conn 2"} {
		select {
		case e := <-out:
			require.Equal(t, want, e.Line(""))
		case <-time.After(10 * time.Second):
			t.Fatalf("no %q", want)
		}
	}
	cancel()
	tail.Wait()
	require.Contains(t, logs.String(), `level=WARN msg="agent stream ended; reconnecting" agent=`+srv.Listener.Addr().String()+` err="the agent dropped this client for reading too slowly; some lines were missed"`)
	require.Contains(t, logs.String(), `msg="reconnected to agent; lines logged while disconnected are not shown live"`)
}
