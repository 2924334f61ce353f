package document

import (
	"github.com/sluicelog/sluice/agent/record"
	"github.com/sluicelog/sluice/internal/jsonbytes"
	"github.com/sluicelog/sluice/parsers/timestamp"
)

// AppendRescue appends the rescue document of r to dst: what Append
// writes, minus the fields merged from a JSON line. The line is kept
// whole in "log", and "sluice.error" says why the full document was
// refused (e.g. "mapper_parsing_exception: failed to parse field [n]"),
// so a line that the store cannot map stays searchable. r.Time must be
// set: a rescue keeps the @timestamp of the document it stands for.
func AppendRescue(dst, meta []byte, r *record.Record, reason string) []byte {
	dst = append(dst, `{"@timestamp":"`...)
	dst = timestamp.AppendRFC3339Nano(dst, r.Time)
	dst = append(dst, '"')
	if s := r.Stream.String(); s != "" {
		dst = append(dst, `,"stream":"`...)
		dst = append(dst, s...)
		dst = append(dst, '"')
	}
	dst = append(dst, `,"log":`...)
	dst = jsonbytes.AppendString(dst, r.Line)
	if len(r.Extra) > 0 {
		dst = append(dst, ',')
		dst = append(dst, r.Extra...)
	}
	dst = append(dst, `,"sluice":{"error":`...)
	dst = jsonbytes.AppendStringString(dst, reason)
	if r.Flags&record.Truncated != 0 {
		dst = append(dst, `,"truncated":true`...)
	}
	if r.Flags&record.Malformed != 0 {
		dst = append(dst, `,"malformed":true`...)
	}
	dst = append(dst, '}')
	if len(meta) > 0 {
		dst = append(dst, `,"kubernetes":`...)
		dst = append(dst, meta...)
	}
	return append(dst, '}')
}
