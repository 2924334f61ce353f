package redact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const pw = "S3cr3t-pw"

func TestURL(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		require.Equal(t, want, URL(in))
	}
	f("https://elastic:"+pw+"@es:9200/x?y=1", "https://REDACTED@es:9200/x?y=1")
	f("htps://elastic:"+pw+"@es:9200", "htps://REDACTED@es:9200")
	f("HTTPS://u:"+pw+"@es", "HTTPS://REDACTED@es")
	f("http://"+pw+"@es", "http://REDACTED@es")
	f("http://u:pa/ss#x @y@es:9200", "http://REDACTED@es:9200")
	f(`x "http://u:a b@es" y`, `x "http://REDACTED@es" y`)
	f("http://u:%zz@es", "http://REDACTED@es")
	f("http://es:9200/?api_key="+pw+"&x=1", "http://es:9200/?api_key=REDACTED&x=1")
	f("http://es:9200", "http://es:9200")
	f("es:9200", "es:9200")
	f("http//u:"+pw+"@es:9200", "REDACTED@es:9200")
}

func TestText(t *testing.T) {
	f := func(in string) {
		t.Helper()
		got := Text(in)
		require.NotContains(t, got, pw, "from %q", in)
		require.Contains(t, got, Mask)
	}
	f(`Get "https://elastic:` + pw + `@es:9200/_bulk": dial tcp: refused`)
	f(`parse "htp://u:` + pw + `@h": first path segment`)
	f(`{"err":"Get \"http://u:` + pw + `@h/\": x"}`)
	f(`url=http://u:` + pw + `@h`)
	f(`password=` + pw)
	f(`"password": "` + pw + `"`)
	f(`{\"api_key\":\"` + pw + `\"}`)
	f(`token: ` + pw)
	f(`Authorization: Basic ZWxhc3RpYzpTM2NyM3QtcHc=`)
	f(`authorization="ApiKey ` + pw + `"`)
	f(`sent Bearer ` + pw + `x`)
	// Ordinary text stays as it is.
	for _, s := range []string{
		"http.token_file (line 3): token file /run/t is empty",
		"outputs[0].password_file: set only one of password and password_file",
		"GET http://127.0.0.1:9200/_bulk: 429 Too Many Requests",
		"missing authentication credentials for REST request",
	} {
		require.Equal(t, s, Text(s))
	}
}

func TestRedactorSecrets(t *testing.T) {
	var r Redactor
	secret := `p"a\ss wörd`
	r.Add(secret, "ab")
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(NewWriter(&buf, &r), nil))
	log.Error("bulk failed", "err", fmt.Errorf("server said %s", secret))
	slog.New(slog.NewTextHandler(NewWriter(&buf, &r), nil)).Info("x", "v", secret)
	fmt.Fprintf(NewWriter(&buf, &r), "raw %s %q ab\n", secret, secret)
	out := buf.String()
	require.NotContains(t, out, secret)
	js, _ := json.Marshal(secret)
	require.NotContains(t, out, string(js[1:len(js)-1]))
	require.NotContains(t, out, `s wörd`)
	require.Contains(t, out, "ab", "too short to mask")
	r.Add("p\"a")
	require.Equal(t, Mask, r.Text(secret), "the longer secret is masked whole")
	var nilR *Redactor
	require.Equal(t, "http://REDACTED@h", nilR.Text("http://u:p@h"))
}

func FuzzURL(f *testing.F) {
	for _, s := range []string{pw, "p@ss", "a/b#c", "x y", "%zz", "::", "@"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, secret string) {
		if len(secret) < 3 || strings.ContainsAny(secret, "\"'\\\n") || strconv.Quote(secret) != `"`+secret+`"` {
			return // %q would change it, or it ends the quotes
		}
		got := URL("https://elastic:" + secret + "@es.example:9200/path")
		require.Equal(t, "https://REDACTED@es.example:9200/path", got)
		require.NotContains(t, Text(fmt.Sprintf("Get %q: refused", "https://elastic:"+secret+"@es:9200")), "elastic:"+secret+"@")
	})
}
