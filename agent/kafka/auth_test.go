package kafka

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicelog/sluice/agent/config"
)

// A wrong SCRAM password: the refusal is logged once at error with the
// mechanism, username and broker, counted on every try
// (sluice_output_kafka_auth_refusals_total) and in Stats().AuthError
// (/api/v1/status), nothing is acknowledged, and the password is in none
// of it. Both ways a broker refuses: kfake closes the connection, a Kafka
// broker answers SASL_AUTHENTICATION_FAILED first (KIP-152), which the
// control function plays.
func TestSASLRefusalLoggedOnce(t *testing.T) {
	const wrong = "a-wrong-pw-4711"
	for _, how := range []string{"closes", "answers"} {
		t.Run(how, func(t *testing.T) {
			c := cluster(t, kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "sluice", "the-right-pw"))
			broker := c.ListenAddrs()[0]
			if how == "answers" {
				c.ControlKey(int16(kmsg.SASLAuthenticate), func(kr kmsg.Request) (kmsg.Response, error, bool) {
					c.KeepControl()
					req := kr.(*kmsg.SASLAuthenticateRequest)
					if !bytes.HasPrefix(req.SASLAuthBytes, []byte("c=")) {
						return nil, nil, false // client-first: kfake answers
					}
					resp := req.ResponseKind().(*kmsg.SASLAuthenticateResponse)
					resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
					msg := "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256"
					resp.ErrorMessage = &msg
					return resp, nil, true
				})
			}
			logs := &syncBuffer{b: &bytes.Buffer{}}
			o, err := New(outputConfig(t, c.ListenAddrs(), func(oc *config.Output) {
				oc.SASL = config.KafkaSASL{Mechanism: "SCRAM-SHA-256", Username: "sluice", Password: wrong}
			}), slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
			require.NoError(t, err)
			reg := prometheus.NewRegistry()
			reg.MustRegister(o.Collector())
			runOutput(t, o)
			var a acks
			write(t, o.NewWriter(), batch(source("api-1", "uid-1"), &a, 0, 0, 5, 40))

			// franz-go keeps trying: at once when the broker closed the
			// connection, after a backoff of its own (seconds) when it
			// answered.
			want := int64(3)
			if how == "answers" {
				want = 1
			}
			waitFor(t, "refused authentications", func() bool { return o.Stats().AuthRefusals >= want })
			st := o.Stats()
			require.Zero(t, a.n.Load(), "acknowledged without the broker")
			require.EqualValues(t, 5, st.Pending)
			require.Contains(t, st.AuthError, `SCRAM-SHA-256 authentication as "sluice" refused by `+broker)

			out := string(logs.bytes())
			require.Equal(t, 1, strings.Count(out, "refused SASL authentication"), "logged once:\n%s", out)
			line := lineWith(out, "refused SASL authentication")
			require.Contains(t, line, "level=ERROR")
			require.Contains(t, line, "mechanism=SCRAM-SHA-256")
			require.Contains(t, line, "broker="+broker)
			require.NotContains(t, out, "unable to initialize sasl", "franz-go's own line on every try")

			metrics := gather(t, reg)
			require.Contains(t, metrics, `sluice_output_kafka_auth_refusals_total{output="kafka"} `)
			for what, s := range map[string]string{"log": out, "metrics": metrics, "status": st.AuthError} {
				require.NotContains(t, s, wrong, "the password in the %s", what)
			}
		})
	}
}

// With the right password no refusal is counted or shown.
func TestSASLAcceptedShowsNoAuthError(t *testing.T) {
	c := cluster(t, kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "sluice", "pw"))
	o := start(t, outputConfig(t, c.ListenAddrs(), func(oc *config.Output) {
		oc.SASL = config.KafkaSASL{Mechanism: "SCRAM-SHA-512", Username: "sluice", Password: "pw"}
	}))
	var a acks
	write(t, o.NewWriter(), batch(source("api-1", "uid-1"), &a, 0, 0, 5, 40))
	waitFor(t, "the batch acknowledged", func() bool { return a.n.Load() == 1 })
	require.Zero(t, o.Stats().AuthRefusals)
	require.Empty(t, o.Stats().AuthError)
}

func lineWith(out, s string) string {
	for l := range strings.SplitSeq(out, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

// gather is reg's exposition in the text format.
func gather(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		require.NoError(t, enc.Encode(mf))
	}
	return b.String()
}
