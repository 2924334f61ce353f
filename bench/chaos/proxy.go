package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// faultProxy is an HTTP proxy in front of the store that fakes what the
// real store cannot be made to do on demand: latency, 429 bursts in the
// shapes of the Elasticsearch bulk protocol (a whole request refused, or
// single items refused inside a 200 answer), connection resets before or
// after the store got the request, and a full outage. It also requires
// HTTP Basic auth, so the agent has a secret to (not) log.
type faultProxy struct {
	store      string // the store's root, http://127.0.0.1:PORT
	authHeader string // the Authorization value the agent must send
	client     *http.Client
	srv        *http.Server
	ln         *gateListener

	mu       sync.Mutex
	faults   faults
	rng      *rand.Rand
	conns    map[net.Conn]struct{}
	faultLog []string
	// lostAnswers: syslog messages (key "app/proc#seq" or "htcp#N") in
	// requests the store took but whose answer never reached the agent,
	// which therefore sends them again.
	lostAnswers map[string]bool

	st proxyStats
}

// faults is the current fault mix; the zero value forwards everything.
type faults struct {
	LatencyMax  time.Duration // each request waits a random time up to this
	Request429  float64       // share of bulk requests refused whole with 429
	Item429     float64       // share of bulk items refused with 429 inside a 200
	ResetBefore float64       // share of bulk requests reset before forwarding
	ResetAfter  float64       // share reset after the store stored them (replays)
	Down        bool          // outage: every connection is reset
}

type proxyStats struct {
	Requests, Bulk, Forwarded          atomic.Int64
	Whole429, Item429, Items           atomic.Int64
	ResetsBefore, ResetsAfter          atomic.Int64
	RefusedConns, CutConns, AuthFailed atomic.Int64
	StoreErrors                        atomic.Int64
}

func newFaultProxy(store, user, pass string, seed uint64) (*faultProxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("proxy listen: %w", err)
	}
	p := &faultProxy{
		store:      store,
		authHeader: "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass)),
		client: &http.Client{Transport: &http.Transport{
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     30 * time.Second,
		}},
		rng:   rand.New(rand.NewPCG(seed, 0x70726f78)),
		conns: map[net.Conn]struct{}{},

		lostAnswers: map[string]bool{},
	}
	p.ln = &gateListener{Listener: l, p: p}
	p.srv = &http.Server{
		Handler:   p,
		ConnState: p.connState,
	}
	go func() { _ = p.srv.Serve(p.ln) }()
	return p, nil
}

// URL is what the agent's output points at.
func (p *faultProxy) URL() string { return "http://" + p.ln.Addr().String() + "/insert/elasticsearch" }

func (p *faultProxy) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = p.srv.Shutdown(ctx)
	_ = p.srv.Close()
}

// set replaces the fault mix; going down cuts every open connection.
func (p *faultProxy) set(f faults, why string) {
	p.mu.Lock()
	p.faults = f
	p.faultLog = append(p.faultLog, why)
	var cut []net.Conn
	if f.Down {
		for c := range p.conns {
			cut = append(cut, c)
		}
	}
	p.mu.Unlock()
	for _, c := range cut {
		resetConn(c)
		p.st.CutConns.Add(1)
	}
}

func (p *faultProxy) current() faults {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults
}

func (p *faultProxy) roll(share float64) bool {
	if share <= 0 {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rng.Float64() < share
}

func (p *faultProxy) connState(c net.Conn, s http.ConnState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch s {
	case http.StateNew:
		p.conns[c] = struct{}{}
	case http.StateClosed, http.StateHijacked:
		delete(p.conns, c)
	}
}

// gateListener resets connections at accept time during an outage, so the
// agent sees a dead store, not a slow one.
type gateListener struct {
	net.Listener
	p *faultProxy
}

func (l *gateListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.p.current().Down {
			l.p.st.RefusedConns.Add(1)
			resetConn(c)
			continue
		}
		return c, nil
	}
}

// resetConn closes c with SO_LINGER 0, so the peer gets an RST rather
// than an orderly FIN.
func resetConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// reset hijacks the request's connection and resets it.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("BUG: the proxy's ResponseWriter cannot hijack")
	}
	c, _, err := hj.Hijack()
	if err != nil {
		return
	}
	resetConn(c)
}

