package otlp

import (
	"bytes"
	"math"
	"slices"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/sluicelog/sluice/internal/jsonbytes"
)

// encoder appends protobuf (wire.go) made from the JSON of documents to
// b: AnyValues from JSON values and KeyValues from members. A list of
// KeyValues is a map, so keys must be unique (common.proto, KeyValueList;
// logs.proto, LogRecord.attributes): a key written again keeps its first
// place and takes its last value. One writer's; its scratch is reused, so
// steady state allocates nothing.
type encoder struct {
	b    []byte
	ents []kvEntry // the KeyValues of the lists being written, innermost last

	order  []int32 // scratch: a list's entries in the order they go out
	sorted []int32 // scratch: a list's entries by key
	keep   []int32 // scratch: per entry, the entry that goes in its place, or -1
	tmp    []byte  // scratch: a list being put in order
	res    []byte  // scratch: a resource
}

// kvEntry is a KeyValue field written to b: the whole field at
// [start, end), its key's bytes at [key, keyEnd).
type kvEntry struct{ start, end, key, keyEnd int }

func (e *encoder) keyOf(i int32) []byte {
	en := &e.ents[i]
	return e.b[en.key:en.keyEnd]
}

// keyValue appends a KeyValue field numbered num: prefix followed by key
// (a JSON key without its quotes, unescaped if unescape is set) and the
// JSON value val.
func (e *encoder) keyValue(num protowire.Number, prefix string, key []byte, unescape bool, val []byte) {
	start := len(e.b)
	var at, vat, moved int
	e.b, at = openField(e.b, num, 1)
	e.b = protowire.AppendTag(e.b, fieldKeyValueKey, protowire.BytesType)
	keyStart, keyEnd := e.appendString(prefix, key, unescape)
	e.b, vat = openField(e.b, fieldKeyValueValue, 1)
	e.value(val)
	e.b, _ = closeField(e.b, vat, 1)
	e.b, moved = closeField(e.b, at, 1)
	e.ents = append(e.ents, kvEntry{start: start, end: len(e.b), key: keyStart + moved, keyEnd: keyEnd + moved})
}

// appendString appends the length and bytes of prefix followed by s,
// which is unescaped as the contents of a JSON string if unescape is set
// (kept as it is if its escapes are malformed). It returns where the
// string's bytes are.
func (e *encoder) appendString(prefix string, s []byte, unescape bool) (start, end int) {
	n := len(prefix) + len(s)
	if !unescape || bytes.IndexByte(s, '\\') < 0 {
		e.b = protowire.AppendVarint(e.b, uint64(n))
		start = len(e.b)
		e.b = append(append(e.b, prefix...), s...)
		return start, len(e.b)
	}
	// Unescaping only shortens: room for n's length, fixed if it
	// shortens past a varint boundary.
	reserve := protowire.SizeVarint(uint64(n))
	at := len(e.b)
	e.b = append(e.b, make([]byte, reserve)...)
	e.b = append(e.b, prefix...)
	u, err := jsonbytes.Unescape(e.b, s)
	if err != nil {
		u = append(u, s...)
	}
	var moved int
	e.b, moved = closeField(u, at, reserve)
	return at + reserve + moved, len(e.b)
}

// value appends the fields of an AnyValue holding the JSON value raw,
// typed as the value is: strings, integers (a number without fraction or
// exponent that fits int64), doubles, booleans, objects as key/value
// lists and arrays as arrays; null is the empty AnyValue.
func (e *encoder) value(raw []byte) {
	if len(raw) == 0 {
		return
	}
	switch raw[0] {
	case '"':
		if len(raw) >= 2 {
			e.b = protowire.AppendTag(e.b, fieldValueString, protowire.BytesType)
			e.appendString("", raw[1:len(raw)-1], true)
		}
	case '{':
		var at int
		e.b, at = openField(e.b, fieldValueKVList, 1)
		e.object(fieldKVListValues, "", raw)
		e.b, _ = closeField(e.b, at, 1)
	case '[':
		var at int
		e.b, at = openField(e.b, fieldValueArray, 1)
		e.array(raw)
		e.b, _ = closeField(e.b, at, 1)
	case 't':
		e.b = protowire.AppendTag(e.b, fieldValueBool, protowire.VarintType)
		e.b = append(e.b, 1)
	case 'f':
		e.b = protowire.AppendTag(e.b, fieldValueBool, protowire.VarintType)
		e.b = append(e.b, 0)
	case 'n':
	default:
		e.number(raw)
	}
}

