package document

// maxMetaCache bounds a MetaCache: more pods than this on a node, seen by
// one writer in turn, start it over.
const maxMetaCache = 256

// MetaCache keeps the Meta that a Shaper rendered for each Kubernetes
// object it was given, by the identity of the object's bytes. The pod
// cache hands every batch of a pod the same immutable slice, and batches
// of a node's pods come to a writer interleaved: with only the last Meta
// kept, every batch of the tail workload with enrichment decoded its pod's
// object again (5% of its CPU, bench/RESULTS.md). An entry keeps its
// slice alive, so no other object can come to occupy the same address
// while it is cached.
//
// The zero MetaCache is ready. It is not safe for concurrent use: one per
// writer, like the Shaper.
type MetaCache struct {
	entries map[*byte]metaEntry
}

type metaEntry struct {
	meta []byte
	m    Meta
}

// Get returns s.Meta(meta), rendered once per object kept.
func (c *MetaCache) Get(s *Shaper, meta []byte) Meta {
	if len(meta) == 0 {
		return s.Meta(meta)
	}
	if e, ok := c.entries[&meta[0]]; ok && len(e.meta) == len(meta) {
		return e.m
	}
	m := s.Meta(meta)
	if c.entries == nil || len(c.entries) >= maxMetaCache {
		c.entries = make(map[*byte]metaEntry, 16)
	}
	c.entries[&meta[0]] = metaEntry{meta: meta, m: m}
	return m
}
