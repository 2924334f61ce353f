package config

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// The checks here are what the start would find out about the world the
// config points at: addresses, globs and the files it names, each read and
// parsed as its user will read it, so -validate finds them first.

// checkAddr checks a listen address: host:port with a port number from 0
// to 65535 (0 picks a free port).
func checkAddr(p *problems, addr, example string, at []any) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		p.add("must be host:port (e.g. %s), got %q", at, example, addr)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		p.add("the port must be a number from 0 to 65535, got %q", at, port)
	}
	if strings.ContainsAny(host, " /") {
		p.add("the host must be an IP address or a name, got %q", at, host)
	}
}

// checkGlobs checks file globs as the tailer matches them.
func checkGlobs(p *problems, globs []string, at func(string) []any, key string) {
	for j, g := range globs {
		if _, err := filepath.Match(g, ""); err != nil {
			p.add("bad glob %q: unclosed [ or a trailing \\ (write [[] for a literal [)", append(at(key), j), g)
		}
	}
}

// readFile reads a file the config names, with a message that says what
// is wrong in the operator's terms.
func readFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("file %s does not exist", path)
	case errors.Is(err, fs.ErrPermission):
		return nil, fmt.Errorf("file %s cannot be read: permission denied", path)
	case err != nil:
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("file %s cannot be read: %v", path, err)
	}
	return b, nil
}

// readRef reads a file a key names; ok is false when the key is unset or
// the file cannot be read (then reported).
func readRef(p *problems, path string, at []any) (b []byte, ok bool) {
	if path == "" || p.offline {
		return nil, false
	}
	b, err := readFile(path)
	if err != nil {
		p.add("%v", at, err)
		return nil, false
	}
	return b, true
}

// checkSecretFile checks a file holding a password, key or token: it must
// be readable and not empty. Its content is never quoted.
func checkSecretFile(p *problems, path string, at []any) {
	b, ok := readRef(p, path, at)
	if !ok {
		return
	}
	if strings.TrimSpace(string(b)) == "" {
		p.add("file %s is empty", at, path)
	}
}

// checkKeyPair checks a TLS certificate and its key.
func checkKeyPair(p *problems, cert, key string, at []any) {
	if cert == "" || key == "" || p.offline {
		return
	}
	for _, f := range []string{cert, key} {
		if _, err := readFile(f); err != nil {
			p.add("%v", at, err)
			return
		}
	}
	if _, err := tls.LoadX509KeyPair(cert, key); err != nil {
		// Its errors never quote the key.
		p.add("not a PEM certificate and matching key: %v", at, err)
	}
}

// checkClientTLS checks an output's tls block: cert_file and key_file
// together, and each file readable and what it should be.
func checkClientTLS(p *problems, t ClientTLS, at func(k ...any) []any) {
	if (t.CertFile == "") != (t.KeyFile == "") {
		p.add("cert_file and key_file go together", at("tls", "cert_file"))
	}
	checkCAFile(p, t.CAFile, at("tls", "ca_file"))
	checkKeyPair(p, t.CertFile, t.KeyFile, at("tls", "cert_file"))
}

// checkCAFile checks a file of PEM CA certificates.
func checkCAFile(p *problems, path string, at []any) {
	b, ok := readRef(p, path, at)
	if !ok {
		return
	}
	if !x509.NewCertPool().AppendCertsFromPEM(b) {
		p.add("file %s holds no PEM certificate", at, path)
	}
}

// checkTemplateFile checks an index template file: a JSON object with
// index_patterns (a composable index template).
func checkTemplateFile(p *problems, path string, at []any) {
	b, ok := readRef(p, path, at)
	if !ok {
		return
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		p.add("file %s is not a JSON object: %v", at, path, err)
		return
	}
	if _, ok := obj["index_patterns"]; !ok {
		p.add("file %s has no index_patterns: not a composable index template", at, path)
	}
}

// checkDataDir checks that the agent can keep its checkpoints and lock in
// dir: a writable folder, or one it can create (checkpoint.Open makes it
// with its parents).
func checkDataDir(p *problems, dir string) {
	at := []any{"data_dir"}
	for d := dir; d != ""; {
		fi, err := os.Stat(d)
		switch {
		case errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENOTDIR):
			// ENOTDIR: a file stands on the way, found further up.
			parent := filepath.Dir(d)
			if parent == d {
				return
			}
			d = parent
			continue
		case err != nil:
			p.add("folder %s cannot be checked: %v", at, dir, unwrapPath(err))
		case !fi.IsDir() && d == dir:
			p.add("%s is not a folder", at, dir)
		case !fi.IsDir():
			p.add("folder %s cannot be created: %s is not a folder", at, dir, d)
		default:
			if err := unix.Access(d, unix.W_OK|unix.X_OK); err != nil && d == dir {
				p.add("folder %s is not writable (%v): the agent keeps its checkpoints there", at, dir, err)
			} else if err != nil {
				p.add("folder %s does not exist and cannot be created: %s is not writable (%v)", at, dir, d, err)
			}
		}
		return
	}
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
