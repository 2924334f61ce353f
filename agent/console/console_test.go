package console

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sluicelog/sluice/agent/record"
)

func encoded(docs ...string) *record.Batch {
	b := record.NewBatch(&record.Source{}, nil)
	for _, d := range docs {
		b.Add(record.Record{}, []byte(d))
		b.Docs = append(b.Docs, d...)
		b.DocEnds = append(b.DocEnds, int32(len(b.Docs)))
	}
	return b
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestWriteAndStats(t *testing.T) {
	var out bytes.Buffer
	o := New("stdout", &out)
	w := o.NewWriter()
	require.NoError(t, w.Write(context.Background(), encoded(`{"a":1}`, `{"b":2}`)))
	require.NoError(t, w.Write(context.Background(), encoded(`{"c":3}`)))
	require.Equal(t, "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n", out.String())
	require.Equal(t, Stats{Documents: 3, Bytes: int64(out.Len())}, o.Stats())

	bad := New("bad", failWriter{})
	require.ErrorContains(t, bad.NewWriter().Write(context.Background(), encoded(`{}`, `{}`)), "console output bad: broken pipe")
	require.Equal(t, Stats{Failed: 2}, bad.Stats())
}
