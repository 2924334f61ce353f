package document

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// A MetaCache gives what Shaper.Meta gives, for objects seen in turn, by
// the identity of their bytes (an equal copy elsewhere is another entry,
// rendered again), without allocating once they are kept; it stays
// bounded.
func TestMetaCache(t *testing.T) {
	for _, schema := range []Schema{SchemaFluentd, SchemaECS, SchemaOTel} {
		s := &Shaper{Schema: schema, MaxLabels: 2}
		var c MetaCache
		var metas [][]byte
		for i := range 8 {
			metas = append(metas, fmt.Appendf(nil, `{"namespace_name":"ns%d","pod_name":"p%d","labels":{"a":"1","b":"2","c":"3"}}`, i, i))
		}
		metas = append(metas, nil, []byte(`not json`))
		for range 3 {
			for _, m := range metas {
				require.Equal(t, s.Meta(m), c.Get(s, m), "schema %v, meta %s", schema, m)
			}
		}
		// A shorter slice of the same bytes is another object.
		short := metas[0][:len(metas[0])-1]
		require.Equal(t, s.Meta(short), c.Get(s, short))

		allocs := testing.AllocsPerRun(100, func() {
			for _, m := range metas[:8] {
				c.Get(s, m)
			}
		})
		require.Zero(t, allocs, "schema %v: allocations per 8 kept objects", schema)
	}

	s := &Shaper{Schema: SchemaFluentd}
	var c MetaCache
	for i := range 3 * maxMetaCache {
		c.Get(s, fmt.Appendf(nil, `{"pod_name":"p%d"}`, i))
		require.LessOrEqual(t, len(c.entries), maxMetaCache)
	}
}
