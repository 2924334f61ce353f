package kubetest

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// cpuTime reads this process's CPU time, and it grows while it works.
func TestCPUTime(t *testing.T) {
	before, err := cpuTime(os.Getpid())
	require.NoError(t, err)
	require.Positive(t, before, "the test binary has started")
	for start := time.Now(); ; {
		now, err := cpuTime(os.Getpid())
		require.NoError(t, err)
		if now > before {
			break
		}
		require.Less(t, time.Since(start), time.Minute, "CPU time stays at %v while busy", now)
	}
	_, err = cpuTime(1 << 30)
	require.Error(t, err, "no such process")
}
