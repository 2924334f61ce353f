// Package kubetest starts a real kube-apiserver backed by a real etcd for
// tests of client-go based code: what `make kube-tools` builds into
// bin/kube from the test/kube tools module (README). No controller-manager,
// scheduler or kubelet runs: tests create pods already bound to a node
// (spec.nodeName) and write their status themselves, the way a kubelet
// would.
package kubetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

const (
	// A server that has used this much CPU time and is not ready is
	// stuck. The bound is CPU, not wall time: on a busy machine a start
	// takes longer (kube-apiserver took 13-27 s at load 25, against the
	// 60 s it had) but needs the same work (about 3 s of CPU).
	etcdReadyCPU      = 30 * time.Second
	apiserverReadyCPU = 60 * time.Second
	// readyWallLimit bounds a start that gets hardly any CPU at all.
	readyWallLimit = 5 * time.Minute
	// stopGrace is how long a server gets to exit after SIGTERM before it
	// is killed; kube-apiserver needs about 2 s (see its shutdown flags).
	stopGrace = 10 * time.Second
	// requestTimeout bounds every API call that a helper makes.
	requestTimeout = 30 * time.Second
)

// TB is the part of testing.TB the cluster needs, so that a program (the
// bench harness) can run a cluster too: *testing.T satisfies it.
type TB interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
	TempDir() string
	Cleanup(func())
	Failed() bool
	Context() context.Context
}

// Cluster is a running etcd and kube-apiserver.
type Cluster struct {
	// Host is the apiserver's URL, https://127.0.0.1:PORT. It stays the
	// same across RestartAPIServer.
	Host string
	// CAFile holds the apiserver's self-signed serving certificate chain
	// (cert-dir/apiserver.crt) and CA the same bytes.
	CAFile string
	CA     []byte
	// AdminToken is a bearer token of a user in group system:masters, which
	// RBAC always allows everything.
	AdminToken string

	dir     string
	bins    binaries
	etcdURL string
	port    int
	etcd    *process
	api     *process
	extra   []string // more kube-apiserver flags (WithAPIServerFlags)
}

// Option changes how Start runs the servers.
type Option func(*Cluster)

// WithAPIServerFlags passes more flags to kube-apiserver, e.g.
// --kubelet-certificate-authority for a test kubelet endpoint.
func WithAPIServerFlags(flags ...string) Option {
	return func(c *Cluster) { c.extra = append(c.extra, flags...) }
}

type binaries struct{ apiserver, etcd string }

// BinDir is where the servers are looked for: $KUBE_BIN_DIR, else bin/kube
// at the module root (where `make kube-tools` builds them).
func BinDir() string {
	if d := os.Getenv("KUBE_BIN_DIR"); d != "" {
		return d
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "bin", "kube")
}

func findBinaries() (binaries, error) {
	dir := BinDir()
	b := binaries{
		apiserver: filepath.Join(dir, "kube-apiserver"),
		etcd:      filepath.Join(dir, "etcd"),
	}
	for _, p := range []string{b.apiserver, b.etcd} {
		if _, err := os.Stat(p); err != nil {
			return b, fmt.Errorf("%s not found: run `make kube-tools` (it builds bin/kube/kube-apiserver and bin/kube/etcd from test/kube) or set KUBE_BIN_DIR: %w", filepath.Base(p), err)
		}
	}
	return b, nil
}

// Start runs etcd and kube-apiserver on free loopback ports with their data
// in a temporary directory, waits until the apiserver is ready, and stops
// both when the test ends. It fails the test (never skips it) when the
// binaries are missing.
func Start(t TB, opts ...Option) *Cluster {
	t.Helper()
	bins, err := findBinaries()
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{dir: t.TempDir(), bins: bins, AdminToken: randomHex(t, 16)}
	for _, o := range opts {
		o(c)
	}
	// Registered after t.TempDir, so it runs before the directory goes.
	t.Cleanup(func() { c.stopAll(t) })

	begin := time.Now()
	c.startEtcd(t)
	etcdReady := time.Since(begin)
	if err := c.writeAuthFiles(); err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	c.port = freePort(t)
	c.Host = "https://127.0.0.1:" + strconv.Itoa(c.port)
	c.CAFile = filepath.Join(c.dir, "certs", "apiserver.crt")
	apiBegin := time.Now()
	c.StartAPIServer(t)
	t.Logf("kubetest: etcd ready in %v, kube-apiserver ready in %v and %s (%s)",
		etcdReady.Round(time.Millisecond), time.Since(apiBegin).Round(time.Millisecond), c.api.cpuString(), c.Host)
	return c
}

