package config

import "time"

// Spool keeps a syslog input's messages on disk, in
// data_dir/spool/<input>, until the outputs have acknowledged them
// (agent/spool): an outage longer than memory_limit can buffer loses
// nothing. nil = no spool.
type Spool struct {
	MaxBytes     ByteSize `yaml:"max_bytes"`     // on disk, at most
	Sync         string   `yaml:"sync"`          // interval | batch: when segments are fsynced
	SyncInterval Duration `yaml:"sync_interval"` // with sync: interval
	WhenFull     string   `yaml:"when_full"`     // block | drop_newest | drop_oldest
}

func defaultSpool(s *Spool) {
	if s == nil {
		return
	}
	if s.MaxBytes == 0 {
		s.MaxBytes = 1 << 30
	}
	if s.Sync == "" {
		s.Sync = "interval"
	}
	if s.SyncInterval == 0 {
		s.SyncInterval = Duration(time.Second)
	}
	if s.WhenFull == "" {
		s.WhenFull = "block"
	}
}

func validateSpool(p *problems, s *Spool, input func(string) []any) {
	if s == nil {
		return
	}
	at := func(k string) []any { return append(input("spool"), k) }
	if s.MaxBytes < 1<<20 {
		p.add("must be at least 1MiB, got %d bytes", at("max_bytes"), int64(s.MaxBytes))
	}
	switch s.Sync {
	case "interval", "batch":
	default:
		p.add("must be interval or batch, got %q", at("sync"), s.Sync)
	}
	if s.SyncInterval.Duration() < time.Millisecond {
		p.add("must be at least 1ms", at("sync_interval"))
	}
	switch s.WhenFull {
	case "block", "drop_newest", "drop_oldest":
	default:
		p.add("must be block, drop_newest or drop_oldest, got %q", at("when_full"), s.WhenFull)
	}
}
