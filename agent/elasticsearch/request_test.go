package elasticsearch

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRequestBodiesSizedOnceAndKept(t *testing.T) {
	cfg := testConfig("http://127.0.0.1:1")
	cfg.Bulk.MaxBytes = 64 << 10
	o, err := New(cfg, nil)
	require.NoError(t, err)

	r := o.getRequest()
	o.newBody(r)
	require.Equal(t, 64<<10, cap(r.body), "sized at max_bytes up front")
	r.body = append(r.body, "x"...)
	p := &r.body[:1][0]
	o.putRequest(r)

	// The pool is not emptied by a GC, and the body comes back empty with
	// its capacity.
	runtime.GC()
	runtime.GC()
	r2 := o.getRequest()
	require.Same(t, r, r2)
	o.newBody(r2)
	require.Empty(t, r2.body)
	require.Same(t, p, &r2.body[:1][0], "the same body, not a new one")

	// A body that one huge document grew is not kept.
	r2.body = make([]byte, 0, 1<<20)
	o.putRequest(r2)
	require.Nil(t, o.getRequest().body)
}

func TestRequestBodyPresizeBounded(t *testing.T) {
	cfg := testConfig("http://127.0.0.1:1")
	cfg.Bulk.MaxBytes = 512 << 20
	o, err := New(cfg, nil)
	require.NoError(t, err)
	r := o.getRequest()
	o.newBody(r)
	require.Equal(t, maxPresized, cap(r.body))
	require.True(t, o.keepBody(512<<20), "grown up to max_bytes by append, it is kept")
}
