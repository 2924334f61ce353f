package elasticsearch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// verdict is what becomes of one document after a bulk response.
type verdict uint8

const (
	delivered verdict = iota // stored
	duplicate                // 409 on create: an earlier try stored it
	retry                    // 429, 5xx, rejected execution: send it again
	rejected                 // other 4xx: the server will never take it
)

func (v verdict) String() string {
	switch v {
	case delivered:
		return "delivered"
	case duplicate:
		return "duplicate"
	case retry:
		return "retry"
	default:
		return "rejected"
	}
}

// outcome is the verdict on one item of a bulk response, with the error
// the server gave when there was one.
type outcome struct {
	verdict verdict
	// failureStore: delivered into the data stream's failure store
	// ("failure_store":"used"), not into the stream itself.
	failureStore bool
	status       int
	errType      string
	reason       string
}

// bulkEnvelope is one item of a _bulk response: an object with a single key naming the action.
// Named fields instead of a map: no allocation per item.
type bulkEnvelope struct {
	Create bulkItem `json:"create"`
	Index  bulkItem `json:"index"`
	Update bulkItem `json:"update"`
	Delete bulkItem `json:"delete"`
}

type bulkItem struct {
	Status       int             `json:"status"`
	FailureStore string          `json:"failure_store"` // "used" when the failure store took the document (8.19+, 9.1+)
	Error        json.RawMessage `json:"error"`         // an object, or a string before ES 2
	OK           bool            `json:"ok"`            // ES 0.90: success without a status
}

func (it *bulkItem) set() bool { return it.Status != 0 || len(it.Error) > 0 || it.OK }

func (e *bulkEnvelope) item() *bulkItem {
	switch {
	case e.Index.set():
		return &e.Index
	case e.Update.set():
		return &e.Update
	case e.Delete.set():
		return &e.Delete
	default:
		return &e.Create
	}
}

// itemError is the error object of a failed item.
type itemError struct {
	Type     string `json:"type"`
	Reason   string `json:"reason"`
	CausedBy *struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"caused_by"`
}

var (
	errorKey        = []byte(`"error"`)
	failureStoreKey = []byte(`"failure_store":"used"`)
)

// parseBulkResponse reads the body of a 2xx _bulk response to a request of
// n documents and appends one outcome per document to dst. The body is
// walked once in place (scanItems); only items holding an "error" key are
// decoded, so an all-success answer costs one scan. The "errors" flag is
// not trusted: ES 5 answered "errors": false next to 429 items. An item
// without an error is delivered. An error means the response cannot be
// mapped to the request (not JSON, or not one item per document, as from a
// proxy or a server that ignored the body); the caller sends it again.
func parseBulkResponse(dst []outcome, body []byte, n int) ([]outcome, error) {
	start := len(dst)
	// Whether the body holds an error or a failure-store item anywhere is
	// asked only once an item is not the plain createdItem, which most
	// answers hold nothing but.
	var anyError, anyFS, looked bool
	var decodeErr error
	count, err := scanItems(body, func(raw []byte) {
		if string(raw) == string(createdItem) {
			dst = append(dst, outcome{verdict: delivered})
			return
		}
		if !looked {
			anyError = bytes.Contains(body, errorKey)
			anyFS = bytes.Contains(body, failureStoreKey)
			looked = true
		}
		if (!anyError || !bytes.Contains(raw, errorKey)) && (!anyFS || !bytes.Contains(raw, failureStoreKey)) {
			dst = append(dst, outcome{verdict: delivered})
			return
		}
		var env bulkEnvelope
		if err := json.Unmarshal(raw, &env); err != nil {
			decodeErr = err
		}
		dst = append(dst, judgeItem(env.item()))
	})
	if err == nil {
		err = decodeErr
	}
	if err != nil {
		return dst[:start], fmt.Errorf("decode bulk response: %w", err)
	}
	if count != n {
		return dst[:start], fmt.Errorf("bulk response has %d items for %d documents", count, n)
	}
	return dst, nil
}

// judgeItem sorts one response item by its status, and by its error type
// where the status does not settle it.
func judgeItem(it *bulkItem) outcome {
	o := outcome{status: it.Status, failureStore: it.FailureStore == "used"}
	if len(it.Error) > 0 && !bytes.Equal(it.Error, []byte("null")) {
		o.errType, o.reason = decodeItemError(it.Error)
	}
	switch {
	case o.errType == "es_rejected_execution_exception" || o.errType == "EsRejectedExecutionException":
		o.verdict = retry
	case it.Status >= 200 && it.Status < 300:
		o.verdict = delivered
	case it.Status == http.StatusConflict:
		// We only send create, so a conflict means the id is taken: a
		// replay of a document stored before (DESIGN, Delivery).
		o.verdict = duplicate
	case it.Status == http.StatusTooManyRequests || it.Status >= 500:
		o.verdict = retry
	case it.Status == 0 && o.errType == "":
		o.verdict = delivered // ES 0.90 ("ok": true)
	case it.Status == 0 && (o.errType == "DocumentAlreadyExistsException" || o.errType == "version_conflict_engine_exception"):
		o.verdict = duplicate
	default:
		o.verdict = rejected
	}
	return o
}

// decodeItemError returns the type and reason of an item's error. Before
// ES 2 the error was a string such as "EsRejectedExecutionException[...]";
// its type is the name before '['.
func decodeItemError(raw json.RawMessage) (typ, reason string) {
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", string(raw)
		}
		if i := strings.IndexByte(s, '['); i > 0 {
			return s[:i], s
		}
		return "", s
	}
	var e itemError
	if err := json.Unmarshal(raw, &e); err != nil {
		return "", string(raw)
	}
	reason = e.Reason
	if e.CausedBy != nil && e.CausedBy.Reason != "" {
		reason += ": " + e.CausedBy.Reason
	}
	return e.Type, reason
}

// requestVerdict sorts the status of a whole response that is not 2xx:
// retry it as it is, or cut it in halves to find the documents the server
// refuses. Statuses that say the server, the path or the credentials are
// wrong are retried, since splitting would end by refusing every document.
func requestVerdict(status int) verdict {
	switch {
	case status == http.StatusTooManyRequests, status >= 500,
		status == http.StatusUnauthorized, status == http.StatusForbidden,
		status == http.StatusNotFound, status == http.StatusMethodNotAllowed,
		status == http.StatusProxyAuthRequired, status == http.StatusRequestTimeout:
		return retry
	case status >= 400:
		return rejected
	default: // 1xx, 3xx: not an answer to a bulk request
		return retry
	}
}

// requestError describes a refused request: the error object of an
// Elasticsearch error body, or the start of a plain-text one.
func requestError(status int, body []byte) outcome {
	oc := outcome{verdict: rejected, status: status}
	if b := bytes.TrimSpace(body); len(b) > 0 && b[0] == '{' {
		var e struct {
			Error json.RawMessage `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && len(e.Error) > 0 && !bytes.Equal(e.Error, []byte("null")) {
			oc.errType, oc.reason = decodeItemError(e.Error)
			return oc
		}
	}
	oc.reason = snippet(body)
	return oc
}

// retryAfter reads a Retry-After header (seconds or an HTTP date) as a
// duration from now; 0 when there is none.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// snippet returns the start of a response body for a log line.
func snippet(b []byte) string {
	const limit = 512
	b = bytes.TrimSpace(b)
	if len(b) > limit {
		return string(b[:limit]) + "…"
	}
	return string(b)
}
