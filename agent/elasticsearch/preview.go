package elasticsearch

import (
	"github.com/sluicelog/sluice/agent/record"
)

// Placed is what one record of a batch becomes in a bulk request: the
// index or data stream of its action line, its _id ("" without ids), and
// the document line as sent (with id_field when set).
type Placed struct {
	Index string
	ID    string
	Doc   []byte
}

// Preview encodes b as a writer would into a bulk request, without a
// request, a sender or a server: for sluice test and sluice explain. An
// output without index or data_stream decides between data streams and
// classic indices from the server's version; Preview takes dataStreams
// for that answer. The output must not Run.
func (o *Output) Preview(b *record.Batch, dataStreams bool) []Placed {
	if o.ready != nil {
		select {
		case <-o.ready:
		default:
			o.useStreams = dataStreams
			close(o.ready)
		}
	}
	w := &writer{o: o}
	src := b.Source
	if src == nil {
		src = &emptySource
	}
	if o.ids {
		w.ks = w.ids.Compute(w.ks, src, b.Records)
	}
	var now int64
	out := make([]Placed, 0, len(b.Records))
	for i := range b.Records {
		index, doc, id, ok := w.place(b, src, i, &now)
		if !ok {
			continue
		}
		line := appendDoc(nil, doc, o.idKey, id)
		out = append(out, Placed{Index: string(index), ID: string(id), Doc: line[:len(line)-1]})
	}
	return out
}