func (c *Cluster) startEtcd(t TB) {
	t.Helper()
	client, peer := freePort(t), freePort(t)
	c.etcdURL = "http://127.0.0.1:" + strconv.Itoa(client)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peer)
	p, err := startProcess(c.bins.etcd, filepath.Join(c.dir, "etcd.log"),
		"--name=kubetest",
		"--data-dir="+filepath.Join(c.dir, "etcd"),
		"--listen-client-urls="+c.etcdURL,
		"--advertise-client-urls="+c.etcdURL,
		"--listen-peer-urls="+peerURL,
		"--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=kubetest="+peerURL,
		"--initial-cluster-state=new",
		// A test's data dies with the test: fsync only costs time.
		"--unsafe-no-fsync",
		"--log-level=warn",
	)
	if err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	c.etcd = p
	ctx, cancel := context.WithTimeout(context.Background(), readyWallLimit)
	defer cancel()
	err = waitReady(ctx, p, etcdReadyCPU, func() error {
		return httpOK(ctx, http.DefaultClient, c.etcdURL+"/health", "", `"health":"true"`)
	})
	if err != nil {
		t.Fatalf("kubetest: etcd did not become ready on %s: %v\n%s", c.etcdURL, err, p.logTail())
	}
}

// writeAuthFiles writes the service-account key pair (so TokenRequest can
// sign tokens and the apiserver can check them) and the static token file
// that makes AdminToken a system:masters user.
func (c *Cluster) writeAuthFiles() error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("generate service-account key: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return fmt.Errorf("marshal service-account public key: %w", err)
	}
	files := map[string][]byte{
		"sa.key":     pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
		"sa.pub":     pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}),
		"tokens.csv": fmt.Appendf(nil, "%s,kubetest-admin,kubetest-admin,\"system:masters\"\n", c.AdminToken),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(c.dir, name), data, 0o600); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

// StartAPIServer starts kube-apiserver on the cluster's port against its
// etcd and waits until /readyz passes. Start calls it; call it yourself
// only after StopAPIServer.
func (c *Cluster) StartAPIServer(t TB) {
	t.Helper()
	if c.api != nil {
		t.Fatal("kubetest: kube-apiserver is already running")
	}
	args := []string{
		"--etcd-servers=" + c.etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(c.port),
		// No tls-cert-file: the apiserver makes a self-signed serving
		// certificate here on first start and reuses it after a restart,
		// so CAFile stays valid.
		"--cert-dir=" + filepath.Join(c.dir, "certs"),
		"--service-account-key-file=" + filepath.Join(c.dir, "sa.pub"),
		"--service-account-signing-key-file=" + filepath.Join(c.dir, "sa.key"),
		"--service-account-issuer=https://kubernetes.default.svc",
		"--token-auth-file=" + filepath.Join(c.dir, "tokens.csv"),
		"--authorization-mode=RBAC",
		"--service-cluster-ip-range=10.96.0.0/24",
		// Without a controller-manager nobody creates the "default"
		// ServiceAccount this plugin would insist on for every pod.
		"--disable-admission-plugins=ServiceAccount",
		// Nothing maintains the kubernetes Service endpoints for a single
		// test server, and a lease-based reconciler would fight restarts.
		"--endpoint-reconciler-type=none",
		"--profiling=false",
		// On SIGTERM, drain ordinary requests and then give the HTTP
		// server 2 s to close, rather than the default request timeout
		// (60 s) that open watches would hold it for.
		"--shutdown-send-retry-after=true",
	}
	// On a loaded machine kube-apiserver may give up on its own start
	// (a post-start hook times out, and it exits): it gets a second try.
	for try := 1; ; try++ {
		p, err := c.startAPIServer(args)
		if err == nil {
			c.api = p
			return
		}
		if try == 1 && p != nil && p.exited() && p.logHas(`PostStartHook "`) && p.logHas(`" failed: `) {
			t.Logf("kubetest: kube-apiserver gave up during its start; starting it again: %v", err)
			continue
		}
		msg := ""
		if p != nil {
			msg = p.logTail()
		}
		t.Fatalf("kubetest: kube-apiserver did not become ready on %s: %v\n%s", c.Host, err, msg)
	}
}

