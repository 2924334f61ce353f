package httpapi

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/agent/tap"
	"github.com/sluicelog/sluice/internal/agenttest"
)

// serve runs a server for opts on 127.0.0.1 until the test ends and
// returns its base URL.
func serve(t *testing.T, opts Options) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := New(opts)
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		require.NoError(t, s.Close())
		require.NoError(t, <-done)
	})
	return "http://" + ln.Addr().String()
}

func get(t *testing.T, url, token string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body), resp.Header
}

func TestToken(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_test_total", Help: "x"}))
	base := serve(t, Options{
		Gatherer: reg, Token: "s3cret",
		Status: func() any { return map[string]string{"version": "test"} },
		Tap:    tap.NewHub(0, 0),
	})
	f := func(path, token string, want int) {
		t.Helper()
		code, body, h := get(t, base+path, token)
		require.Equal(t, want, code, "%s with token %q: %s", path, token, body)
		if want == http.StatusUnauthorized {
			require.Equal(t, `Bearer realm="sluice"`, h.Get("WWW-Authenticate"))
		}
	}
	f("/api/v1/status", "", http.StatusUnauthorized)
	f("/api/v1/status", "wrong", http.StatusUnauthorized)
	f("/api/v1/status", "s3cret", http.StatusOK)
	f("/api/v1/tap?bogus=1", "", http.StatusUnauthorized)
	f("/api/v1/tap?bogus=1", "s3cret", http.StatusBadRequest)
	f("/api/v1/nothing", "", http.StatusUnauthorized)
	f("/api/v1/nothing", "s3cret", http.StatusNotFound)
	f("/metrics", "", http.StatusOK)
	f("/healthz", "", http.StatusOK)
	f("/readyz", "", http.StatusOK)

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/api/v1/status", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Basic s3cret")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "only the Bearer scheme")

	// The token header that survives the API server's pod proxy.
	for token, want := range map[string]int{"s3cret": http.StatusOK, "wrong": http.StatusUnauthorized, " s3cret ": http.StatusOK} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/api/v1/status", nil)
		require.NoError(t, err)
		req.Header.Set(TokenHeader, token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, want, resp.StatusCode, "X-Sluice-Token %q", token)
	}

	_, body, _ := get(t, base+"/api/v1/status", "s3cret")
	require.JSONEq(t, `{"version":"test"}`, body)
	_, body, _ = get(t, base+"/metrics", "")
	require.Contains(t, body, "sluice_test_total 0")
}

func TestNoTokenConfigured(t *testing.T) {
	base := serve(t, Options{Status: func() any { return 1 }})
	code, _, _ := get(t, base+"/api/v1/status", "")
	require.Equal(t, http.StatusOK, code)
}

func TestProbes(t *testing.T) {
	var healthErr, readyErr error
	base := serve(t, Options{
		Health: CheckFunc(func() error { return healthErr }),
		Ready:  CheckFunc(func() error { return readyErr }),
	})
	code, body, _ := get(t, base+"/healthz", "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ok\n", body)
	healthErr = errors.New("pipeline worker 0 stopped")
	readyErr = errors.New("kubernetes cache not synced")
	code, body, _ = get(t, base+"/healthz", "")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Equal(t, "pipeline worker 0 stopped\n", body)
	code, body, _ = get(t, base+"/readyz", "")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Equal(t, "kubernetes cache not synced\n", body)
}

func docBatch(src *record.Source, lines ...string) *record.Batch {
	b := record.NewBatch(src, nil)
	for _, l := range lines {
		b.Add(record.Record{}, []byte(l))
		b.Docs = append(b.Docs, `{"log":"`+l+`"}`...)
		b.DocEnds = append(b.DocEnds, int32(len(b.Docs)))
	}
	return b
}

// openTap starts a tap request and returns its body, read line by line.
func openTap(t *testing.T, url string) (*bufio.Reader, func()) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "application/x-ndjson", resp.Header.Get("Content-Type"))
	return bufio.NewReader(resp.Body), func() { resp.Body.Close() }
}

