package tail

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watcher turns inotify events into prompt scans (a file appeared, was
// renamed or removed in a watched folder) and wake-ups of readers (their
// file grew). It is only an accelerator: polling keeps running, so lost
// events or a full inotify budget cost latency, never lines.
type watcher struct {
	t       *Tailer
	w       *fsnotify.Watcher
	watched map[string]bool
	warned  bool
}

func newWatcher(t *Tailer) *watcher {
	return &watcher{t: t, watched: map[string]bool{}}
}

// resync is how often the set of watched folders follows the open files.
const resync = time.Second

func (w *watcher) run(ctx context.Context) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		w.t.logger.Warn("inotify unavailable; polling only", "err", err)
		return
	}
	defer fw.Close()
	w.w = fw
	w.sync()
	tick := time.NewTicker(resync)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			w.sync()
		case ev, ok := <-fw.Events:
			if !ok {
				return
			}
			if ev.Has(fsnotify.Write) {
				w.t.wake(ev.Name)
			}
			if ev.Has(fsnotify.Create) || ev.Has(fsnotify.Rename) || ev.Has(fsnotify.Remove) {
				w.t.requestScan()
				w.t.wake(ev.Name) // a rotated-away file: let its reader see it now
			}
		case err, ok := <-fw.Errors:
			if !ok {
				return
			}
			// Queue overflow and the like: events were lost, so scan.
			w.t.logf("inotify error; scanning", "err", err)
			w.t.requestScan()
		}
	}
}

// sync watches the folders of the globs and of every file being read (the
// targets of /var/log/containers symlinks live under /var/log/pods), and
// stops watching folders no longer needed.
func (w *watcher) sync() {
	want := map[string]bool{}
	for _, g := range w.t.cfg.Paths {
		dir := filepath.Dir(g)
		if strings.ContainsAny(dir, "*?[") {
			dirs, _ := filepath.Glob(dir)
			for _, d := range dirs {
				want[d] = true
			}
			continue
		}
		want[dir] = true
	}
	w.t.mu.Lock()
	for resolved := range w.t.wakers {
		want[filepath.Dir(resolved)] = true
	}
	w.t.mu.Unlock()
	for dir := range want {
		if w.watched[dir] {
			continue
		}
		if err := w.w.Add(dir); err != nil {
			if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EMFILE) {
				if !w.warned {
					w.t.logger.Warn("inotify watch limit reached; the rest is polled", "dir", dir, "err", err)
					w.warned = true
				}
				continue
			}
			continue // the folder may not exist yet; polling covers it
		}
		w.watched[dir] = true
	}
	for dir := range w.watched {
		if !want[dir] {
			_ = w.w.Remove(dir)
			delete(w.watched, dir)
		}
	}
}
