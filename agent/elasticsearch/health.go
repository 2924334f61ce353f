package elasticsearch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Cause is why a bulk request failed as a whole: a label value of
// sluice_output_request_failures_total and the reason of a failing state.
type Cause uint8

// The causes of a failed bulk request.
const (
	CauseConnectionRefused Cause = iota // nothing listens at the URL
	CauseConnectionReset                // the connection broke mid-request
	CauseTimeout                        // no answer within timeout
	CauseDNS                            // the host name does not resolve
	CauseTLS                            // handshake or certificate
	CauseNetwork                        // any other transport failure
	CauseUnauthorized                   // 401, 407: the credentials
	CauseForbidden                      // 403: the privileges
	CauseThrottled                      // 429 for the whole request
	CauseUnavailable                    // 503
	CauseServerError                    // other 5xx
	CauseClientError                    // other 4xx for the whole request
	CauseBadResponse                    // a 2xx whose body is not a bulk answer
	numCauses
)

var causeNames = [numCauses]string{
	"connection_refused", "connection_reset", "timeout", "dns", "tls", "network",
	"unauthorized", "forbidden", "throttled", "unavailable", "http_5xx", "http_4xx", "bad_response",
}

// hints say what to check, in the failing state and its log line.
var causeHints = [numCauses]string{
	"is the server up, and are urls right?",
	"the server or a proxy closed the connection",
	"the server did not answer within timeout; is it overloaded?",
	"the host name in urls does not resolve",
	"check tls.ca_file, the server's certificate and its host name",
	"check the network between the node and the server",
	"check username/password_file, api_key_file or bearer_token_file",
	"the credentials lack privileges: they need create_doc on the target indices",
	"the server is overloaded; sending again with backoff",
	"the server is unavailable; sending again with backoff",
	"the server failed; sending again with backoff",
	"the server refuses the request as a whole",
	"the answer is not a bulk response: is urls pointing at Elasticsearch?",
}

func (c Cause) String() string { return causeNames[c] }

// Causes lists every cause, in a fixed order, for metrics.
func Causes() []Cause {
	out := make([]Cause, numCauses)
	for i := range out {
		out[i] = Cause(i)
	}
	return out
}

// auth is whether the cause is the credentials' or their privileges':
// those are logged at ERROR, as an operator must act.
func (c Cause) auth() bool { return c == CauseUnauthorized || c == CauseForbidden }

// DocCause is why the server refused one document of an answered request.
type DocCause uint8

// The causes of a refused document.
const (
	DocThrottled          DocCause = iota // item 429: sent again
	DocServerError                        // item 5xx: sent again
	DocRejected                           // item 4xx (mapping and the like): a rescue copy goes
	DocRescueRejected                     // the rescue copy refused: a dead letter goes
	DocDeadLetterRejected                 // the dead letter refused: lost
	numDocCauses
)

var docCauseNames = [numDocCauses]string{"throttled", "server_error", "rejected", "rescue_rejected", "dead_letter_rejected"}

func (c DocCause) String() string { return docCauseNames[c] }

// DocCauses lists every document cause, in a fixed order, for metrics.
func DocCauses() []DocCause {
	out := make([]DocCause, numDocCauses)
	for i := range out {
		out[i] = DocCause(i)
	}
	return out
}

// requestCause classifies a transport error, or an HTTP status when err
// is nil.
func requestCause(status int, err error) Cause {
	if err != nil {
		return transportCause(err)
	}
	switch {
	case status == http.StatusUnauthorized, status == http.StatusProxyAuthRequired:
		return CauseUnauthorized
	case status == http.StatusForbidden:
		return CauseForbidden
	case status == http.StatusTooManyRequests:
		return CauseThrottled
	case status == http.StatusServiceUnavailable:
		return CauseUnavailable
	case status >= 500:
		return CauseServerError
	case status >= 200 && status < 300:
		return CauseBadResponse
	default:
		return CauseClientError
	}
}

func transportCause(err error) Cause {
	var dns *net.DNSError
	var ne net.Error
	var rec tls.RecordHeaderError
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	var alert tls.AlertError
	switch {
	case errors.Is(err, errNotElasticsearch):
		return CauseBadResponse
	case errors.Is(err, syscall.ECONNREFUSED):
		return CauseConnectionRefused
	case errors.As(err, &dns):
		return CauseDNS
	case errors.As(err, &rec), errors.As(err, &cv), errors.As(err, &ua), errors.As(err, &hn),
		errors.As(err, &ci), errors.As(err, &alert):
		return CauseTLS
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return CauseTimeout
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return CauseConnectionReset
	default:
		return CauseNetwork
	}
}

// describeFailure is the failure in a few words, without anything from
// the config (no URL, no credentials): an HTTP status and its text, or
// the kind of transport failure.
func describeFailure(c Cause, status int) string {
	if status != 0 {
		return fmt.Sprintf("%d %s", status, http.StatusText(status))
	}
	switch c {
	case CauseConnectionRefused:
		return "connection refused"
	case CauseConnectionReset:
		return "connection reset"
	case CauseDNS:
		return "host name not found"
	case CauseTLS:
		return "TLS handshake failed"
	default:
		return c.String()
	}
}

