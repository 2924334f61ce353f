package syslog

import (
	"context"
	"errors"
	"net"
	"time"
)

// maxDatagram holds any UDP payload (65,507 bytes over IPv4).
const maxDatagram = 64 << 10

// serveUDP is one of udp_readers goroutines, each reading its own socket
// on the shared port, with its own preallocated buffer, batch and read
// deadline (the flush timer). One datagram is one
// message (RFC 5426). Batches are handed over without waiting: when the
// pipeline is full they are dropped and counted.
func (in *Input) serveUDP(ctx context.Context, conn *net.UDPConn) {
	buf := make([]byte, maxDatagram)
	bt := in.newBatcher(in.udpSrc)
	max := int(in.cfg.MaxMessageBytes)
	var sourceIP []byte
	deadlineSet := false
	defer bt.tryPush()
	for {
		if bt.pending() && !deadlineSet {
			_ = conn.SetReadDeadline(bt.started.Add(in.flushDelay))
			deadlineSet = true
		}
		n, ap, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && ctx.Err() == nil {
				bt.tryPush()
				_ = conn.SetReadDeadline(time.Time{})
				deadlineSet = false
				continue
			}
			if ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				in.stats.ConnErrors.Add(1)
				in.logf("syslog udp read failed", "err", err)
				continue
			}
			return
		}
		in.stats.Bytes.Add(int64(n))
		msg := buf[:n]
		truncated := n > max
		if truncated {
			msg = msg[:max]
		} else {
			msg = trimEOL(msg)
		}
		if len(msg) == 0 {
			continue
		}
		sourceIP = appendSourceIP(sourceIP[:0], ap.Addr())
		bt.add(msg, truncated, false, time.Now().UnixNano(), sourceIP)
		if bt.full() {
			bt.tryPush()
			if deadlineSet {
				_ = conn.SetReadDeadline(time.Time{})
				deadlineSet = false
			}
		}
	}
}
