package elasticsearch

import (
	"log/slog"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// observations records what SetRequestObserver hands over.
type observations struct {
	mu   sync.Mutex
	vals []float64
}

func (o *observations) Observe(v float64) {
	o.mu.Lock()
	o.vals = append(o.vals, v)
	o.mu.Unlock()
}

func (o *observations) get() []float64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]float64(nil), o.vals...)
}

func TestRequestObserverSeesEveryTry(t *testing.T) {
	f := newFaultyBulk(t)
	f.onRequest = func(call int, _ []bulkOp) *fault {
		if call == 1 {
			return &fault{status: http.StatusServiceUnavailable, body: `{"error":{"type":"x"},"status":503}`}
		}
		return nil
	}
	o, err := New(testConfig(f.srv.URL), slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	obs := &observations{}
	o.SetRequestObserver(obs)
	runOutput(t, o)
	src := testSource("api-1")
	acks := newAckRecorder()
	write(t, o.NewWriter(), newTestBatch(src, acks, 0, 0, 3, nil))
	acks.waitAcked(t, 0)
	got := obs.get()
	require.Len(t, got, 2, "the refused try and the good one")
	require.Equal(t, int64(2), o.Stats().Requests)
	for _, v := range got {
		require.Greater(t, v, 0.0)
		require.Less(t, v, 10.0)
	}
}