// health is an output's failures by cause, its last successful request,
// and its state in words: ok, or failing since when and why.
type health struct {
	lastSuccess atomic.Int64 // Unix ns of the last answered 2xx bulk request; 0: none yet
	requests    [numCauses]atomic.Int64
	docs        [numDocCauses]atomic.Int64
	pendingDocs atomic.Int64 // documents in requests being sent or retried
	backoffs    atomic.Int64 // spans waiting out a backoff before being sent again

	mu      sync.Mutex
	failing bool
	cause   Cause
	detail  string
	since   time.Time
}

// succeeded marks an answered bulk request; it reports whether the
// output was failing until now, and since when.
func (h *health) succeeded(now time.Time) (recovered bool, since time.Time) {
	h.lastSuccess.Store(now.UnixNano())
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.failing {
		return false, time.Time{}
	}
	h.failing = false
	return true, h.since
}

// failed counts a failed request and reports whether the state changed:
// from ok to failing, or to another cause.
func (h *health) failed(c Cause, status int, now time.Time) (changed bool) {
	h.requests[c].Add(1)
	detail := describeFailure(c, status)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failing && h.cause == c && h.detail == detail {
		return false
	}
	if !h.failing {
		h.since = now
	}
	h.failing, h.cause, h.detail = true, c, detail
	return true
}

// State is an output's health in words, for /api/v1/status.
type State struct {
	// State is "ok", "failing" or "idle" (nothing sent yet).
	State string `json:"state"`
	// Message says it for a person: "failing since 10:42:07: 401
	// Unauthorized (check username/password_file, ...)".
	Message      string     `json:"message"`
	Cause        string     `json:"cause,omitempty"`
	Since        *time.Time `json:"since,omitempty"`
	LastSuccess  *time.Time `json:"last_success,omitempty"`
	PendingDocs  int64      `json:"documents_waiting"`
	RetryBacklog int64      `json:"retry_backlog"` // spans waiting out a backoff
}

func (h *health) state() State {
	st := State{State: "idle", Message: "no bulk request answered yet", PendingDocs: h.pendingDocs.Load(), RetryBacklog: h.backoffs.Load()}
	if ns := h.lastSuccess.Load(); ns != 0 {
		t := time.Unix(0, ns).UTC()
		st.LastSuccess = &t
		st.State, st.Message = "ok", "ok: last bulk request answered at "+t.Format(time.TimeOnly)+" UTC"
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failing {
		since := h.since.UTC()
		st.State, st.Cause, st.Since = "failing", h.cause.String(), &since
		st.Message = fmt.Sprintf("failing since %s UTC: %s (%s)", since.Format(time.TimeOnly), h.detail, causeHints[h.cause])
	}
	return st
}

// Health is the output's state now.
func (o *Output) Health() State { return o.health.state() }

// LastSuccess is when a bulk request was last answered with a 2xx; zero
// before the first.
func (o *Output) LastSuccess() time.Time {
	if ns := o.health.lastSuccess.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// RequestFailures is how many bulk requests failed for cause c.
func (o *Output) RequestFailures(c Cause) int64 { return o.health.requests[c].Load() }

// DocumentFailures is how many documents the server refused for cause c.
func (o *Output) DocumentFailures(c DocCause) int64 { return o.health.docs[c].Load() }

// PendingDocuments is the documents in requests being sent or retried.
func (o *Output) PendingDocuments() int64 { return o.health.pendingDocs.Load() }

// requestOK records an answered bulk request, and logs a recovery.
func (o *Output) requestOK() {
	if recovered, since := o.health.succeeded(time.Now()); recovered {
		o.log.Info("output recovered: bulk requests are answered again", "failing_for", time.Since(since).Round(time.Millisecond).String())
	}
}

// requestFailed records a failed bulk request and, on a change of state,
// logs it once with a hint: at ERROR for credentials and privileges (a
// person must act; retries go on, so a fixed Secret and a SIGHUP recover),
// at WARN otherwise. It reports whether the per-retry warning should be
// left out (auth failures: the one ERROR says it all).
func (o *Output) requestFailed(c Cause, status int, err error, response []byte) (quiet bool) {
	if o.health.failed(c, status, time.Now()) {
		args := []any{"cause", c.String(), "failure", describeFailure(c, status), "hint", causeHints[c]}
		if err != nil {
			args = append(args, "error", err)
		}
		if len(response) > 0 {
			args = append(args, "response", snippet(response))
		}
		if c.auth() {
			o.log.Error("output failing: the server refuses the credentials; retrying until they are fixed", args...)
		} else {
			o.log.Warn("output failing: bulk requests fail; retrying", args...)
		}
	}
	return c.auth()
}

// docRetryCause is the cause of an item the server asked to send again.
func docRetryCause(status int) DocCause {
	if status == http.StatusTooManyRequests {
		return DocThrottled
	}
	return DocServerError
}

// refusedCause is the cause of a document of stage st refused for good.
func refusedCause(st stage) DocCause {
	switch st {
	case stagePrimary:
		return DocRejected
	case stageRescue:
		return DocRescueRejected
	default:
		return DocDeadLetterRejected
	}
}
