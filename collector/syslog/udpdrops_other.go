//go:build !linux

package syslog

import (
	"errors"
	"net"
)

var errNoCount = errors.New("not available on this platform")

func socketDrops(*net.UDPConn) (int64, error) { return 0, nil }

func socketReceiveBuffer(*net.UDPConn) (int, error) { return 0, errNoCount }