func TestTapStreamsFilteredDocuments(t *testing.T) {
	hub := tap.NewHub(0, 2)
	base := serve(t, Options{Tap: hub})
	body, closeBody := openTap(t, base+"/api/v1/tap?namespace=payments&grep=error")
	require.Equal(t, 1, hub.Subscribers(), "subscribed before the headers were sent")
	pay := &record.Source{Namespace: "payments"}
	hub.Publish(docBatch(pay, "ok", "error 1"))
	hub.Publish(docBatch(&record.Source{Namespace: "web"}, "error web"))
	hub.Publish(docBatch(pay, "error 2", "fine"))
	for _, want := range []string{`{"log":"error 1"}`, `{"log":"error 2"}`} {
		line, err := body.ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, want+"\n", line)
	}
	// A third client is one too many for this hub.
	_, c2 := openTap(t, base+"/api/v1/tap")
	code, _, _ := get(t, base+"/api/v1/tap", "")
	require.Equal(t, http.StatusTooManyRequests, code)
	c2()
	closeBody()
	require.Eventually(t, func() bool { return hub.Subscribers() == 0 }, 5*time.Second, time.Millisecond, "gone clients unsubscribe")
}

func TestTapDroppedClientIsTold(t *testing.T) {
	hub := tap.NewHub(1, 0)
	base := serve(t, Options{Tap: hub})
	// The handler is blocked on nothing: it gets chunk 1 at once. Publish
	// enough at once to overflow the one-chunk buffer before it runs.
	body, closeBody := openTap(t, base+"/api/v1/tap")
	defer closeBody()
	src := &record.Source{}
	for i := 0; i < 100000 && hub.Subscribers() > 0; i++ {
		hub.Publish(docBatch(src, strings.Repeat("x", 100)))
	}
	require.Equal(t, int64(1), hub.Dropped())
	var last string
	for {
		line, err := body.ReadString('\n')
		if err != nil {
			break
		}
		last = line
	}
	require.Equal(t, droppedLine, last)
}

// TestPprof: the profiles are off unless asked for, and behind the token.
func TestPprof(t *testing.T) {
	off := serve(t, Options{Token: "s3cret"})
	code, _, _ := get(t, off+"/debug/pprof/heap", "s3cret")
	require.Equal(t, http.StatusNotFound, code, "pprof must be opt-in")

	on := serve(t, Options{Token: "s3cret", Pprof: true})
	code, _, _ = get(t, on+"/debug/pprof/heap", "")
	require.Equal(t, http.StatusUnauthorized, code)
	code, body, _ := get(t, on+"/debug/pprof/heap?debug=1", "s3cret")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "heap profile")
	code, body, _ = get(t, on+"/debug/pprof/", "s3cret")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "goroutine")
}

// TestPublicWithoutTokenRefusesAPI: reachable by every pod and no token,
// /api/v1 and pprof answer 403 with the reason, logged once at start;
// /metrics and the probes stay open; the opt-out and a token lift it.
func TestPublicWithoutTokenRefusesAPI(t *testing.T) {
	var logs agenttest.Buffer
	reg := prometheus.NewRegistry()
	status := func() any { return 1 }
	base := serve(t, Options{Gatherer: reg, Public: true, Status: status, Tap: tap.NewHub(0, 0), Pprof: true,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	for _, path := range []string{"/api/v1/status", "/api/v1/tap", "/api/v1/nothing", "/debug/pprof/heap"} {
		code, body, _ := get(t, base+path, "")
		require.Equal(t, http.StatusForbidden, code, path)
		require.Equal(t, refusedReason+"\n", body)
	}
	for _, path := range []string{"/metrics", "/healthz", "/readyz"} {
		code, _, _ := get(t, base+path, "")
		require.Equal(t, http.StatusOK, code, path)
	}
	require.Equal(t, 1, strings.Count(logs.String(), "refuse every request (403)"), logs.String())

	for _, opts := range []Options{
		{Public: true, AllowUnauthenticated: true, Status: status},
		{Public: false, Status: status},
	} {
		code, _, _ := get(t, serve(t, opts)+"/api/v1/status", "")
		require.Equal(t, http.StatusOK, code, "%+v", opts)
	}
	tokened := serve(t, Options{Public: true, Token: "s3cret", Status: status})
	code, _, _ := get(t, tokened+"/api/v1/status", "s3cret")
	require.Equal(t, http.StatusOK, code)
}
