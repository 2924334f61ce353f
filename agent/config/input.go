package config

import (
	"runtime"
	"time"
)

// Input is one source of records.
type Input struct {
	Name string `yaml:"name"`
	Type string `yaml:"type"`

	// container_logs
	Paths        []string `yaml:"paths" for:"container_logs"`
	Exclude      []string `yaml:"exclude" for:"container_logs"`
	StartAt      string   `yaml:"start_at" for:"container_logs"` // head | end
	PollInterval Duration `yaml:"poll_interval" for:"container_logs"`
	MaxLineBytes ByteSize `yaml:"max_line_bytes" for:"container_logs"`
	BatchBytes   ByteSize `yaml:"batch_bytes" for:"container_logs syslog"`
	// CloseInactive closes a file that has not grown for this long; it is
	// reopened when it changes. MaxOpenFiles bounds the handles held.
	CloseInactive Duration `yaml:"close_inactive" for:"container_logs"`
	MaxOpenFiles  int      `yaml:"max_open_files" for:"container_logs"`
	// Watch turns inotify on for prompt pickup; polling always runs too.
	Watch *bool `yaml:"watch" for:"container_logs"`
	// Multiline joins stack traces per stream; nil = off (multiline.go).
	Multiline *Multiline `yaml:"multiline" for:"container_logs"`
	// FairShare admits batches per namespace, pod or container by weight
	// when the outputs are the bottleneck; nil = off (fairshare.go).
	FairShare *FairShare `yaml:"fair_share" for:"container_logs"`
	// AllowedRoots are the folders a matched file (a link's target) must
	// resolve under, besides the globs' own folders; nil = the defaults
	// (files.go). AgentFiles, set by Parse and Load, are never read.
	AllowedRoots []string `yaml:"allowed_roots" for:"container_logs"`
	AgentFiles   []string `yaml:"-"`

	// syslog
	TCP             string   `yaml:"tcp" for:"syslog"`    // listen address, "" = no TCP listener
	UDP             string   `yaml:"udp" for:"syslog"`    // listen address, "" = no UDP listener
	Format          string   `yaml:"format" for:"syslog"` // auto | rfc3164 | rfc5424
	MaxMessageBytes ByteSize `yaml:"max_message_bytes" for:"syslog"`
	MaxConnections  int      `yaml:"max_connections" for:"syslog"`
	IdleTimeout     Duration `yaml:"idle_timeout" for:"syslog"` // 0 = none
	UDPReaders      int      `yaml:"udp_readers" for:"syslog"`
	TLS             TLS      `yaml:"tls" for:"syslog"`
	// HandshakeTimeout bounds a TLS handshake, apart from idle_timeout.
	HandshakeTimeout Duration `yaml:"handshake_timeout" for:"syslog"`
	// UDPReceiveBuffer is each UDP socket's SO_RCVBUF (the kernel caps
	// it at net.core.rmem_max).
	UDPReceiveBuffer ByteSize `yaml:"udp_receive_buffer" for:"syslog"`
	// Spool keeps the messages on disk until delivered (spool.go).
	Spool *Spool `yaml:"spool" for:"syslog"`
}

// TLS turns TLS on for a TCP listener when both files are set.
type TLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

func defaultInput(in *Input) {
	if in.StartAt == "" {
		in.StartAt = "end"
	}
	if in.PollInterval == 0 {
		in.PollInterval = Duration(250 * time.Millisecond)
	}
	if in.MaxLineBytes == 0 {
		in.MaxLineBytes = 1 << 20
	}
	if in.BatchBytes == 0 {
		in.BatchBytes = 64 << 10
	}
	if in.CloseInactive == 0 {
		in.CloseInactive = Duration(5 * time.Minute)
	}
	if in.MaxOpenFiles == 0 {
		in.MaxOpenFiles = 1024
	}
	if in.Watch == nil {
		t := true
		in.Watch = &t
	}
	defaultAllowedRoots(in)
	defaultMultiline(in.Multiline)
	defaultFairShare(in.FairShare)
	if in.Type == "syslog" {
		if in.Format == "" {
			in.Format = "auto"
		}
		if in.MaxMessageBytes == 0 {
			in.MaxMessageBytes = 64 << 10
		}
		if in.MaxConnections == 0 {
			in.MaxConnections = 1024
		}
		if in.IdleTimeout == 0 {
			in.IdleTimeout = Duration(10 * time.Minute)
		}
		if in.UDPReaders == 0 {
			in.UDPReaders = min(runtime.GOMAXPROCS(0), 8)
		}
		if in.HandshakeTimeout == 0 {
			in.HandshakeTimeout = Duration(10 * time.Second)
		}
		if in.UDPReceiveBuffer == 0 {
			in.UDPReceiveBuffer = 8 << 20
		}
		defaultSpool(in.Spool)
	}
}

// validateInputs checks each input by its type.
func validateInputs(p *problems, c *Config) {
	names := map[string]bool{}
	for i, in := range c.Inputs {
		at := func(k string) []any { return []any{"inputs", i, k} }
		if in.Name == "" {
			p.add("must not be empty (checkpoints are keyed by it)", at("name"))
		} else if names[in.Name] {
			p.add("duplicate input name %q", at("name"), in.Name)
		}
		names[in.Name] = true
		validateMultiline(p, in, at)
		validateFairShare(p, in, at)
		validateAllowedRoots(p, in, at)
		switch in.Type {
		case "container_logs":
			if len(in.Paths) == 0 {
				p.add("at least one glob is needed", at("paths"))
			}
			checkGlobs(p, in.Paths, at, "paths")
			checkGlobs(p, in.Exclude, at, "exclude")
			if in.StartAt != "head" && in.StartAt != "end" {
				p.add("must be head or end, got %q", at("start_at"), in.StartAt)
			}
			if in.MaxLineBytes < 1024 {
				p.add("must be at least 1KiB", at("max_line_bytes"))
			}
			if in.PollInterval.Duration() < time.Millisecond {
				p.add("must be at least 1ms", at("poll_interval"))
			}
			if in.CloseInactive.Duration() < time.Millisecond {
				p.add("must be at least 1ms", at("close_inactive"))
			}
			if in.MaxOpenFiles < 1 {
				p.add("must be at least 1, got %d", at("max_open_files"), in.MaxOpenFiles)
			}
		case "syslog":
			validateSyslog(p, in, at)
		case "":
			p.add("must be set (container_logs or syslog)", at("type"))
		default:
			p.add("unknown input type %q (want container_logs or syslog)", at("type"), in.Type)
		}
	}
}
