package elasticsearch

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/internal/agenttest"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

// authHeader delivers one batch with cfg and returns the Authorization
// header the server saw.
func authHeader(t *testing.T, f *faultyBulk, cfg config.Output) string {
	t.Helper()
	o := startOutput(t, cfg)
	src := testSource("api-1")
	acks := newAckRecorder()
	write(t, o.NewWriter(), newTestBatch(src, acks, 0, 0, 2, nil))
	acks.waitAcked(t, 0)
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.headers[len(f.headers)-1].Get("Authorization")
}

func TestSecretsFromFiles(t *testing.T) {
	f := newFaultyBulk(t)
	cfg := testConfig(f.srv.URL)
	cfg.Username, cfg.PasswordFile = "elastic", writeFile(t, "pw", "s3cret\n")
	require.Equal(t, "Basic "+base64.StdEncoding.EncodeToString([]byte("elastic:s3cret")), authHeader(t, f, cfg))

	cfg = testConfig(f.srv.URL)
	cfg.APIKeyFile = writeFile(t, "key", "a2V5OnNlY3JldA==\n")
	require.Equal(t, "APIKey a2V5OnNlY3JldA==", authHeader(t, f, cfg))

	cfg = testConfig(f.srv.URL)
	cfg.BearerTokenFile = writeFile(t, "token", "tok-123")
	require.Equal(t, "Bearer tok-123", authHeader(t, f, cfg))

	cfg = testConfig(f.srv.URL)
	cfg.BearerToken = "tok-456"
	require.Equal(t, "Bearer tok-456", authHeader(t, f, cfg))
}

const secret = "hunter2-do-not-print"

func TestBadSecretConfigErrorsHideSecrets(t *testing.T) {
	f := func(mod func(c *config.Output), want string) {
		t.Helper()
		cfg := testConfig("http://127.0.0.1:9")
		mod(&cfg)
		_, err := New(cfg, nil)
		require.ErrorContains(t, err, want)
		require.NotContains(t, err.Error(), secret)
	}
	f(func(c *config.Output) { c.Password, c.PasswordFile = secret, writeFile(t, "pw", secret) }, "password_file: set only one")
	f(func(c *config.Output) { c.APIKeyFile = filepath.Join(t.TempDir(), "missing") }, "api_key_file: open")
	f(func(c *config.Output) { c.BearerTokenFile = writeFile(t, "empty", "\n") }, "is empty")
	f(func(c *config.Output) { c.TLS.CAFile = writeFile(t, "ca", secret) }, "no PEM certificate")
	f(func(c *config.Output) {
		c.Password = secret
		c.TLS.CertFile, c.TLS.KeyFile = writeFile(t, "c", "x"), writeFile(t, "k", secret)
	}, "tls.cert_file/key_file")
}

// While the server refuses the credentials, the output logs why, and
// never the credentials.
func TestCredentialsNeverLogged(t *testing.T) {
	for _, mod := range []func(c *config.Output){
		func(c *config.Output) { c.Username, c.Password = "elastic", secret },
		func(c *config.Output) { c.APIKey = secret },
		func(c *config.Output) { c.BearerTokenFile = writeFile(t, "token", secret) },
	} {
		f := newFaultyBulk(t)
		f.onRequest = func(call int, _ []bulkOp) *fault {
			if call <= 3 {
				return &fault{status: http.StatusUnauthorized, body: `{"error":{"type":"security_exception","reason":"unable to authenticate"},"status":401}`}
			}
			return nil
		}
		cfg := testConfig(f.srv.URL)
		mod(&cfg)
		var logs agenttest.Buffer
		o, err := New(cfg, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
		require.NoError(t, err)
		runOutput(t, o)
		src := testSource("api-1")
		acks := newAckRecorder()
		write(t, o.NewWriter(), newTestBatch(src, acks, 0, 0, 2, nil))
		acks.waitAcked(t, 0)
		require.Contains(t, logs.String(), "unable to authenticate")
		require.NotContains(t, logs.String(), secret)
		require.NotContains(t, logs.String(), base64.StdEncoding.EncodeToString([]byte("elastic:"+secret)))
	}
}

// selfSigned makes a certificate for 127.0.0.1 and returns it as PEM, its
// key as PEM, and the parsed form.
func selfSigned(t *testing.T, cn string, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte, cert tls.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{usage},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	cert, err = tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)
	return certPEM, keyPEM, cert
}

// HTTPS with the server's CA from ca_file and a client certificate the
// server requires.
func TestTLSWithCAAndClientCert(t *testing.T) {
	srvPEM, _, srvCert := selfSigned(t, "es", x509.ExtKeyUsageServerAuth)
	cliPEM, cliKey, _ := selfSigned(t, "sluice", x509.ExtKeyUsageClientAuth)
	clients := x509.NewCertPool()
	require.True(t, clients.AppendCertsFromPEM(cliPEM))
	f := newUnstartedFaultyBulk(t)
	f.srv.TLS = &tls.Config{Certificates: []tls.Certificate{srvCert}, ClientCAs: clients, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}
	f.srv.StartTLS()

	cfg := testConfig(f.srv.URL)
	cfg.TLS = config.ClientTLS{
		CAFile:   writeFile(t, "ca.pem", string(srvPEM)),
		CertFile: writeFile(t, "client.pem", string(cliPEM)),
		KeyFile:  writeFile(t, "client.key", string(cliKey)),
	}
	o := startOutput(t, cfg)
	src := testSource("api-1")
	acks := newAckRecorder()
	write(t, o.NewWriter(), newTestBatch(src, acks, 0, 0, 5, nil))
	acks.waitAcked(t, 0)
	requireStoredOnce(t, f, src, 5, nil)
}

// insecure_skip_verify accepts a certificate nobody vouches for; without
// it (and without ca_file) the same server is refused.
func TestTLSInsecureSkipVerify(t *testing.T) {
	f := newUnstartedFaultyBulk(t)
	f.srv.StartTLS()
	cfg := testConfig(f.srv.URL)
	cfg.TLS.InsecureSkipVerify = true
	o := startOutput(t, cfg)
	src := testSource("api-1")
	acks := newAckRecorder()
	write(t, o.NewWriter(), newTestBatch(src, acks, 0, 0, 3, nil))
	acks.waitAcked(t, 0)
	requireStoredOnce(t, f, src, 3, nil)

	strict, err := New(testConfig(f.srv.URL), nil)
	require.NoError(t, err)
	_, _, err = newSender(strict).send(t.Context(), []byte("{}\n"))
	require.ErrorContains(t, err, "certificate")
}
