package config

func validateSyslog(p *problems, in Input, at func(string) []any) {
	if in.TCP == "" && in.UDP == "" {
		p.add("a syslog input needs tcp, udp or both", at("tcp"))
	}
	for _, k := range []struct{ key, addr string }{{"tcp", in.TCP}, {"udp", in.UDP}} {
		if k.addr != "" {
			checkAddr(p, k.addr, "0.0.0.0:5140", at(k.key))
		}
	}
	switch in.Format {
	case "auto", "rfc3164", "rfc5424":
	default:
		p.add("must be auto, rfc3164 or rfc5424, got %q", at("format"), in.Format)
	}
	// RFC 5424 6.1: receivers must take 480 bytes; 16MiB is far past any sender.
	if in.MaxMessageBytes < 480 || in.MaxMessageBytes > 16<<20 {
		p.add("must be between 480B and 16MiB, got %d bytes", at("max_message_bytes"), int64(in.MaxMessageBytes))
	}
	if in.MaxConnections < 1 {
		p.add("must be at least 1, got %d", at("max_connections"), in.MaxConnections)
	}
	if in.IdleTimeout < 0 {
		p.add("must not be negative", at("idle_timeout"))
	}
	if in.UDPReaders < 1 || in.UDPReaders > 256 {
		p.add("must be between 1 and 256, got %d", at("udp_readers"), in.UDPReaders)
	}
	if (in.TLS.CertFile == "") != (in.TLS.KeyFile == "") {
		p.add("cert_file and key_file must be set together", at("tls"))
	}
	if in.TLS.CertFile != "" && in.TCP == "" {
		p.add("tls needs a tcp listener", at("tls"))
	}
	checkKeyPair(p, in.TLS.CertFile, in.TLS.KeyFile, at("tls"))
	validateSyslogLimits(p, in, at)
	validateSpool(p, in.Spool, at)
}
