//go:build !linux

package kubetest

import (
	"errors"
	"syscall"
	"time"
)

// sysProcAttr: only Linux can tie a child's life to its parent's.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// cpuTime: without /proc a start is bounded by wall time alone.
func cpuTime(int) (time.Duration, error) { return 0, errors.ErrUnsupported }
