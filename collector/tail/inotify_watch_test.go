package tail

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// waitWatched waits until an inotify instance of this process watches dir:
// the kernel lists each watch in the instance's /proc/self/fdinfo entry
// as "inotify wd:… ino:<inode in hex> …" (proc(5)).
func waitWatched(t *testing.T, dir string) {
	t.Helper()
	st, err := os.Stat(dir)
	require.NoError(t, err)
	want := fmt.Sprintf(" ino:%x ", st.Sys().(*syscall.Stat_t).Ino)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		fds, err := filepath.Glob("/proc/self/fd/*")
		require.NoError(c, err)
		for _, fd := range fds {
			if link, _ := os.Readlink(fd); link != "anon_inode:inotify" {
				continue
			}
			info, _ := os.ReadFile("/proc/self/fdinfo/" + filepath.Base(fd))
			if strings.Contains(string(info), want) {
				return
			}
		}
		c.Errorf("no inotify watch on %s yet", dir)
	}, 5*time.Second, 5*time.Millisecond)
}
