package config

import (
	"fmt"
	"net"
	"os"
	"strings"
)

// HTTP is the agent's HTTP API.
type HTTP struct {
	// Listen is the address of /metrics, the probes and /api/v1; "" turns
	// the HTTP API off.
	Listen string `yaml:"listen"`
	// TokenFile holds a bearer token (surrounding whitespace ignored) that
	// /api/v1/* then requires; /metrics and the probes stay open. "" = no
	// token. Mount it from a Kubernetes Secret; SIGHUP reads it again.
	TokenFile string `yaml:"token_file"`
	// AllowUnauthenticatedAPI serves /api/v1/* without a token on a
	// listen address that is not loopback. Off, such an address without
	// token_file answers 403 there: the tap shows every log of the node
	// to every pod that can reach the port.
	AllowUnauthenticatedAPI bool `yaml:"allow_unauthenticated_api"`
}

func validateHTTP(p *problems, h HTTP) {
	if h.Listen != "" {
		if _, port, err := net.SplitHostPort(h.Listen); err != nil || port == "" {
			p.add("must be host:port (e.g. 0.0.0.0:2020) or empty, got %q", []any{"http", "listen"}, h.Listen)
		}
	}
	if h.TokenFile == "" {
		return
	}
	if h.Listen == "" {
		p.add("needs http.listen: the HTTP API is off", []any{"http", "token_file"})
	}
	if _, err := ReadToken(h.TokenFile); err != nil {
		p.add("%v", []any{"http", "token_file"}, err)
	}
}

// ReadToken reads a bearer token file: its content without surrounding
// whitespace, which must not be empty.
func ReadToken(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read token: %w", err)
	}
	tok := strings.TrimSpace(string(raw))
	if tok == "" {
		return "", fmt.Errorf("token file %s is empty", path)
	}
	if strings.ContainsAny(tok, " \t\r\n") {
		return "", fmt.Errorf("token file %s holds more than one word", path)
	}
	return tok, nil
}