// startAPIServer runs kube-apiserver with args and waits until it is
// ready; the process is returned with any error.
func (c *Cluster) startAPIServer(args []string) (*process, error) {
	p, err := startProcess(c.bins.apiserver, filepath.Join(c.dir, "kube-apiserver.log"), append(args, c.extra...)...)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), readyWallLimit)
	defer cancel()
	err = waitReady(ctx, p, apiserverReadyCPU, func() error {
		// The serving certificate appears before the port opens; it is
		// read again each time in case a read caught it half written.
		// Asked anonymously /readyz is forbidden until RBAC's bootstrap
		// roles exist, so the admin token asks.
		ca, err := os.ReadFile(c.CAFile)
		if err != nil {
			return fmt.Errorf("read serving certificate: %w", err)
		}
		c.CA = ca
		hc, err := c.httpClient()
		if err != nil {
			return err
		}
		defer hc.CloseIdleConnections()
		return httpOK(ctx, hc, c.Host+"/readyz", c.AdminToken, "ok")
	})
	if err != nil {
		_ = p.stop()
	}
	return p, err
}

// StopAPIServer stops kube-apiserver (SIGTERM, then SIGKILL after a grace
// period); etcd and its data stay.
func (c *Cluster) StopAPIServer(t TB) {
	t.Helper()
	if c.api == nil {
		t.Fatal("kubetest: kube-apiserver is not running")
	}
	if err := c.api.stop(); err != nil {
		t.Logf("kubetest: stop kube-apiserver: %v", err)
	}
	c.api = nil
}

// RestartAPIServer stops kube-apiserver and starts it again on the same
// port with the same etcd, and waits until it is ready: clients configured
// before keep working, and their watches have to reconnect.
func (c *Cluster) RestartAPIServer(t TB) {
	t.Helper()
	c.StopAPIServer(t)
	begin := time.Now()
	c.StartAPIServer(t)
	t.Logf("kubetest: kube-apiserver ready again in %v and %s", time.Since(begin).Round(time.Millisecond), c.api.cpuString())
}

func (c *Cluster) stopAll(t TB) {
	for _, p := range []*process{c.api, c.etcd} {
		if p == nil {
			continue
		}
		if err := p.stop(); err != nil {
			t.Logf("kubetest: %v", err)
		}
		if t.Failed() {
			// The logs go with the temporary directory; keep their ends.
			t.Logf("kubetest: end of %s:\n%s", filepath.Base(p.logPath), p.logTail())
		}
	}
	c.api, c.etcd = nil, nil
}

// AdminConfig returns a client config for the system:masters admin user.
func (c *Cluster) AdminConfig() *rest.Config { return c.TokenConfig(c.AdminToken) }

// TokenConfig returns a client config that authenticates with a bearer
// token, e.g. one from ServiceAccountToken.
func (c *Cluster) TokenConfig(token string) *rest.Config {
	return &rest.Config{
		Host:            c.Host,
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAData: bytes.Clone(c.CA)},
		// client-go's default 5 QPS would make tests wait on the client
		// rather than on the server.
		QPS:   200,
		Burst: 400,
	}
}

