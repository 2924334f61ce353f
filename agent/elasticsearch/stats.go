package elasticsearch

import "sync/atomic"

// Stats counts what an output has done since it was created. Prometheus
// metrics are built from it elsewhere; here it is a plain snapshot.
type Stats struct {
	Requests         int64 // HTTP bulk requests sent, retries and halves included
	DocsSent         int64 // documents stored (item status 2xx)
	DocsDuplicate    int64 // documents answered 409 on create: stored by an earlier try
	DocsRescued      int64 // documents refused for good, stored as a rescue copy (line in log, sluice.error)
	DocsDeadLettered int64 // documents whose rescue copy was refused too, stored in dead_letter_index
	DocsFailed       int64 // dead letters refused too: lost, but acked so checkpoints move
	DocsEmpty        int64 // records skipped because the worker encoded no document
	ItemRetries      int64 // documents sent again after an item-level 429/5xx
	RequestRetries   int64 // requests sent again after a transport error, 429, 5xx or auth error
	RequestSplits    int64 // requests cut in halves after a whole-request 4xx
	BytesSent        int64 // request bodies as written on the wire (after gzip)
	InFlight         int64 // requests a sender is working on right now
	LabelsDropped    int64 // labels/annotations left out of documents by max_labels, summed over documents
	DocsFailureStore int64 // documents Elasticsearch kept in the data stream's failure store (stored, not searchable as logs)
}

// counters is the live, concurrently updated form of Stats.
type counters struct {
	requests, docsSent, docsDuplicate, docsFailed, docsEmpty   atomic.Int64
	docsRescued, docsDeadLettered                              atomic.Int64
	itemRetries, requestRetries, requestSplits, bytes, flights atomic.Int64
	labelsDropped, docsFailureStore                            atomic.Int64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Requests:         c.requests.Load(),
		DocsSent:         c.docsSent.Load(),
		DocsDuplicate:    c.docsDuplicate.Load(),
		DocsRescued:      c.docsRescued.Load(),
		DocsDeadLettered: c.docsDeadLettered.Load(),
		DocsFailed:       c.docsFailed.Load(),
		DocsEmpty:        c.docsEmpty.Load(),
		ItemRetries:      c.itemRetries.Load(),
		RequestRetries:   c.requestRetries.Load(),
		RequestSplits:    c.requestSplits.Load(),
		BytesSent:        c.bytes.Load(),
		InFlight:         c.flights.Load(),
		LabelsDropped:    c.labelsDropped.Load(),
		DocsFailureStore: c.docsFailureStore.Load(),
	}
}
