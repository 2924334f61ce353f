package elasticsearch

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const deadLetterIndex = "sluice-dead-letter"

// refuseID makes the fake refuse, with a 400, every document with _id id
// except in the indices listed in allow.
func refuseID(id string, allow ...string) func(call, pos int, op bulkOp) int {
	return func(_, _ int, op bulkOp) int {
		if op.ID == id {
			for _, a := range allow {
				if op.Index == a {
					return 0
				}
			}
			return http.StatusBadRequest
		}
		return 0
	}
}

func TestRescueRefusedGoesToDeadLetter(t *testing.T) {
	f := newFaultyBulk(t)
	src := testSource("api-1")
	id := idOf(src, 4)
	f.onItem = refuseID(id, deadLetterIndex)
	o := startOutput(t, testConfig(f.srv.URL))
	acks := newAckRecorder()
	acks.check = storedAll(f, src, 10, nil)
	write(t, o.NewWriter(), newTestBatch(src, acks, 0, 0, 10, nil))
	acks.waitAcked(t, 0)

	st := o.Stats()
	require.Equal(t, int64(9), st.DocsSent)
	require.Zero(t, st.DocsRescued)
	require.Equal(t, int64(1), st.DocsDeadLettered)
	require.Zero(t, st.DocsFailed)
	require.Equal(t, 3, f.requests(), "request, rescue, dead letter")
	require.Equal(t, 3, f.sentCount(id))
	doc, ok := f.stored(id)
	require.True(t, ok)
	var m map[string]any
	require.NoError(t, json.Unmarshal(doc, &m))
	require.Equal(t, map[string]any{
		"@timestamp":   "2026-11-25T10:00:00.004000000Z",
		"stream":       "stdout",
		"log":          "line 4",
		"error":        "illegal_argument_exception: injected by faultyBulk",
		"rescue_error": "illegal_argument_exception: injected by faultyBulk",
		"index":        "logs-payments-2026.11.25",
		"input":        "containers",
		"path":         src.Path,
		"kubernetes":   map[string]any{"namespace_name": "payments", "pod_name": "api-1", "container_name": "api"},
	}, m)
}

func TestDeadLetterRefusedIsFailedAndAcked(t *testing.T) {
	f := newFaultyBulk(t)
	src := testSource("api-1")
	id := idOf(src, 4)
	f.onItem = refuseID(id)
	cfg := testConfig(f.srv.URL)
	cfg.DeadLetterIndex = "my-dead-letters"
	o := startOutput(t, cfg)
	acks := newAckRecorder()
	acks.check = storedAll(f, src, 10, map[string]bool{id: true})
	write(t, o.NewWriter(), newTestBatch(src, acks, 0, 0, 10, nil))
	acks.waitAcked(t, 0)

	st := o.Stats()
	require.Equal(t, int64(9), st.DocsSent)
	require.Equal(t, int64(1), st.DocsFailed)
	require.Zero(t, st.DocsDeadLettered)
	_, ok := f.stored(id)
	require.False(t, ok)
	f.mu.Lock()
	defer f.mu.Unlock()
	require.Len(t, f.keys, 3)
	require.Equal(t, []string{id}, f.keys[2])
}

