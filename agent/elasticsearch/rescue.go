package elasticsearch

import (
	"bytes"
	"time"

	"github.com/sluicelog/sluice/agent/document"
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/internal/jsonbytes"
	"github.com/sluicelog/sluice/parsers/timestamp"
)

// stage is what a request's documents are. A document the server refuses
// for good (a 4xx other than 409: mapper_parsing_exception and the like)
// moves on to the next stage: first a rescue copy under the same _id and
// index, without the fields merged from a JSON line (whose types are what
// usually clash), then a dead letter in dead_letter_index. Only a refused
// dead letter is lost, and counted as failed.
type stage uint8

const (
	stagePrimary stage = iota
	stageRescue
	stageDeadLetter
)

// refusal is a document of the current stage refused for good.
type refusal struct {
	item int32
	oc   outcome
}

// refuse settles item i of req, which the server will never take: it
// goes on to the next stage, or, as a dead letter, it is counted failed
// and logged at a rate limit. Failed documents are acknowledged like the
// rest so checkpoints move (STYLE 4: dropped records count toward the ack).
func (s *sender) refuse(req *request, i int32, oc outcome) {
	o := s.o
	o.health.docs[refusedCause(req.stage)].Add(1)
	if req.stage < stageDeadLetter {
		s.refused = append(s.refused, refusal{item: i, oc: oc})
		msg := "document refused by the server; sending a rescue copy without its merged fields"
		if req.stage == stageRescue {
			msg = "rescue copy refused by the server; writing it to the dead-letter index"
		}
		if suppressed, ok := o.limit.Allow(msg); ok {
			src := req.source(i)
			if src == nil {
				src = &emptySource
			}
			o.log.Warn(msg, "status", oc.status, "error_type", oc.errType, "reason", oc.reason,
				"index", string(actionIndex(req.doc(i))), "input", src.Input, "path", src.Path, "suppressed", suppressed)
		}
		return
	}
	o.stats.docsFailed.Add(1)
	const lost = "dead letter refused by the server; the line is lost (acknowledged, counted as failed)"
	if suppressed, ok := o.limit.Allow(lost); ok {
		src := req.source(i)
		if src == nil {
			src = &emptySource
		}
		o.log.Error(lost,
			"status", oc.status, "error_type", oc.errType, "reason", oc.reason,
			"original_error", req.reasons[i], "index", string(actionIndex(req.doc(i))),
			"input", src.Input, "path", src.Path, "suppressed", suppressed)
	}
}

// countSettled counts the documents of a stage that the server stored
// (sent) or already had (dups, 409 on create).
func (o *Output) countSettled(st stage, sent, dups int64) {
	switch st {
	case stagePrimary:
		o.stats.docsSent.Add(sent)
		o.stats.docsDuplicate.Add(dups)
	case stageRescue:
		o.stats.docsRescued.Add(sent + dups)
	default:
		o.stats.docsDeadLettered.Add(sent + dups)
	}
}

// nextStage builds the request of the next stage for the documents in
// s.refused, which it empties. The new request borrows req's batches.
func (s *sender) nextStage(req *request) *request {
	o := s.o
	next := o.getRequest()
	next.stage = req.stage + 1
	next.batches = append(next.batches[:0], req.batches...)
	for _, rf := range s.refused {
		it := req.items[rf.item]
		b := req.batches[it.batch]
		r := b.Records[it.rec] // a copy: Time may be filled in below
		action, doc := splitItem(req.doc(rf.item))
		index, id := actionIndex(action), actionID(action)
		if r.Time == 0 {
			r.Time = docTime(doc)
		}
		why := describe(rf.oc)
		next.items = append(next.items, item{start: int32(len(next.body)), batch: it.batch, rec: it.rec})
		if next.stage == stageRescue {
			next.reasons = append(next.reasons, why)
			s.scratch = document.AppendRescue(s.scratch[:0], b.Kubernetes(), &r, why)
			next.body = appendAction(next.body, index, id)
			doc = s.scratch
			if o.conv.shaping() {
				// The rescue copy goes where the document went: in its schema.
				doc = o.shape(&s.shape, b.Kubernetes(), doc, index, o.useStreams || o.fixedDS)
			}
		} else {
			// Dead letters keep the fluentd schema: sluice redrive reads them.
			orig := req.reasons[rf.item]
			next.reasons = append(next.reasons, orig)
			s.scratch = appendDeadLetter(s.scratch[:0], b.Source, b.Kubernetes(), &r, orig, why, index)
			next.body = appendAction(next.body, o.deadLetterIndex, id)
			doc = s.scratch
		}
		next.body = appendDoc(next.body, doc, o.idKey, id)
	}
	s.refused = s.refused[:0]
	if cap(s.scratch) > 1<<20 {
		s.scratch = nil
	}
	return next
}