const rejectedReason = "rejected execution of coordinating operation [chaos proxy: simulated overload]"

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.st.Requests.Add(1)
	f := p.current()
	if f.Down {
		reset(w)
		return
	}
	if r.Header.Get("Authorization") != p.authHeader {
		p.st.AuthFailed.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":{"root_cause":[{"type":"security_exception","reason":"missing authentication credentials"}],"type":"security_exception","reason":"missing authentication credentials"},"status":401}`)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return // the agent went away
	}
	if f.LatencyMax > 0 {
		p.mu.Lock()
		d := time.Duration(p.rng.Int64N(int64(f.LatencyMax)))
		p.mu.Unlock()
		time.Sleep(d) // the fault itself
	}
	bulk := strings.HasSuffix(r.URL.Path, "/_bulk") && r.Method == http.MethodPost && r.Header.Get("Content-Encoding") == ""
	if !bulk {
		p.forwardRaw(w, r, body)
		return
	}
	p.st.Bulk.Add(1)
	if p.roll(f.Request429) {
		p.st.Whole429.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprintf(w, `{"error":{"root_cause":[{"type":"es_rejected_execution_exception","reason":%q}],"type":"es_rejected_execution_exception","reason":%q},"status":429}`, rejectedReason, rejectedReason)
		return
	}
	if p.roll(f.ResetBefore) {
		p.st.ResetsBefore.Add(1)
		reset(w)
		return
	}
	items, err := splitBulk(body)
	if err != nil {
		// Not ours to judge: let the store answer what it answers.
		p.forwardRaw(w, r, body)
		return
	}
	p.st.Items.Add(int64(len(items)))
	refused := make([]bool, len(items))
	var fwd bytes.Buffer
	nRefused := 0
	for i, it := range items {
		if p.roll(f.Item429) {
			refused[i] = true
			nRefused++
			continue
		}
		fwd.Write(it.raw)
	}
	p.st.Item429.Add(int64(nRefused))
	var storeItems []json.RawMessage
	storeErrors := false
	hdr := http.Header{}
	if nRefused < len(items) {
		resp, err := p.send(r, fwd.Bytes())
		if err != nil {
			p.st.StoreErrors.Add(1)
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			p.st.StoreErrors.Add(1)
			copyHeader(w.Header(), resp.Header)
			w.WriteHeader(resp.StatusCode)
			_, _ = w.Write(raw)
			return
		}
		var br struct {
			Errors bool              `json:"errors"`
			Items  []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(raw, &br); err != nil || len(br.Items) != len(items)-nRefused {
			// The store answered something else than one item per
			// forwarded document: pass it on untouched. The agent will
			// send it all again.
			p.st.StoreErrors.Add(1)
			p.noteLost(items, refused)
			copyHeader(w.Header(), resp.Header)
			w.WriteHeader(resp.StatusCode)
			_, _ = w.Write(raw)
			return
		}
		p.st.Forwarded.Add(1)
		storeItems, storeErrors = br.Items, br.Errors
		hdr = resp.Header
	}
	if p.roll(f.ResetAfter) {
		p.st.ResetsAfter.Add(1)
		p.noteLost(items, refused)
		reset(w)
		return
	}
	// The agent went away (a cut in the outage, a kill) while the store
	// worked: the answer is lost whatever is written below.
	defer func() {
		if r.Context().Err() != nil || p.current().Down {
			p.noteLost(items, refused)
		}
	}()
	var out bytes.Buffer
	fmt.Fprintf(&out, `{"took":1,"errors":%v,"items":[`, storeErrors || nRefused > 0)
	j := 0
	for i, it := range items {
		if i > 0 {
			out.WriteByte(',')
		}
		if refused[i] {
			fmt.Fprintf(&out, `{%q:{"_index":%q,"_id":%q,"status":429,"error":{"type":"es_rejected_execution_exception","reason":%q}}}`,
				it.op, it.index, it.id, rejectedReason)
			continue
		}
		out.Write(storeItems[j])
		j++
	}
	out.WriteString("]}")
	copyHeader(w.Header(), hdr)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out.Bytes())
}