// Every document ends stored, rescued, dead-lettered or failed, exactly
// once, under item 429s, mapping errors, refused rescues and a reset
// connection; the counters add up to the input.
func TestEveryDocumentSettledOnce(t *testing.T) {
	f := newFaultyBulk(t)
	src := testSource("api-1")
	const batches, per = 8, 25
	kind := map[string]int{} // id → n%10
	for n := range batches * per {
		kind[idOf(src, n)] = n % 10
	}
	tries := map[string]int{} // under f.mu, like onItem
	f.onItem = func(_, _ int, op bulkOp) int {
		tries[op.ID]++
		switch kind[op.ID] {
		case 1: // busy the first time
			if tries[op.ID] == 1 {
				return http.StatusTooManyRequests
			}
		case 3: // refused, rescue refused, dead letter stored
			if op.Index != deadLetterIndex {
				return http.StatusBadRequest
			}
		case 4: // refused everywhere
			return http.StatusBadRequest
		}
		return 0
	}
	f.onRequest = func(call int, _ []bulkOp) *fault {
		if call == 2 {
			return &fault{reset: true}
		}
		return nil
	}
	doc := func(n int) string {
		if n%10 == 2 { // a mapping conflict: rescued
			return strings.Replace(testDoc(src, n), `"n":`+strconv.Itoa(n), `"n":"x"`, 1)
		}
		return testDoc(src, n)
	}
	cfg := testConfig(f.srv.URL)
	cfg.Bulk.MaxBytes = 4096
	o := startOutput(t, cfg)
	acks := newAckRecorder()
	w := o.NewWriter()
	var seqs []uint64
	for b := range batches {
		write(t, w, newTestBatch(src, acks, uint64(b), b*per, per, doc))
		seqs = append(seqs, uint64(b))
	}
	acks.waitAcked(t, seqs...)

	st := o.Stats()
	total := int64(batches * per)
	require.Equal(t, total/10*7, st.DocsSent+st.DocsDuplicate)
	require.Equal(t, total/10, st.DocsRescued)
	require.Equal(t, total/10, st.DocsDeadLettered)
	require.Equal(t, total/10, st.DocsFailed)
	require.Equal(t, total, st.DocsSent+st.DocsDuplicate+st.DocsRescued+st.DocsDeadLettered+st.DocsFailed)
	require.Positive(t, st.ItemRetries)
	require.Positive(t, st.RequestRetries)
	for n := range batches * per {
		d, ok := f.stored(idOf(src, n))
		switch n % 10 {
		case 4:
			require.False(t, ok, "record %d", n)
		case 2:
			require.True(t, ok, "record %d", n)
			require.Contains(t, string(d), `"sluice":{"error":"mapper_parsing_exception`)
		case 3:
			require.True(t, ok, "record %d", n)
			require.Contains(t, string(d), `"rescue_error":`)
		default:
			require.True(t, ok, "record %d", n)
			require.Contains(t, string(d), `"n":`+strconv.Itoa(n)+`,`)
		}
	}
	require.Len(t, f.storedKeys(), int(total/10*9), "nothing stored twice")
}

// An output pointed at a path the store does not serve: VictoriaLogs
// answers every request there with a plain-text 400 ("unsupported path
// requested"), which reads like a document it cannot take. Splitting ends
// with lone dead letters refused as well; those are held and sent again
// (nothing acknowledged, nothing counted lost) until the path answers.
func TestWrongPathHoldsInsteadOfDropping(t *testing.T) {
	f := newFaultyBulk(t)
	var wrong atomic.Bool
	wrong.Store(true)
	f.onRequest = func(int, []bulkOp) *fault {
		if wrong.Load() {
			return &fault{status: http.StatusBadRequest, contentType: "text/plain; charset=utf-8",
				body: "unsupported path requested: /wrong/_bulk\n"}
		}
		return nil
	}
	o := startOutput(t, testConfig(f.srv.URL))
	src := testSource("api-1")
	acks := newAckRecorder()
	acks.check = storedAll(f, src, 4, nil)
	write(t, o.NewWriter(), newTestBatch(src, acks, 0, 0, 4, nil))

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		require.GreaterOrEqual(c, o.Stats().RequestRetries, int64(8), "lone dead letters sent again")
	}, hangWait, 5*time.Millisecond)
	require.Zero(t, acks.count(0), "nothing acknowledged while the path refuses")
	require.Zero(t, o.Stats().DocsFailed)
	require.Equal(t, "failing", o.Health().State)

	wrong.Store(false)
	acks.waitAcked(t, 0)
	st := o.Stats()
	require.Zero(t, st.DocsFailed)
	require.Equal(t, int64(4), st.DocsDeadLettered, "the held dead letters are stored")
	require.Len(t, f.storedKeys(), 4)
	require.Equal(t, "ok", o.Health().State)
}
