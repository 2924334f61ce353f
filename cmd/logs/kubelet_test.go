package main

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/stretchr/testify/require"
)

// fakeKubelet serves a kubelet's container log endpoint,
// GET /containerLogs/{namespace}/{pod}/{container}, which kube-apiserver
// proxies pods/log to, over HTTPS on 127.0.0.1. It reads the CRI log
// files a test writes, as the kubelet reads the runtime's files, and
// follows the kubelet's query parameters (pkg/kubelet/server/server.go,
// getContainerLogs, and pkg/kubelet/kuberuntime/logs ReadLogs): tailLines
// counts from the end of the file, then sinceTime (RFC 3339) and
// sinceSeconds skip older lines, timestamps=true prefixes each line with
// its RFC 3339 time with nanoseconds, limitBytes cuts the output, and
// previous=true reads the previous instance's file. A file that does not
// exist answers like a container without logs (the kubelet: 400 "previous
// terminated container ... not found" for previous). follow=true keeps
// the answer open and writes each line appended to the file as it comes
// (the API reference's "follow: Follow the log stream of the pod"; the
// kubelet waits for writes with fsnotify, ReadLogs), until the client
// goes or the file is removed.
type fakeKubelet struct {
	srv *httptest.Server

	mu        sync.Mutex
	requests  []string // query strings, in order
	following int      // follow=true requests open
}

// kubeletFile is where fakeKubelet reads a container's log: the file
// named as the kubelet names it (POD_NAMESPACE_CONTAINER-ID.log, what
// the agents tail too), or with previous the one before, the same name
// with ".previous" added (which the agents' *.log leaves out).
func kubeletFile(dir, ns, pod, container string, previous bool) string {
	pattern := filepath.Join(dir, fmt.Sprintf("%s_%s_%s-*.log", pod, ns, container))
	if previous {
		pattern += ".previous"
	}
	m, _ := filepath.Glob(pattern)
	if len(m) == 0 {
		return pattern // not there
	}
	return m[len(m)-1] // a restarted container's new file: its id sorts last in the tests
}

// loadCert is the serving certificate of the fake kubelet.
func loadCert(certFile, keyFile string) (*tls.Config, error) {
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{c}}, nil
}

func newFakeKubelet(t *testing.T, dir, certFile, keyFile string) *fakeKubelet {
	k := &fakeKubelet{}
	k.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k.serve(w, r, dir)
	}))
	cert, err := loadCert(certFile, keyFile)
	require.NoError(t, err)
	k.srv.TLS = cert
	k.srv.StartTLS()
	t.Cleanup(k.srv.Close)
	return k
}

func (k *fakeKubelet) port(t *testing.T) int32 {
	_, p, _ := strings.Cut(k.srv.Listener.Addr().String(), ":")
	n, err := strconv.Atoi(p)
	require.NoError(t, err)
	return int32(n)
}

func (k *fakeKubelet) serve(w http.ResponseWriter, r *http.Request, dir string) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/containerLogs/"), "/")
	if !strings.HasPrefix(r.URL.Path, "/containerLogs/") || len(parts) != 3 || r.Method != http.MethodGet {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	q := r.URL.Query()
	k.mu.Lock()
	k.requests = append(k.requests, parts[1]+"/"+parts[2]+"?"+q.Encode())
	k.mu.Unlock()
	previous := q.Get("previous") == "true"
	path := kubeletFile(dir, parts[0], parts[1], parts[2], previous)
	follow := q.Get("follow") == "true"
	var watcher *fsnotify.Watcher
	if follow {
		// Watch before reading, so no write falls between the two (the
		// kubelet waits for writes with fsnotify too).
		var err error
		if watcher, err = fsnotify.NewWatcher(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer watcher.Close()
		if err := watcher.Add(path); err != nil {
			follow = false // no file yet: answered below like the kubelet
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		if previous {
			http.Error(w, fmt.Sprintf("previous terminated container %q in pod %q not found", parts[2], parts[1]), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK) // a container that has written nothing
		return
	}
	lines, offset := criLines(raw)
	if s := q.Get("tailLines"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			http.Error(w, "bad tailLines", http.StatusBadRequest)
			return
		}
		lines = lines[max(0, len(lines)-n):]
	}
	var since time.Time
	if s := q.Get("sinceTime"); s != "" {
		if since, err = time.Parse(time.RFC3339, s); err != nil {
			http.Error(w, "bad sinceTime", http.StatusBadRequest)
			return
		}
	}
	if s := q.Get("sinceSeconds"); s != "" {
		n, _ := strconv.Atoi(s)
		since = time.Now().Add(-time.Duration(n) * time.Second)
	}
	limit := -1
	if s := q.Get("limitBytes"); s != "" {
		limit, _ = strconv.Atoi(s)
	}
	format := func(lines []criLine) string {
		var b strings.Builder
		for _, l := range lines {
			if l.t.Before(since) {
				continue
			}
			if q.Get("timestamps") == "true" {
				// The kubelet's RFC3339NanoFixed.
				b.WriteString(l.t.Format("2006-01-02T15:04:05.000000000Z07:00") + " ")
			}
			b.WriteString(l.msg + "\n")
		}
		return b.String()
	}
	out := format(lines)
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte(out))
	if follow {
		k.follow(w, r, watcher, path, offset, format)
	}
}

// follow writes the lines appended to path after offset as they come,
// until the client goes or the file is removed (the container with it).
func (k *fakeKubelet) follow(w http.ResponseWriter, r *http.Request, watcher *fsnotify.Watcher, path string, offset int, format func([]criLine) string) {
	flusher := w.(http.Flusher)
	k.mu.Lock()
	k.following++
	k.mu.Unlock()
	defer func() {
		k.mu.Lock()
		k.following--
		k.mu.Unlock()
	}()
	for {
		flusher.Flush()
		select {
		case <-r.Context().Done():
			return
		case ev, ok := <-watcher.Events:
			if !ok || ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
				return
			}
		case <-watcher.Errors:
			return
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return
		}
		lines, n := criLines(raw[offset:])
		offset += n
		if _, err := w.Write([]byte(format(lines))); err != nil {
			return
		}
	}
}

// criLine is a line of a CRI log file.
type criLine struct {
	t   time.Time
	msg string
}

// criLines parses the complete lines of raw (TIME STREAM TAG MESSAGE)
// and returns them with the bytes they take.
func criLines(raw []byte) ([]criLine, int) {
	end := bytes.LastIndexByte(raw, '\n') + 1
	var out []criLine
	for _, l := range strings.Split(string(raw[:end]), "\n") {
		fs := strings.SplitN(l, " ", 4)
		if len(fs) < 4 {
			continue
		}
		ts, err := time.Parse(time.RFC3339Nano, fs[0])
		if err != nil {
			continue
		}
		out = append(out, criLine{ts, fs[3]})
	}
	return out, end
}
