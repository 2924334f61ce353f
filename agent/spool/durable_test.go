package spool

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// With sync: batch, a batch Push returned is on disk for good: the
// segment holding it is fsynced, and so is the spool's folder after the
// segment's file was created, or a power loss could lose its name and
// every batch in it. Each time the folder is synced, the segments it
// holds are noted; after every Push the newest segment must be among them.
func TestNewSegmentNameDurable(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	named := map[string]bool{}
	real := syncDir
	syncDir = func(d string) error {
		err := real(d)
		if err == nil && d == dir {
			segs, _ := filepath.Glob(filepath.Join(dir, "*"+segmentSuffix))
			mu.Lock()
			for _, g := range segs {
				named[filepath.Base(g)] = true
			}
			mu.Unlock()
		}
		return err
	}
	t.Cleanup(func() { syncDir = real })

	cfg := config(dir)
	cfg.Sync, cfg.SegmentBytes = SyncBatch, 32<<10
	k := newSink()
	r := start(t, cfg, k)
	for i := range 20 {
		require.NoError(t, r.s.Push(context.Background(), batch("tcp://127.0.0.1:514", i*100, 100)))
		segs, err := filepath.Glob(filepath.Join(dir, "*"+segmentSuffix))
		require.NoError(t, err)
		require.NotEmpty(t, segs)
		newest := filepath.Base(segs[len(segs)-1])
		fi, err := os.Stat(segs[len(segs)-1])
		require.NoError(t, err)
		mu.Lock()
		ok := named[newest]
		mu.Unlock()
		require.True(t, ok || fi.Size() == 0, "batch %d is in segment %s (%d bytes), whose name was never fsynced into the folder", i, newest, fi.Size())
	}
	k.wait(t, 2000)
	r.close(t)
	require.Greater(t, len(named), 3, "the batches filled several segments")
}
