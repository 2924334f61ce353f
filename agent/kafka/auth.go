package kafka

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// auth watches the brokers' answers to the output's SASL authentication.
// A refusal (a wrong username or password, a mechanism the broker does
// not take) leaves records pending with no progress, and franz-go keeps
// trying quietly: so the first refusal after a success (or after the
// start) is logged once at error with the mechanism, the username and
// the broker, every refusal is counted, and the last one is in Stats
// until a connection authenticates again. The password is in none of it.
type auth struct {
	o         *Output
	mechanism string
	username  string
	refusals  atomic.Int64

	mu    sync.Mutex
	state string // the last refusal in words; "" when the last connection authenticated
}

// refused notes a refusal by broker.
func (a *auth) refused(broker string, err error) {
	a.refusals.Add(1)
	state := fmt.Sprintf("%s authentication as %q refused by %s: %v", a.mechanism, a.username, broker, err)
	a.mu.Lock()
	first := a.state == ""
	a.state = state
	a.mu.Unlock()
	if first {
		a.o.log.Error("kafka broker refused SASL authentication; nothing is delivered until sasl.username and the password are right (retrying)",
			"mechanism", a.mechanism, "username", a.username, "broker", broker, "error", err)
	}
}

// authenticated notes a connection that authenticated.
func (a *auth) authenticated(broker string) {
	a.mu.Lock()
	was := a.state != ""
	a.state = ""
	a.mu.Unlock()
	if was {
		a.o.log.Info("kafka broker accepted SASL authentication again", "mechanism", a.mechanism, "broker", broker)
	}
}

// error is the last refusal, "" if the last connection authenticated.
func (a *auth) error() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state
}

// saslRefusal says whether a connection's error is the broker's answer
// to SASL: a Kafka broker answers a failed SaslAuthenticate with
// SASL_AUTHENTICATION_FAILED before it closes the connection.
func saslRefusal(err error) bool {
	return errors.Is(err, kerr.SaslAuthenticationFailed) || errors.Is(err, kerr.UnsupportedSaslMechanism) ||
		errors.Is(err, kerr.IllegalSaslState)
}

func brokerAddr(m kgo.BrokerMetadata) string {
	return net.JoinHostPort(m.Host, strconv.Itoa(int(m.Port)))
}