// noteLost records the syslog keys of the items the store took in a
// request whose answer is lost.
func (p *faultProxy) noteLost(items []bulkItem, refused []bool) {
	var keys []string
	for i, it := range items {
		if refused[i] {
			continue
		}
		doc := it.raw[bytes.IndexByte(it.raw, '\n')+1:]
		var d struct {
			Log    string `json:"log"`
			Syslog struct {
				App   string `json:"app_name"`
				Proc  string `json:"proc_id"`
				MsgID string `json:"msg_id"`
			} `json:"syslog"`
		}
		if json.Unmarshal(doc, &d) != nil {
			continue
		}
		switch {
		case d.Syslog.App == appTCP || d.Syslog.App == appFlood || d.Syslog.App == appSlow:
			keys = append(keys, d.Syslog.App+"/"+d.Syslog.Proc+"#"+strings.TrimPrefix(d.Syslog.MsgID, "m"))
		case strings.Contains(d.Log, "htcp seq="):
			var n int
			if _, err := fmt.Sscanf(d.Log[strings.Index(d.Log, "htcp seq="):], "htcp seq=%d", &n); err == nil {
				keys = append(keys, fmt.Sprintf("htcp#%d", n))
			}
		}
	}
	p.mu.Lock()
	for _, k := range keys {
		p.lostAnswers[k] = true
	}
	p.mu.Unlock()
}

func (p *faultProxy) answerLost(key string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lostAnswers[key]
}

// bulkItem is one action of a bulk body with its document line.
type bulkItem struct {
	op, index, id string
	raw           []byte // action and document lines, newlines included
}

// splitBulk cuts an NDJSON bulk body into its items. Only create and index
// (each followed by a document) are expected from the agent.
func splitBulk(body []byte) ([]bulkItem, error) {
	var items []bulkItem
	for len(body) > 0 {
		i := bytes.IndexByte(body, '\n')
		if i < 0 {
			return nil, fmt.Errorf("bulk action without newline")
		}
		action := body[:i]
		j := bytes.IndexByte(body[i+1:], '\n')
		if j < 0 {
			return nil, fmt.Errorf("bulk document without newline")
		}
		end := i + 1 + j + 1
		var a map[string]struct {
			Index string `json:"_index"`
			ID    string `json:"_id"`
		}
		if err := json.Unmarshal(action, &a); err != nil || len(a) != 1 {
			return nil, fmt.Errorf("bulk action %.100q: %v", action, err)
		}
		it := bulkItem{raw: body[:end]}
		for op, m := range a {
			if op != "create" && op != "index" {
				return nil, fmt.Errorf("bulk action %q not supported by the proxy", op)
			}
			it.op, it.index, it.id = op, m.Index, m.ID
		}
		items = append(items, it)
		body = body[end:]
	}
	return items, nil
}

// send forwards a request body to the store with the agent's headers
// (VL-* tell the store which fields are message, time and stream), minus
// the credentials the proxy checked.
func (p *faultProxy) send(r *http.Request, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, p.store+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build store request: %w", err)
	}
	copyHeader(req.Header, r.Header)
	req.Header.Del("Authorization")
	// Our transport asks for gzip itself and unpacks the answer, so the
	// proxy can read the items; an Accept-Encoding copied from the agent
	// would hand it compressed bytes instead.
	req.Header.Del("Accept-Encoding")
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("store request: %w", err)
	}
	return resp, nil
}

func (p *faultProxy) forwardRaw(w http.ResponseWriter, r *http.Request, body []byte) {
	resp, err := p.send(r, body)
	if err != nil {
		p.st.StoreErrors.Add(1)
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	copyHeader(w.Header(), resp.Header)
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// copyHeader copies headers, except those that describe a body the proxy
// may have rewritten or that the transport already unpacked.
func copyHeader(dst, src http.Header) {
	for k, vs := range src {
		switch http.CanonicalHeaderKey(k) {
		case "Content-Length", "Content-Encoding", "Transfer-Encoding":
			continue
		}
		dst[k] = append([]string(nil), vs...)
	}
}
