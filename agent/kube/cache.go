package kube

import (
	"maps"
	"slices"
	"sync"
	"sync/atomic"
)

// podKey names a pod the way log file names do.
type podKey struct{ namespace, name string }

// snapshot maps a pod name to the pods of that name: the live one first
// (at most one), then deleted ones kept for deleted_pod_ttl, newest first.
// A StatefulSet pod deleted and recreated under the same name is two
// entries; the file's container id tells their logs apart.
type snapshot map[podKey][]*podInfo

// cache is read by every worker for every batch and written by the watch:
// readers load an immutable snapshot (one atomic load, no lock), writers
// copy it under a mutex. A node runs at most a few hundred pods and they
// change rarely compared with how often their lines are read.
type cache struct {
	mu   sync.Mutex // serialises writers
	snap atomic.Pointer[snapshot]
}

func newCache() *cache {
	c := &cache{}
	c.snap.Store(&snapshot{})
	return c
}

func (c *cache) get(k podKey) []*podInfo { return (*c.snap.Load())[k] }

// update applies fn to a copy of the current snapshot and publishes it.
func (c *cache) update(fn func(s snapshot)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := maps.Clone(*c.snap.Load())
	fn(s)
	c.snap.Store(&s)
}

// upsert puts a live pod in. A live pod of the same name with another uid
// was deleted without us seeing it (a relist skipped the event): it moves
// to the deleted ones.
func (c *cache) upsert(info *podInfo, now int64) {
	k := podKey{info.pod.Namespace, info.pod.Name}
	c.update(func(s snapshot) { s[k] = withLive(s[k], info, now) })
}

func withLive(old []*podInfo, info *podInfo, now int64) []*podInfo {
	out := make([]*podInfo, 0, len(old)+1)
	out = append(out, info)
	for _, o := range old {
		switch {
		case o.uid == info.uid:
			// Replaced by the new version (a deleted entry of the same uid
			// came back: the deletion was not final after all).
		case o.deleted == 0:
			gone := *o
			gone.deleted = now
			out = append(out, &gone)
		default:
			out = append(out, o)
		}
	}
	return out
}

// remove marks a pod deleted; its metadata stays until expire drops it.
func (c *cache) remove(namespace, name, uid string, now int64) {
	k := podKey{namespace, name}
	c.update(func(s snapshot) {
		old := s[k]
		i := slices.IndexFunc(old, func(p *podInfo) bool { return p.uid == uid && p.deleted == 0 })
		if i < 0 {
			return
		}
		gone := *old[i]
		gone.deleted = now
		out := slices.Delete(slices.Clone(old), i, i+1)
		// Deleted ones go after a live one, newest first.
		j := 0
		if len(out) > 0 && out[0].deleted == 0 {
			j = 1
		}
		s[k] = slices.Insert(out, j, &gone)
	})
}

// replace makes the live pods exactly pods (a full list from the kubelet
// or a relist): live pods missing from it are marked deleted.
func (c *cache) replace(pods []*podInfo, now int64) {
	seen := make(map[string]bool, len(pods))
	for _, p := range pods {
		seen[p.uid] = true
	}
	c.update(func(s snapshot) {
		for k, list := range s {
			if len(list) > 0 && list[0].deleted == 0 && !seen[list[0].uid] {
				gone := *list[0]
				gone.deleted = now
				s[k] = append([]*podInfo{&gone}, list[1:]...)
			}
		}
		for _, p := range pods {
			k := podKey{p.pod.Namespace, p.pod.Name}
			s[k] = withLive(s[k], p, now)
		}
	})
}

// expire drops deleted pods older than ttl.
func (c *cache) expire(now, ttl int64) {
	if !c.hasExpired(now, ttl) {
		return
	}
	c.update(func(s snapshot) {
		for k, list := range s {
			kept := slices.DeleteFunc(slices.Clone(list), func(p *podInfo) bool {
				return p.deleted != 0 && now-p.deleted >= ttl
			})
			if len(kept) == 0 {
				delete(s, k)
			} else {
				s[k] = kept
			}
		}
	})
}

func (c *cache) hasExpired(now, ttl int64) bool {
	for _, list := range *c.snap.Load() {
		for _, p := range list {
			if p.deleted != 0 && now-p.deleted >= ttl {
				return true
			}
		}
	}
	return false
}

// counts returns the number of live and deleted pods held.
func (c *cache) counts() (live, deleted int) {
	for _, list := range *c.snap.Load() {
		for _, p := range list {
			if p.deleted == 0 {
				live++
			} else {
				deleted++
			}
		}
	}
	return live, deleted
}

// namespace returns the live pods of a namespace.
func (c *cache) namespace(ns string) []*podInfo {
	var out []*podInfo
	for k, list := range *c.snap.Load() {
		if k.namespace == ns && len(list) > 0 && list[0].deleted == 0 {
			out = append(out, list[0])
		}
	}
	return out
}

// lookup finds the pod and container instance of a file: the file's
// container id decides between pods of one name; without a match, the
// live pod (or the newest deleted one) by container name.
func lookup(list []*podInfo, container, id string) (*podInfo, *containerInfo) {
	for _, p := range list {
		if c := p.pick(container, id); c != nil {
			return p, c
		}
	}
	for _, p := range list {
		if c := p.pickAny(container); c != nil {
			return p, c
		}
	}
	return nil, nil
}