// object appends a KeyValue field numbered num for each member of the
// JSON object raw, keys after prefix, as a map: unique keys.
func (e *encoder) object(num protowire.Number, prefix string, raw []byte) {
	base := len(e.ents)
	for at := 1; ; {
		m, next, ok := jsonbytes.NextMember(raw, at)
		if !ok {
			break
		}
		at = next
		e.keyValue(num, prefix, m.Key(raw), true, raw[m.ValStart:m.ValEnd])
	}
	e.endList(base, e.mapOrder(base))
}

// array appends an ArrayValue.values field for each element of the JSON
// array raw.
func (e *encoder) array(raw []byte) {
	for at := jsonbytes.SkipSpace(raw, 1); at < len(raw) && raw[at] != ']'; {
		end := jsonbytes.SkipValue(raw, at)
		if end <= at { // malformed: a '}' where a value goes never moves on
			return
		}
		var vat int
		e.b, vat = openField(e.b, fieldArrayValues, 1)
		e.value(raw[at:end])
		e.b, _ = closeField(e.b, vat, 1)
		at = jsonbytes.SkipSpace(raw, end)
		if at < len(raw) && raw[at] == ',' {
			at = jsonbytes.SkipSpace(raw, at+1)
		}
	}
}

func (e *encoder) number(raw []byte) {
	if !bytes.ContainsAny(raw, ".eE") {
		if n, ok := parseInt(raw); ok {
			e.b = protowire.AppendTag(e.b, fieldValueInt, protowire.VarintType)
			e.b = protowire.AppendVarint(e.b, uint64(n))
			return
		}
	}
	if f, err := strconv.ParseFloat(string(raw), 64); err == nil {
		e.b = protowire.AppendTag(e.b, fieldValueDouble, protowire.Fixed64Type)
		e.b = protowire.AppendFixed64(e.b, math.Float64bits(f))
		return
	}
	e.b = protowire.AppendTag(e.b, fieldValueString, protowire.BytesType)
	e.appendString("", raw, false)
}

// mapOrder returns the entries from base on in the order they go out as
// a map: each key once, in the place it was first written, with the
// last entry written for it. It is nil when that is the order they were
// written in.
func (e *encoder) mapOrder(base int) []int32 {
	n := len(e.ents) - base
	if n < 2 {
		return nil
	}
	sorted := e.sorted[:0]
	for i := base; i < len(e.ents); i++ {
		sorted = append(sorted, int32(i))
	}
	slices.SortFunc(sorted, func(a, b int32) int {
		if c := bytes.Compare(e.keyOf(a), e.keyOf(b)); c != 0 {
			return c
		}
		return int(a - b)
	})
	e.sorted = sorted
	dup := false
	for i := 1; i < n && !dup; i++ {
		dup = bytes.Equal(e.keyOf(sorted[i-1]), e.keyOf(sorted[i]))
	}
	if !dup {
		return nil
	}
	keep := slices.Grow(e.keep[:0], n)[:n]
	for i := range keep {
		keep[i] = int32(base + i)
	}
	for i := 0; i < n; {
		j := i + 1
		for j < n && bytes.Equal(e.keyOf(sorted[i]), e.keyOf(sorted[j])) {
			keep[sorted[j]-int32(base)] = -1
			j++
		}
		keep[sorted[i]-int32(base)] = sorted[j-1]
		i = j
	}
	e.keep = keep
	order := e.order[:0]
	for _, k := range keep {
		if k >= 0 {
			order = append(order, k)
		}
	}
	e.order = order
	return order
}

// identity returns the entries from base on in the order written.
func (e *encoder) identity(base int) []int32 {
	order := e.order[:0]
	for i := base; i < len(e.ents); i++ {
		order = append(order, int32(i))
	}
	e.order = order
	return order
}

// endList puts the list of entries from base on in order (nil: as
// written) and forgets them. The list must be the end of b.
func (e *encoder) endList(base int, order []int32) {
	if order != nil {
		start := e.ents[base].start
		tmp := e.tmp[:0]
		for _, i := range order {
			en := &e.ents[i]
			tmp = append(tmp, e.b[en.start:en.end]...)
		}
		e.b = append(e.b[:start], tmp...)
		e.tmp = tmp
	}
	e.ents = e.ents[:base]
}

// parseInt is strconv.ParseInt(string(b), 10, 64) without the error,
// which allocates: integers past int64 (ids) are common enough in logs.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '+' || b[0] == '-') {
		neg, b = b[0] == '-', b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' || n > (math.MaxUint64-9)/10 {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	switch {
	case !neg && n <= math.MaxInt64:
		return int64(n), true
	case neg && n <= 1<<63:
		return -int64(n), true
	}
	return 0, false
}
