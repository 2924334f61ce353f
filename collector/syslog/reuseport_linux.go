package syslog

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// reusePort lets several UDP sockets share one port; the kernel spreads
// datagrams over them by flow, so each reader has its own socket and its
// own read deadline.
func reusePort(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

const canReusePort = true
