package syslog

import (
	"fmt"
	"net"
	"unsafe"

	"golang.org/x/sys/unix"
)

// socketDrops reads SK_MEMINFO_DROPS of SO_MEMINFO: the socket's sk_drops,
// which UDP raises for each datagram that found the receive buffer full.
// (Asked at scrape time, unlike SO_RXQ_OVFL, which rides on each
// datagram read and says nothing until the next one arrives.)
func socketDrops(c *net.UDPConn) (int64, error) {
	var info [unix.SK_MEMINFO_VARS]uint32
	err := control(c, func(fd uintptr) error {
		size := uint32(unsafe.Sizeof(info))
		_, _, errno := unix.Syscall6(unix.SYS_GETSOCKOPT, fd, unix.SOL_SOCKET, unix.SO_MEMINFO,
			uintptr(unsafe.Pointer(&info)), uintptr(unsafe.Pointer(&size)), 0)
		if errno != 0 {
			return errno
		}
		if size < (unix.SK_MEMINFO_DROPS+1)*4 {
			return fmt.Errorf("SO_MEMINFO: %d bytes, no drop count", size)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return int64(info[unix.SK_MEMINFO_DROPS]), nil
}

// socketReceiveBuffer reads SO_RCVBUF.
func socketReceiveBuffer(c *net.UDPConn) (int, error) {
	var n int
	err := control(c, func(fd uintptr) error {
		var err error
		n, err = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF)
		return err
	})
	return n, err
}

// control runs fn on the socket's descriptor; it fails once c is closed.
func control(c *net.UDPConn, fn func(fd uintptr) error) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(fd) }); err != nil {
		return err
	}
	return ferr
}
