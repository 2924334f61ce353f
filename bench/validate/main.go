// Command validate times `sluice -validate` on the shipped configs
// (deploy/base, deploy/examples) and on a big generated one (24 inputs,
// 60 transforms, 12 outputs): the median and the slowest of -runs runs,
// in wall time and in CPU time (user + system, which a busy machine
// disturbs less), next to `sluice -version` as the cost of starting the
// process at all. The files the configs name (mounted Secrets) are stood
// in for by real ones in a temporary folder. With -before, a second
// binary (an older build) runs each time next to -agent, in turn, so
// both see the same load.
//
//	go run ./bench/validate -agent bin/sluice [-before old/sluice] [-runs 21]
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

func main() {
	agent := flag.String("agent", "bin/sluice", "the sluice binary")
	before := flag.String("before", "", "an older sluice binary, timed in the same run")
	runs := flag.Int("runs", 21, "runs per config")
	flag.Parse()
	bins := []string{*agent}
	if *before != "" {
		bins = []string{*before, *agent}
	}
	tmp, err := os.MkdirTemp("", "validate-bench")
	check(err)
	defer os.RemoveAll(tmp)
	stand := map[string]string{
		"/etc/sluice-tap/token":   write(tmp, "token", "tap-token\n"),
		"/etc/sluice-es/password": write(tmp, "password", "es-password\n"),
		"/etc/sluice-es/api-key":  write(tmp, "api-key", "c2x1aWNlOnRlc3Q=\n"),
		"/etc/sluice-es/ca.crt":   write(tmp, "ca.crt", selfSigned()),
	}
	os.Setenv("NODE_NAME", "bench-node")
	os.Setenv("ES_URL", "http://127.0.0.1:9200")
	os.Setenv("SLUICE_DEMO", filepath.Join(tmp, "demo"))
	fmt.Printf("%-42s %-8s %14s %14s %14s\n", "config", "binary", "wall median", "wall max", "CPU median")
	report("sluice -version", *runs, bins, "-version")
	configs := map[string]string{}
	names := []string{}
	for _, cfg := range []string{"deploy/base/sluice.yaml", "deploy/examples/es-apikey-tls/sluice.yaml", "deploy/examples/local.yaml", "deploy/examples/local-es.yaml"} {
		raw, err := os.ReadFile(cfg)
		check(err)
		text := string(raw)
		for from, to := range stand {
			text = strings.ReplaceAll(text, from, to)
		}
		text = strings.ReplaceAll(text, "/var/lib/sluice", filepath.Join(tmp, "data"))
		name := strings.TrimSuffix(strings.TrimPrefix(cfg, "deploy/"), ".yaml")
		configs[name] = write(tmp, strings.ReplaceAll(filepath.Dir(cfg), "/", "_")+".yaml", text)
		names = append(names, name)
	}
	configs["big (generated)"] = write(tmp, "big.yaml", bigConfig(tmp))
	names = append(names, "big (generated)")
	for _, name := range names {
		for _, bin := range bins {
			if out, err := exec.Command(bin, "-config", configs[name], "-validate").CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "%s with %s: %v\n%s", name, bin, err, out)
				os.Exit(1)
			}
		}
		report(name, *runs, bins, "-config", configs[name], "-validate")
	}
}

// bigConfig is a config far larger than a DaemonSet's: 24 inputs, 60
// transforms (regexes, filters, field edits), 12 outputs with index
// templates and matches. It names no file, so any build can read it.
func bigConfig(tmp string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "node_name: bench\ndata_dir: %s/big-data\nmemory_limit: 4GiB\nworkers: 2\nhttp: { listen: \"127.0.0.1:0\" }\ninputs:\n", tmp)
	for i := range 22 {
		fmt.Fprintf(&b, "  - name: logs%d\n    type: container_logs\n    paths: [/var/log/containers/*_ns%d-*_*.log, /var/log/pods/ns%d_*/*/*.log]\n"+
			"    exclude: [\"*_kube-system_*\", \"*.gz\"]\n    multiline: { mode: java }\n", i, i, i)
	}
	b.WriteString("  - { name: syslog, type: syslog, tcp: 127.0.0.1:0, udp: 127.0.0.1:0 }\n  - { name: syslog2, type: syslog, tcp: 127.0.0.1:0 }\n")
	b.WriteString("kubernetes: { enabled: true, labels: true }\ntransforms:\n  - { type: json, field: log, time: { field: ts, layout: rfc3339 } }\n  - { type: logfmt }\n")
	for i := range 6 {
		fmt.Fprintf(&b, "  - { type: regex, pattern: '^(?P<ts%d>\\S+) (?P<level>[A-Z]+) (?P<code>\\d+) (?P<msg>.*)$', types: { code: int } }\n", i)
	}
	b.WriteString("  - { type: regex, preset: nginx }\n  - { type: level }\n")
	for i := range 14 {
		fmt.Fprintf(&b, "  - { type: drop, name: drop%d, field: msg, pattern: '(?i)health(z|check)%d', match: { inputs: [logs%d] } }\n", i, i, i)
		fmt.Fprintf(&b, "  - { type: keep, name: keep%d, namespaces: [\"team-%d-*\", prod], labels: \"app in (api,web),tier!=batch\" }\n", i, i)
		fmt.Fprintf(&b, "  - { type: throttle, name: throttle%d, rate: %d, key: namespace }\n", i, 100+i)
		fmt.Fprintf(&b, "  - type: fields\n    name: fields%d\n    add: { cluster: prod-%d }\n    rename: { msg: message }\n"+
			"    redact: [{ field: message, pattern: 'password=\\S+', replacement: 'password=***' }]\n    dedot: [kubernetes.labels]\n", i, i)
	}
	b.WriteString("outputs:\n")
	for i := range 12 {
		fmt.Fprintf(&b, "  - name: es%d\n    type: elasticsearch\n    urls: [http://127.0.0.1:%d]\n    index: \"logs-%d-{kubernetes.namespace_name}-%%Y.%%m.%%d\"\n"+
			"    match: { namespaces: [\"team-%d-*\"] }\n    bulk: { max_bytes: 1MiB, workers: 1 }\n", i, 9200+i, i, i)
	}
	return b.String()
}

// report runs the command runs times with each binary, in turn, and
// prints each binary's medians.
func report(name string, runs int, bins []string, args ...string) {
	wall := make([][]time.Duration, len(bins))
	cpu := make([][]time.Duration, len(bins))
	for range runs {
		for i, bin := range bins {
			cmd := exec.Command(bin, args...)
			start := time.Now()
			check(cmd.Run())
			wall[i] = append(wall[i], time.Since(start))
			cpu[i] = append(cpu[i], cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
		}
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }
	for i := range bins {
		slices.Sort(wall[i])
		slices.Sort(cpu[i])
		label := "after"
		if len(bins) > 1 && i == 0 {
			label = "before"
		}
		fmt.Printf("%-42s %-8s %14s %14s %14s\n", name, label, ms(wall[i][runs/2]), ms(wall[i][runs-1]), ms(cpu[i][runs/2]))
	}
}

func write(dir, name, content string) string {
	p := filepath.Join(dir, name)
	check(os.WriteFile(p, []byte(content), 0o600))
	return p
}

// selfSigned returns a PEM certificate, the stand-in for a private CA.
func selfSigned() string {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	check(err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench CA"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	check(err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