// Client returns an admin clientset.
func (c *Cluster) Client() kubernetes.Interface {
	cs, err := kubernetes.NewForConfig(c.AdminConfig())
	if err != nil {
		// Only a malformed config fails here, and AdminConfig is not one.
		panic(fmt.Sprintf("kubetest: admin clientset: %v", err))
	}
	return cs
}

// WriteKubeconfig writes a kubeconfig file that reaches the cluster with a
// bearer token into a temporary directory of t, and returns its path.
func (c *Cluster) WriteKubeconfig(t TB, token string) string {
	t.Helper()
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: kubetest
  cluster:
    server: %q
    certificate-authority-data: %q
users:
- name: kubetest
  user:
    token: %q
contexts:
- name: kubetest
  context:
    cluster: kubetest
    user: kubetest
current-context: kubetest
`, c.Host, base64.StdEncoding.EncodeToString(c.CA), token)
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatalf("kubetest: write kubeconfig: %v", err)
	}
	return path
}

func (c *Cluster) httpClient() (*http.Client, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(c.CA) {
		return nil, fmt.Errorf("no certificate in %s", c.CAFile)
	}
	return &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}, nil
}

// process is a server started by the harness, its output in a log file.
type process struct {
	cmd     *exec.Cmd
	logPath string
	log     *os.File
	done    chan struct{} // closed when the process has exited
	err     error         // the exit status, set before done closes
}

func startProcess(bin, logPath string, args ...string) (*process, error) {
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	fmt.Fprintf(log, "--- %s %s\n", time.Now().Format(time.RFC3339Nano), strings.Join(append([]string{bin}, args...), " "))
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", filepath.Base(bin), err)
	}
	p := &process{cmd: cmd, logPath: logPath, log: log, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		log.Close()
		close(p.done)
	}()
	return p, nil
}

// cpuTime is the CPU time the process has used so far.
func (p *process) cpuTime() (time.Duration, error) { return cpuTime(p.cmd.Process.Pid) }

// cpuString says how much CPU time the process has used, for the log.
func (p *process) cpuString() string {
	cpu, err := p.cpuTime()
	if err != nil {
		return "(CPU time unknown)"
	}
	return cpu.Round(10*time.Millisecond).String() + " of CPU"
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and kills the process if it has not exited after
// stopGrace.
func (p *process) stop() error {
	if p.exited() {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(stopGrace):
	}
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
		return fmt.Errorf("%s did not exit %v after SIGTERM; killed", filepath.Base(p.cmd.Path), stopGrace)
	case <-time.After(stopGrace):
		return fmt.Errorf("%s did not exit even after SIGKILL", filepath.Base(p.cmd.Path))
	}
}

// logHas reports whether the end of the process's log holds s.
func (p *process) logHas(s string) bool { return strings.Contains(p.logTail(), s) }

// logTail returns the end of the process's log, enough to show why it did
// not start.
func (p *process) logTail() string {
	const limit = 16 << 10
	f, err := os.Open(p.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > limit {
		_, _ = f.Seek(fi.Size()-limit, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return fmt.Sprintf("--- %s (last %d bytes):\n%s", p.logPath, len(b), b)
}

// waitReady polls check until it passes, the process exits, it has used
// cpuLimit of CPU time, or ctx ends.
func waitReady(ctx context.Context, p *process, cpuLimit time.Duration, check func() error) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		err := check()
		if err == nil {
			return nil
		}
		if p.exited() {
			return fmt.Errorf("exited: %v (last check: %w)", p.err, err)
		}
		if cpu, cerr := p.cpuTime(); cerr == nil && cpu > cpuLimit {
			return fmt.Errorf("not ready after %v of CPU time (last check: %w)", cpu, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last check: %w)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// httpOK GETs url and wants status 200 with want in the body.
func httpOK(ctx context.Context, hc *http.Client, url, token, want string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("request %s: %w", url, err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(want)) {
		return fmt.Errorf("GET %s: status %d: %s", url, resp.StatusCode, bytes.TrimSpace(body))
	}
	return nil
}

func freePort(t TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func randomHex(t TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
