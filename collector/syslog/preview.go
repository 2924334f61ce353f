package syslog

import (
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/sluicelog/sluice/agent/config"
	"github.com/sluicelog/sluice/agent/record"
)

// ReadFrames returns the records that in (a syslog input) makes of
// frames (one message each, without framing) received over transport
// ("tcp" or "udp") from source at recv (Unix nanoseconds): for sluice test
// and sluice explain. Nothing listens. A frame over max_message_bytes is
// cut as the framer cuts it. Ids are numbered under a key of this call's
// own, as every connection's are: they differ from run to run.
func ReadFrames(in config.Input, transport string, frames [][]byte, source netip.Addr, recv int64) (*record.Batch, error) {
	cfg := in
	cfg.TLS = config.TLS{} // no handshake: the key pair is not needed
	i, err := New(cfg, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	addr := in.TCP
	if transport == "udp" {
		addr = in.UDP
	}
	if addr == "" {
		return nil, fmt.Errorf("input %s does not listen on %s", in.Name, transport)
	}
	bt := i.newBatcher(&record.Source{Input: in.Name, Path: transport + "://" + addr})
	ip := appendSourceIP(nil, source)
	for _, f := range frames {
		cut := len(f) > int(in.MaxMessageBytes)
		if cut {
			f = f[:in.MaxMessageBytes]
		}
		bt.add(f, cut, false, recv, ip)
	}
	if bt.b == nil {
		bt.b = record.NewBatch(bt.src, nil)
	}
	return bt.b, nil
}
