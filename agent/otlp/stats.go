package otlp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"syscall"
	"time"
)

// Cause is why a request failed as a whole: a label value of
// sluice_output_request_failures_total, named as the elasticsearch
// output names its causes.
type Cause uint8

// The causes of a failed request.
const (
	CauseConnectionRefused Cause = iota
	CauseConnectionReset
	CauseTimeout
	CauseDNS
	CauseTLS
	CauseNetwork
	CauseUnauthorized // 401, 407: sent again, an operator must fix the headers
	CauseForbidden    // 403: likewise
	CauseThrottled    // 429
	CauseUnavailable  // 503
	CauseServerError  // other 5xx: sent again
	CauseClientError  // other 4xx: refused for good
	CauseBadResponse  // a 2xx whose body is not an export response
	numCauses
)

var causeNames = [numCauses]string{
	"connection_refused", "connection_reset", "timeout", "dns", "tls", "network",
	"unauthorized", "forbidden", "throttled", "unavailable", "http_5xx", "http_4xx", "bad_response",
}

func (c Cause) String() string { return causeNames[c] }

// statusCause classifies an HTTP status that is not a success.
func statusCause(status int) Cause {
	switch {
	case status == http.StatusUnauthorized, status == http.StatusProxyAuthRequired:
		return CauseUnauthorized
	case status == http.StatusForbidden:
		return CauseForbidden
	case status == http.StatusTooManyRequests:
		return CauseThrottled
	case status == http.StatusServiceUnavailable:
		return CauseUnavailable
	case status == http.StatusRequestTimeout:
		return CauseTimeout
	case status >= 500:
		return CauseServerError
	default:
		return CauseClientError
	}
}

// transportCause classifies an error without an HTTP answer.
func transportCause(err error) Cause {
	var dns *net.DNSError
	var ne net.Error
	var rec tls.RecordHeaderError
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return CauseConnectionRefused
	case errors.As(err, &dns):
		return CauseDNS
	case errors.As(err, &rec), errors.As(err, &cv), errors.As(err, &ua), errors.As(err, &hn):
		return CauseTLS
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return CauseTimeout
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return CauseConnectionReset
	}
	return CauseNetwork
}

// counters are the output's, read by Stats and the collector.
type counters struct {
	sent, failed, empty   atomic.Int64 // records
	partial, refused      atomic.Int64 // records rejected: partial success, a 4xx for the whole request
	requestRetries, bytes atomic.Int64
	flights, pending      atomic.Int64
	lastSuccess           atomic.Int64 // Unix nanoseconds
	requests              [numCauses]atomic.Int64
}

// Stats counts what the output did.
type Stats struct {
	Sent           int64 // records the server accepted
	Failed         int64 // records refused for good (Rejected + Refused)
	Rejected       int64 // records a partial-success answer rejected
	Refused        int64 // records of requests refused as a whole (4xx)
	Skipped        int64 // records without a document
	RequestRetries int64
	Bytes          int64 // request bodies as sent
	InFlight       int64 // requests being sent
	Pending        int64 // records in requests being sent or waiting to be sent again
	LastSuccess    time.Time
}

// Stats returns a snapshot of the counters.
func (o *Output) Stats() Stats {
	c := &o.stats
	s := Stats{
		Sent: c.sent.Load(), Failed: c.failed.Load(), Rejected: c.partial.Load(), Refused: c.refused.Load(),
		Skipped: c.empty.Load(), RequestRetries: c.requestRetries.Load(), Bytes: c.bytes.Load(),
		InFlight: c.flights.Load(), Pending: c.pending.Load(),
	}
	if ns := c.lastSuccess.Load(); ns != 0 {
		s.LastSuccess = time.Unix(0, ns)
	}
	return s
}

// RequestFailures is the number of requests that failed for cause c.
func (o *Output) RequestFailures(c Cause) int64 { return o.stats.requests[c].Load() }
