// Package redact is the one place where secrets are taken out of messages:
// URL userinfo, passwords, API keys and tokens never reach a log line, an
// error printed by -validate or the logs CLI (DESIGN.md, Security).
//
// URL hides the userinfo of a value known to be a URL; Text finds URLs and
// credential-looking pairs in free text; a Redactor also hides the exact
// secrets it was given (a configured password), and Writer applies it to
// everything written to a stream such as stderr.
package redact

import (
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Mask stands in for what was taken out.
const Mask = "REDACTED"

// URL returns s, a URL, without its userinfo and with the values of
// credential query parameters masked. It never fails: a value that does
// not parse loses everything between "://" and its last "@", so a
// password holding '/', '#' or a space is still hidden.
func URL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok { // not a URL after all ("http//u:p@h"): nothing before an "@"
		if at := strings.LastIndexByte(s, '@'); at >= 0 {
			s = Mask + s[at:]
		}
		return Text(s)
	}
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		rest = Mask + rest[at:]
	}
	return Text(scheme + "://" + rest)
}

var (
	// userinfo: a scheme, then anything up to the last "@" before a space
	// or quote. Over-redacts a path holding "@"; that is the safe side.
	userinfo = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.\-]*://)[^\s"'<>` + "`" + `]*@`)
	// The same inside quotes, where a space does not end the URL.
	dquoted = regexp.MustCompile(`(?i)("[a-z][a-z0-9+.\-]*://)[^"\n]*@`)
	squoted = regexp.MustCompile(`(?i)('[a-z][a-z0-9+.\-]*://)[^'\n]*@`)
	// pairs: password=…, "api_key": "…", token: …, and the like.
	pairs = regexp.MustCompile(`(?i)\b((?:pass(?:word|wd)?|api[_-]?key|secret|token|access[_-]?token|auth)` +
		`\\?["']?\s*[:=]\s*\\?["']?)([^\s"'\\&,;}]+)`)
	// an Authorization header's value, or a credential after its scheme
	// word as a header spells it (Basic, Bearer, ApiKey).
	authz = regexp.MustCompile(`((?i:authorization)["']?\s*[:=]\s*["']?(?:(?i:basic|bearer|apikey)\s+)?|\b(?:Basic|Bearer|ApiKey)\s+)` +
		`([A-Za-z0-9+/=._~\-]{8,})`)
)

// Text returns s with URL userinfo, credential pairs (password=…,
// "api_key":"…") and Authorization values masked.
func Text(s string) string {
	if strings.Contains(s, "://") {
		s = dquoted.ReplaceAllString(s, "${1}"+Mask+"@")
		s = squoted.ReplaceAllString(s, "${1}"+Mask+"@")
		s = userinfo.ReplaceAllString(s, "${1}"+Mask+"@")
	}
	s = pairs.ReplaceAllString(s, "${1}"+Mask)
	return authz.ReplaceAllString(s, "${1}"+Mask)
}

// Redactor masks, on top of Text, the exact secrets it is given. Safe for
// concurrent use. Secrets are only added: after a config reload the old
// password may still be in an error in flight.
type Redactor struct {
	mu      sync.RWMutex
	secrets []string // each in every form it may be printed in
}

// minSecret is the shortest secret looked for verbatim: masking every "ab"
// would garble messages and hide little.
const minSecret = 4

// Add adds secrets to mask verbatim.
func (r *Redactor) Add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	forms := r.secrets
	for _, s := range secrets {
		if len(s) < minSecret {
			continue
		}
		if slices.Contains(forms, s) {
			continue
		}
		forms = append(forms, s)
		// As JSON (slog's JSON handler) and Go (%q, text handler) quote it.
		if j, err := json.Marshal(s); err == nil {
			forms = append(forms, string(j[1:len(j)-1]))
		}
		q := strconv.Quote(s)
		forms = append(forms, q[1:len(q)-1], url.QueryEscape(s), url.PathEscape(s))
	}
	// Longest first, so a secret that holds another is masked whole.
	slices.SortFunc(forms, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	r.secrets = slices.Compact(forms)
}

// Text masks the Redactor's secrets and then what the package Text finds.
// A nil Redactor only does the latter.
func (r *Redactor) Text(s string) string {
	if r != nil {
		r.mu.RLock()
		for _, sec := range r.secrets {
			s = strings.ReplaceAll(s, sec, Mask)
		}
		r.mu.RUnlock()
	}
	return Text(s)
}
