//go:build !linux

package syslog

import "syscall"

func reusePort(_, _ string, _ syscall.RawConn) error { return nil }

// canReusePort is false: one UDP socket and one reader.
const canReusePort = false
