package otlp

import (
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// maxMessage bounds a server's message in a log line.
const maxMessage = 512

// statusMessage is the message of a failed answer: the google.rpc.Status
// that OTLP/HTTP servers send (message is its field 2), in protobuf or
// JSON, or the start of any other body.
func statusMessage(body []byte, contentType string) string {
	var msg string
	switch {
	case isProtobuf(contentType):
		msg = protoStatusMessage(body)
	case strings.HasPrefix(contentType, "application/json"):
		var st struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(body, &st) == nil {
			msg = st.Message
		}
	default:
		msg = string(body)
	}
	if len(msg) > maxMessage {
		msg = msg[:maxMessage]
		for !utf8.ValidString(msg) {
			msg = msg[:len(msg)-1]
		}
		msg += "…"
	}
	return strings.ToValidUTF8(msg, "?")
}

func protoStatusMessage(b []byte) string {
	var msg string
	_ = eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) bool {
		if num == 2 && typ == protowire.BytesType {
			msg = string(v)
		}
		return true
	})
	return msg
}

var errBadMessage = errors.New("not the expected message")

// partialSuccess is ExportLogsServiceResponse.partial_success (field 1):
// rejected_log_records (1) and error_message (2).
type partialSuccess struct {
	rejected int64
	message  string
}

// parsePartialSuccess decodes an ExportLogsServiceResponse; ok is false
// when b is not one.
func parsePartialSuccess(b []byte) (ps partialSuccess, ok bool) {
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) bool {
		if num != 1 || typ != protowire.BytesType {
			return true
		}
		return eachField(v, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) bool {
			switch {
			case num == 1 && typ == protowire.VarintType:
				ps.rejected = int64(n)
			case num == 2 && typ == protowire.BytesType:
				ps.message = strings.ToValidUTF8(string(v), "?")
			}
			return true
		}) == nil
	})
	return ps, err == nil
}

// eachField calls f with each field of message b: its bytes for a
// length-delimited field, its number for a varint; it stops at false.
func eachField(b []byte, f func(num protowire.Number, typ protowire.Type, v []byte, n uint64) bool) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if !f(num, typ, v, x) {
			return errBadMessage
		}
	}
	return nil
}
