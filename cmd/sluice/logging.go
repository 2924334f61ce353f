package main

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"os"
	"strings"
)

// logConfigError logs a config that does not load as one line: the
// message, the file, and each problem as an element of "problems", so a
// JSON log pipeline sees one event, not a paragraph split over lines.
func logConfigError(logger *slog.Logger, msg, path string, err error) {
	logger.Error(msg, "config", path, "problems", problems(err))
}

// problems splits a config error into its problems, one per line of its
// message (errors.Join and the config loader put one per line).
func problems(err error) []string {
	var out []string
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// fileHash is the first 16 hex digits of the SHA-256 of the file at path,
// for sluice_config_info; "" when it cannot be read (the load that follows
// says why).
func fileHash(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}
