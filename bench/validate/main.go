// Command validate times `sluice -validate` on the shipped configs
// (deploy/base, deploy/examples): the median and the slowest of -runs runs,
// in wall time and in CPU time (user + system, which a busy machine
// disturbs less), next to `sluice -version` as the cost of starting the
// process at all. The files the configs name (mounted Secrets) are stood
// in for by real ones in a temporary folder.
//
//	go run ./bench/validate -agent bin/sluice [-runs 21]
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
	runs := flag.Int("runs", 21, "runs per config")
	flag.Parse()
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
	fmt.Printf("%-42s %14s %14s %14s\n", "config", "wall median", "wall max", "CPU median")
	report("sluice -version", *runs, *agent, "-version")
	for _, cfg := range []string{"deploy/base/sluice.yaml", "deploy/examples/es-apikey-tls/sluice.yaml", "deploy/examples/local.yaml", "deploy/examples/local-es.yaml"} {
		raw, err := os.ReadFile(cfg)
		check(err)
		text := string(raw)
		for from, to := range stand {
			text = strings.ReplaceAll(text, from, to)
		}
		path := write(tmp, strings.ReplaceAll(filepath.Dir(cfg), "/", "_")+".yaml", text)
		if out, err := exec.Command(*agent, "-config", path, "-validate").CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n%s", cfg, err, out)
			os.Exit(1)
		}
		report(strings.TrimSuffix(strings.TrimPrefix(cfg, "deploy/"), ".yaml"), *runs, *agent, "-config", path, "-validate")
	}
}

// report runs the command runs times and prints its medians.
func report(name string, runs int, bin string, args ...string) {
	var wall, cpu []time.Duration
	for range runs {
		cmd := exec.Command(bin, args...)
		start := time.Now()
		check(cmd.Run())
		wall = append(wall, time.Since(start))
		cpu = append(cpu, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
	}
	slices.Sort(wall)
	slices.Sort(cpu)
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }
	fmt.Printf("%-42s %14s %14s %14s\n", name, ms(wall[runs/2]), ms(wall[runs-1]), ms(cpu[runs/2]))
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
