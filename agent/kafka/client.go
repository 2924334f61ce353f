package kafka

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/sluicelog/sluice/agent/config"
)

// clientOpts are the franz-go options of an output's producer, from a
// checked config: what is the same for the main and the solo producer.
// It reads the TLS files and the password file now, so New fails on them.
func clientOpts(cfg config.Output, logger *slog.Logger) ([]kgo.Opt, error) {
	k := cfg.Kafka
	opts := []kgo.Opt{
		kgo.SeedBrokers(k.Brokers...),
		kgo.ClientID("sluice"),
		kgo.ProducerBatchMaxBytes(int32(k.MaxMessageBytes)),
		kgo.ProducerBatchCompression(codec(k.Compression)),
		kgo.WithLogger(kgoLogger{logger}),
		// A topic that does not exist (yet) fails its records after a
		// few metadata refreshes; the output retries them with backoff.
		kgo.UnknownTopicRetries(3),
	}
	switch k.Acks {
	case "leader":
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()))
	case "none":
		opts = append(opts, kgo.RequiredAcks(kgo.NoAck()))
	default:
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
	}
	if k.Idempotent == nil || !*k.Idempotent {
		opts = append(opts, kgo.DisableIdempotentWrite())
	}
	mech, err := saslMechanism(k.SASL)
	if err != nil {
		return nil, err
	}
	if mech != nil {
		opts = append(opts, kgo.SASL(mech))
	}
	if cfg.TLS.Enabled {
		tc, err := cfg.TLS.Load()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	return opts, nil
}

func codec(name string) kgo.CompressionCodec {
	switch name {
	case "gzip":
		return kgo.GzipCompression()
	case "lz4":
		return kgo.Lz4Compression()
	case "zstd":
		return kgo.ZstdCompression()
	case "none":
		return kgo.NoCompression()
	}
	return kgo.SnappyCompression()
}

// saslMechanism returns the configured mechanism, nil for none. Errors
// name the file, never its content.
func saslMechanism(s config.KafkaSASL) (sasl.Mechanism, error) {
	if s.Mechanism == "" {
		return nil, nil
	}
	pass := s.Password
	if s.PasswordFile != "" {
		b, err := os.ReadFile(s.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("sasl.password_file: %w", err)
		}
		pass = strings.TrimRight(string(b), "\r\n")
	}
	switch s.Mechanism {
	case "PLAIN":
		return plain.Auth{User: s.Username, Pass: pass}.AsMechanism(), nil
	case "SCRAM-SHA-256":
		return scram.Auth{User: s.Username, Pass: pass}.AsSha256Mechanism(), nil
	case "SCRAM-SHA-512":
		return scram.Auth{User: s.Username, Pass: pass}.AsSha512Mechanism(), nil
	}
	return nil, fmt.Errorf("sasl.mechanism: unknown %q", s.Mechanism)
}

// kgoLogger passes franz-go's warnings and errors to slog. Its messages
// name brokers and Kafka errors, never the SASL password.
type kgoLogger struct{ l *slog.Logger }

func (kgoLogger) Level() kgo.LogLevel { return kgo.LogLevelWarn }

func (g kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	for _, kv := range keyvals {
		if err, ok := kv.(error); ok && saslRefusal(err) {
			return // on every try; the output's auth logs it once
		}
	}
	lv := slog.LevelWarn
	if level == kgo.LogLevelError {
		lv = slog.LevelError
	}
	g.l.Log(context.Background(), lv, "kafka client: "+msg, keyvals...)
}
