package otlp

import (
	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of the messages an export request is made of, from the
// opentelemetry-proto repository (v1.x, the stable logs signal):
//
//	collector/logs/v1/logs_service.proto
//	  ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
//	logs/v1/logs.proto
//	  ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; }
//	  ScopeLogs    { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; }
//	  LogRecord    { fixed64 time_unix_nano = 1; SeverityNumber severity_number = 2;
//	                 string severity_text = 3; AnyValue body = 5;
//	                 repeated KeyValue attributes = 6; fixed64 observed_time_unix_nano = 11; }
//	resource/v1/resource.proto
//	  Resource     { repeated KeyValue attributes = 1; }
//	common/v1/common.proto
//	  InstrumentationScope { string name = 1; }
//	  AnyValue     { oneof value { string string_value = 1; bool bool_value = 2;
//	                 int64 int_value = 3; double double_value = 4;
//	                 ArrayValue array_value = 5; KeyValueList kvlist_value = 6; } }
//	  ArrayValue   { repeated AnyValue values = 1; }
//	  KeyValueList { repeated KeyValue values = 1; }
//	  KeyValue     { string key = 1; AnyValue value = 2; }
//
// Every number is below 16, so every tag is one byte.
const (
	fieldRequestResourceLogs protowire.Number = 1

	fieldResourceLogsResource  protowire.Number = 1
	fieldResourceLogsScopeLogs protowire.Number = 2

	fieldScopeLogsScope   protowire.Number = 1
	fieldScopeLogsRecords protowire.Number = 2

	fieldRecordTime           protowire.Number = 1
	fieldRecordSeverityNumber protowire.Number = 2
	fieldRecordSeverityText   protowire.Number = 3
	fieldRecordBody           protowire.Number = 5
	fieldRecordAttributes     protowire.Number = 6
	fieldRecordObservedTime   protowire.Number = 11

	fieldResourceAttributes protowire.Number = 1
	fieldScopeName          protowire.Number = 1

	fieldValueString protowire.Number = 1
	fieldValueBool   protowire.Number = 2
	fieldValueInt    protowire.Number = 3
	fieldValueDouble protowire.Number = 4
	fieldValueArray  protowire.Number = 5
	fieldValueKVList protowire.Number = 6

	fieldArrayValues  protowire.Number = 1
	fieldKVListValues protowire.Number = 1

	fieldKeyValueKey   protowire.Number = 1
	fieldKeyValueValue protowire.Number = 2
)

// scopeField is ScopeLogs.scope: InstrumentationScope{name: "sluice"}.
var scopeField = func() []byte {
	var scope []byte
	scope = protowire.AppendTag(scope, fieldScopeName, protowire.BytesType)
	scope = protowire.AppendString(scope, scopeName)
	b := protowire.AppendTag(nil, fieldScopeLogsScope, protowire.BytesType)
	return protowire.AppendBytes(b, scope)
}()

// fieldSize is the bytes of a length-delimited field (one-byte tag) whose
// content is n bytes.
func fieldSize(n int) int { return 1 + protowire.SizeVarint(uint64(n)) + n }

// appendField appends a length-delimited field holding content.
func appendField(b []byte, num protowire.Number, content []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, content)
}

// openField appends the tag of a length-delimited field whose length is not
// known yet, and reserve bytes of room for it; closeField writes the length.
// Room that turns out wrong is fixed by moving the content, so lengths
// stay in their shortest form.
func openField(b []byte, num protowire.Number, reserve int) ([]byte, int) {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	at := len(b)
	return append(b, make([]byte, reserve)...), at
}

// closeField writes the length of the field opened at at with reserve bytes
// of room, and returns b and how far the content moved.
func closeField(b []byte, at, reserve int) ([]byte, int) {
	n := len(b) - at - reserve
	k := protowire.SizeVarint(uint64(n))
	if k > reserve {
		b = append(b, make([]byte, k-reserve)...)
	}
	if k != reserve {
		copy(b[at+k:], b[at+reserve:at+reserve+n])
		b = b[:at+k+n]
	}
	protowire.AppendVarint(b[at:at], uint64(n))
	return b, k - reserve
}
