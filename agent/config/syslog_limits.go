package config

import "time"

// validateSyslogLimits checks the syslog settings that bound what a
// hostile sender can hold: the TLS handshake's deadline and the UDP
// sockets' receive buffers.
func validateSyslogLimits(p *problems, in Input, at func(string) []any) {
	if in.HandshakeTimeout < Duration(time.Millisecond) {
		p.add("must be at least 1ms, got %v", at("handshake_timeout"), in.HandshakeTimeout.Duration())
	}
	if in.UDPReceiveBuffer < 4<<10 || in.UDPReceiveBuffer > 1<<30 {
		p.add("must be between 4KiB and 1GiB, got %d bytes", at("udp_receive_buffer"), int64(in.UDPReceiveBuffer))
	}
}

// HasSyslogTCP reports a syslog input with a TCP listener: the memory
// split then sets a share aside for its connections' frame buffers.
func (c *Config) HasSyslogTCP() bool {
	for _, in := range c.Inputs {
		if in.Type == "syslog" && in.TCP != "" {
			return true
		}
	}
	return false
}