// describe is the "type: reason" of a refusal, for sluice.error.
func describe(oc outcome) string {
	switch {
	case oc.errType == "":
		return oc.reason
	case oc.reason == "":
		return oc.errType
	default:
		return oc.errType + ": " + oc.reason
	}
}

// appendDeadLetter appends the dead-letter document of r: its time, raw
// line and stream, why the document and then its rescue copy were
// refused, the index it was meant for, and the kubernetes object.
func appendDeadLetter(dst []byte, src *record.Source, meta []byte, r *record.Record, origErr, rescueErr string, index []byte) []byte {
	dst = append(dst, `{"@timestamp":"`...)
	dst = timestamp.AppendRFC3339Nano(dst, r.Time)
	dst = append(dst, '"')
	if st := r.Stream.String(); st != "" {
		dst = append(dst, `,"stream":"`...)
		dst = append(dst, st...)
		dst = append(dst, '"')
	}
	dst = append(dst, `,"log":`...)
	dst = jsonbytes.AppendString(dst, r.Line)
	dst = append(dst, `,"error":`...)
	dst = jsonbytes.AppendStringString(dst, origErr)
	dst = append(dst, `,"rescue_error":`...)
	dst = jsonbytes.AppendStringString(dst, rescueErr)
	dst = append(dst, `,"index":`...)
	dst = jsonbytes.AppendString(dst, index)
	if src != nil {
		if src.Input != "" {
			dst = append(dst, `,"input":`...)
			dst = jsonbytes.AppendStringString(dst, src.Input)
		}
		if src.Path != "" {
			dst = append(dst, `,"path":`...)
			dst = jsonbytes.AppendStringString(dst, src.Path)
		}
	}
	if len(meta) > 0 {
		dst = append(dst, `,"kubernetes":`...)
		dst = append(dst, meta...)
	}
	return append(dst, '}')
}

// splitItem cuts an item into its action line and its document, both
// without their newlines.
func splitItem(b []byte) (action, doc []byte) {
	action, doc, _ = bytes.Cut(b, []byte{'\n'})
	return action, bytes.TrimSuffix(doc, []byte{'\n'})
}

// actionID returns the _id of an action line, or nil.
func actionID(action []byte) []byte {
	const key = `"_id":"`
	i := bytes.Index(action, []byte(key))
	if i < 0 {
		return nil
	}
	rest := action[i+len(key):]
	if j := bytes.IndexByte(rest, '"'); j >= 0 {
		return rest[:j]
	}
	return nil
}

// docTime reads the @timestamp the encoder wrote into doc, for a record
// without a time of its own (the encoder then used the clock); now if it
// cannot.
func docTime(doc []byte) int64 {
	const key = `"@timestamp":"`
	if i := bytes.Index(doc, []byte(key)); i >= 0 {
		rest := doc[i+len(key):]
		if j := bytes.IndexByte(rest, '"'); j >= 0 {
			if t, err := time.Parse(time.RFC3339Nano, string(rest[:j])); err == nil {
				return t.UnixNano()
			}
		}
	}
	return time.Now().UnixNano()
}
