package config

import (
	"net/url"
	"os"
	"strings"
)

// Secrets returns the credentials the config holds or points at (inline
// values, the contents of secret files, URL passwords, credential
// headers), for masking in messages (internal/redact). A file that cannot
// be read adds nothing: the start reports it.
func (c *Config) Secrets() []string {
	var out []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	file := func(path string) {
		if path == "" {
			return
		}
		if b, err := os.ReadFile(path); err == nil && len(b) <= 64<<10 {
			add(string(b))
		}
	}
	file(c.HTTP.TokenFile)
	for _, o := range c.Outputs {
		add(o.Password)
		add(o.APIKey)
		add(o.BearerToken)
		file(o.PasswordFile)
		file(o.APIKeyFile)
		file(o.BearerTokenFile)
		add(o.SASL.Password)
		file(o.SASL.PasswordFile)
		for _, u := range o.URLs {
			if p, err := url.Parse(u); err == nil && p.User != nil {
				pw, _ := p.User.Password()
				add(pw)
			}
		}
		for k, v := range o.Headers {
			k = strings.ToLower(k)
			if strings.Contains(k, "auth") || strings.Contains(k, "key") || strings.Contains(k, "token") {
				add(v)
			}
		}
	}
	return out
}
