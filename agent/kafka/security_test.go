package kafka

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/internal/testcert"
)

// Each SASL mechanism, against a broker that requires it: the records
// arrive; with a wrong password nothing is acknowledged, and neither
// password appears in the log.
func TestSASLMechanisms(t *testing.T) {
	for _, mech := range []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} {
		t.Run(mech, func(t *testing.T) {
			const pass = "the-right-pw"
			c := cluster(t, kfake.EnableSASL(), kfake.Superuser(mech, "sluice", pass))
			brokers := c.ListenAddrs()
			pwFile := filepath.Join(t.TempDir(), "pw")
			require.NoError(t, os.WriteFile(pwFile, []byte(pass+"\n"), 0o600))
			o := start(t, outputConfig(t, brokers, func(oc *config.Output) {
				oc.SASL = config.KafkaSASL{Mechanism: mech, Username: "sluice", PasswordFile: pwFile}
			}))
			var a acks
			write(t, o.NewWriter(), batch(source("api-1", "uid-1"), &a, 0, 0, 10, 40))
			waitFor(t, "the batch acknowledged", func() bool { return a.n.Load() == 1 })
			var m kgo.Opt
			switch mech {
			case "PLAIN":
				m = kgo.SASL(plain.Auth{User: "sluice", Pass: pass}.AsMechanism())
			case "SCRAM-SHA-256":
				m = kgo.SASL(scram.Auth{User: "sluice", Pass: pass}.AsSha256Mechanism())
			default:
				m = kgo.SASL(scram.Auth{User: "sluice", Pass: pass}.AsSha512Mechanism())
			}
			require.Len(t, consume(t, brokers, 10, []string{"logs"}, m), 10)

			logs := &syncBuffer{b: &bytes.Buffer{}}
			bad := outputConfig(t, brokers, func(oc *config.Output) {
				oc.SASL = config.KafkaSASL{Mechanism: mech, Username: "sluice", Password: "a-wrong-pw"}
			})
			ob, err := New(bad, slog.New(slog.NewTextHandler(logs, nil)))
			require.NoError(t, err)
			runOutput(t, ob)
			var b acks
			write(t, ob.NewWriter(), batch(source("api-1", "uid-1"), &b, 0, 100, 5, 40))
			// The producer keeps trying the brokers (the password may be
			// fixed in the Secret): wait for the broker to have refused two
			// authentications.
			var tries atomic.Int64
			c.ControlKey(int16(kmsg.SASLAuthenticate), func(kmsg.Request) (kmsg.Response, error, bool) {
				c.KeepControl()
				tries.Add(1)
				return nil, nil, false
			})
			waitFor(t, "two refused authentications", func() bool { return tries.Load() >= 2 })
			require.Zero(t, b.n.Load(), "acknowledged without the broker")
			require.EqualValues(t, 5, ob.Stats().Pending)
			require.NotContains(t, string(logs.bytes()), "a-wrong-pw")
			require.NotContains(t, string(logs.bytes()), pass)
		})
	}
}

// TLS to a broker that serves it, with the CA from ca_file.
func TestTLS(t *testing.T) {
	certFile, keyFile := testcert.Write(t, t.TempDir())
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	require.NoError(t, err)
	c := cluster(t, kfake.TLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}))
	brokers := c.ListenAddrs()
	o := start(t, outputConfig(t, brokers, func(oc *config.Output) {
		oc.TLS = config.ClientTLS{Enabled: true, CAFile: certFile}
	}))
	var a acks
	write(t, o.NewWriter(), batch(source("api-1", "uid-1"), &a, 0, 0, 10, 40))
	waitFor(t, "the batch acknowledged", func() bool { return a.n.Load() == 1 })
	pem, err := os.ReadFile(certFile)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pem))
	require.Len(t, consume(t, brokers, 10, []string{"logs"}, kgo.DialTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})), 10)
}
