package tap

import (
	"io"
	"sync/atomic"

	"github.com/sluicelog/sluice/agent/budget"
	"github.com/sluicelog/sluice/agent/record"
)

// Chunk is a copy of one published batch: its documents, each followed by
// '\n', and, when some subscriber greps, its lines. It is shared by the
// subscribers it was queued for and immutable; its bytes are charged to
// the hub's budget until the last one releases it.
type Chunk struct {
	// The source's names, for the filters.
	input, namespace, pod, container string
	labels                           map[string]string // the pod's; shared, read-only

	docs  []byte  // documents, each followed by '\n'
	ends  []int32 // ends[i]: end of document i in docs, after its '\n'
	lines []byte  // the records' lines, when some subscriber greps
	lends []int32 // lends[i]: end of line i in lines

	size int64
	refs atomic.Int32
	mem  *budget.Budget
}

// chunkOverhead is what a chunk costs beyond its buffers.
const chunkOverhead = 256

// newChunk copies b's documents (and lines, when withLines) into a chunk
// charged to mem once acquired by the caller.
func newChunk(b *record.Batch, withLines bool, mem *budget.Budget) *Chunk {
	c := &Chunk{mem: mem, labels: b.Labels}
	if src := b.Source; src != nil {
		c.input, c.namespace, c.pod, c.container = src.Input, src.Namespace, src.Pod, src.Container
	}
	n := len(b.Records)
	docBytes, lineBytes := len(b.Docs)+n, 0
	if withLines {
		for i := range b.Records {
			lineBytes += len(b.Records[i].Line)
		}
		c.lines = make([]byte, 0, lineBytes)
		c.lends = make([]int32, 0, n)
	}
	c.docs = make([]byte, 0, docBytes)
	c.ends = make([]int32, 0, n)
	for i := range b.Records {
		doc := b.Doc(i)
		if len(doc) == 0 {
			continue
		}
		c.docs = append(append(c.docs, doc...), '\n')
		c.ends = append(c.ends, int32(len(c.docs)))
		if withLines {
			c.lines = append(c.lines, b.Records[i].Line...)
			c.lends = append(c.lends, int32(len(c.lines)))
		}
	}
	c.size = int64(cap(c.docs)+cap(c.lines)+4*(cap(c.ends)+cap(c.lends))) + chunkOverhead
	return c
}

// Size is the bytes c is charged for.
func (c *Chunk) Size() int64 { return c.size }

// Release gives up one reference; the last one returns c's bytes to the
// hub's budget.
func (c *Chunk) Release() {
	if c.refs.Add(-1) == 0 {
		c.mem.Release(c.size)
	}
}

func (c *Chunk) line(i int) []byte {
	start := int32(0)
	if i > 0 {
		start = c.lends[i-1]
	}
	return c.lines[start:c.lends[i]]
}

// WriteMatching writes the documents of c that match s's filter to w, each
// followed by '\n', in as few writes as runs of matches allow, and
// releases c. This is where the filter's patterns run: on the caller's
// goroutine, never on a pipeline worker.
func (s *Subscriber) WriteMatching(w io.Writer, c *Chunk) (int, error) {
	defer c.Release()
	if !s.filter.matchChunk(c) {
		return 0, nil
	}
	if s.filter.Grep == nil {
		return w.Write(c.docs)
	}
	total := 0
	run := -1 // start of the current run of matches in c.docs
	flush := func(end int32) error {
		if run < 0 {
			return nil
		}
		n, err := w.Write(c.docs[run:end])
		total += n
		run = -1
		return err
	}
	for i := range c.ends {
		start := int32(0)
		if i > 0 {
			start = c.ends[i-1]
		}
		if s.filter.Grep.Match(c.line(i)) {
			if run < 0 {
				run = int(start)
			}
			continue
		}
		if err := flush(start); err != nil {
			return total, err
		}
	}
	return total, flush(int32(len(c.docs)))
}
