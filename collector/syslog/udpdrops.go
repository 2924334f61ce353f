package syslog

import (
	"net"
	"sync"
)

// udpDrops keeps the kernel's drop count of the input's UDP sockets: the
// datagrams thrown away because a socket's receive buffer was full, which
// the input never sees. It is read when the metrics are scraped (a
// syscall per socket then, nothing per datagram), and the last count is
// kept once the sockets are closed.
type udpDrops struct {
	mu   sync.Mutex
	last int64
}

// UDPKernelDrops is the number of datagrams the kernel dropped on the
// input's UDP sockets because their receive buffer was full
// (udp_receive_buffer): the sum of each socket's own count. It stays at
// its last value once the sockets are closed; 0 where the platform does
// not say.
func (in *Input) UDPKernelDrops() int64 {
	d := &in.udpDrops
	d.mu.Lock()
	defer d.mu.Unlock()
	var sum int64
	for _, c := range in.udpConns {
		n, err := socketDrops(c)
		if err != nil {
			return d.last // closed: the count before the close stands
		}
		sum += n
	}
	d.last = max(d.last, sum)
	return d.last
}

// receiveBuffer is the socket's receive buffer as the kernel set it (on
// Linux twice what was asked, for its bookkeeping, capped at
// net.core.rmem_max × 2); -1 when it cannot tell.
func receiveBuffer(c *net.UDPConn) int {
	n, err := socketReceiveBuffer(c)
	if err != nil {
		return -1
	}
	return n
}
