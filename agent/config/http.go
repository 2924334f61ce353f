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
		checkAddr(p, h.Listen, "0.0.0.0:2020, or empty for no HTTP API", []any{"http", "listen"})
	}
	if h.TokenFile == "" {
		warnOpenAPI(p, h)
		return
	}
	if h.Listen == "" {
		p.add("needs http.listen: the HTTP API is off", []any{"http", "token_file"})
	}
	if p.offline {
		return
	}
	if _, err := readFile(h.TokenFile); err != nil {
		p.add("%v", []any{"http", "token_file"}, err)
	} else if _, err := ReadToken(h.TokenFile); err != nil {
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

// warnOpenAPI warns of an HTTP API on an address other pods can reach
// with no token: the tap shows every log of the node.
func warnOpenAPI(p *problems, h HTTP) {
	host, _, err := net.SplitHostPort(h.Listen)
	if err != nil || host == "localhost" {
		return
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return
	}
	if h.AllowUnauthenticatedAPI {
		p.warn("%s is reachable from other hosts and allow_unauthenticated_api is on with no http.token_file: anyone who can reach the port can read every log of the node through /api/v1", []any{"http", "listen"}, h.Listen)
		return
	}
	p.warn("%s is reachable from other hosts and there is no http.token_file: /api/v1 (the logs CLI's tail and status) answers 403; /metrics and the probes stay open", []any{"http", "listen"}, h.Listen)
}
