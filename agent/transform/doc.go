package transform

import (
	"bytes"
	"encoding/binary"
)

// Documents are edited as bytes: the encoder wrote them (valid JSON, one
// object), so members are found by scanning, never by decoding into maps.
// A dotted path names a member by walking objects; a key may itself hold
// dots (kubernetes.labels.app.kubernetes.io/name finds the label
// "app.kubernetes.io/name"), so at each level a key matches when it is
// the rest of the path or a prefix of it followed by a dot.

// span is one member of an object: the key with its quotes at [ks, ke),
// the value at [vs, ve).
type span struct{ ks, ke, vs, ve int }

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index past the string that opens at i, or -1.
// It tests eight bytes at a time for a quote or a backslash: most of a
// document's bytes are inside strings.
func skipString(b []byte, i int) int {
	j := i + 1
	for j+8 <= len(b) {
		w := binary.LittleEndian.Uint64(b[j:])
		if hasByte(w, '"') || hasByte(w, '\\') {
			break
		}
		j += 8
	}
	for ; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// hasByte reports whether any byte of w is c.
func hasByte(w uint64, c byte) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	x := w ^ (lo * uint64(c))
	return (x-lo)&^x&hi != 0
}

// skipValue returns the index past the JSON value at i, or -1.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				if j = skipString(b, j); j < 0 {
					return -1
				}
				j--
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	return j
}

// nextMember reads the member at or after i (past a separating comma) in
// an object; ok is false at the object's end.
func nextMember(b []byte, i int) (m span, next int, ok bool) {
	i = skipWS(b, i)
	if i < len(b) && b[i] == ',' {
		i = skipWS(b, i+1)
	}
	if i >= len(b) || b[i] != '"' {
		return span{}, i, false
	}
	m.ks = i
	if i = skipString(b, i); i < 0 {
		return span{}, 0, false
	}
	m.ke = i
	if i = skipWS(b, i); i >= len(b) || b[i] != ':' {
		return span{}, 0, false
	}
	m.vs = skipWS(b, i+1)
	if m.ve = skipValue(b, m.vs); m.ve < 0 {
		return span{}, 0, false
	}
	return m, m.ve, true
}

// key is the member's key without quotes (escapes left as they are).
func (m span) key(b []byte) []byte { return b[m.ks+1 : m.ke-1] }

// find locates the member at path in the object that opens at obj.
func find(doc []byte, obj int, path string) (span, bool) {
	if obj >= len(doc) || doc[obj] != '{' {
		return span{}, false
	}
	for i := obj + 1; ; {
		m, next, ok := nextMember(doc, i)
		if !ok {
			return span{}, false
		}
		i = next
		k := m.key(doc)
		if len(k) > len(path) || string(k) != path[:len(k)] {
			continue
		}
		if len(k) == len(path) {
			return m, true
		}
		if path[len(k)] == '.' && doc[m.vs] == '{' {
			if s, ok := find(doc, m.vs, path[len(k)+1:]); ok {
				return s, true
			}
		}
	}
}

// findKey locates the member whose key is exactly key in the object that
// opens at obj (no path semantics: label keys hold dots).
func findKey(doc []byte, obj int, key string) (span, bool) {
	if obj >= len(doc) || doc[obj] != '{' {
		return span{}, false
	}
	for i := obj + 1; ; {
		m, next, ok := nextMember(doc, i)
		if !ok {
			return span{}, false
		}
		i = next
		if string(m.key(doc)) == key {
			return m, true
		}
	}
}

// stringValue is the text of a value: a string's contents with escapes
// undone (into scratch when it has any), or a scalar's JSON text.
func stringValue(doc []byte, m span, scratch *[]byte) []byte {
	v := doc[m.vs:m.ve]
	if len(v) < 2 || v[0] != '"' {
		return v
	}
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return inner
	}
	out, err := unescape((*scratch)[:0], inner)
	if err != nil {
		return inner
	}
	*scratch = out
	return out
}

// memberRange is the range to cut to remove member m with one comma.
func memberRange(doc []byte, m span) (from, to int) {
	j := m.ks - 1
	for j >= 0 && (doc[j] == ' ' || doc[j] == '\t' || doc[j] == '\n' || doc[j] == '\r') {
		j--
	}
	if j >= 0 && doc[j] == ',' {
		return j, m.ve
	}
	// The first member: take the comma after it instead.
	k := skipWS(doc, m.ve)
	if k < len(doc) && doc[k] == ',' {
		return m.ks, skipWS(doc, k+1)
	}
	return m.ks, m.ve
}

// splice appends doc with doc[from:to] replaced by ins to dst.
func splice(dst, doc []byte, from, to int, ins []byte) []byte {
	dst = append(dst, doc[:from]...)
	dst = append(dst, ins...)
	return append(dst, doc[to:]...)
}

// insertPoint finds where a member at path that does not exist goes: the
// deepest object along the path that exists. It returns the index of that
// object's closing brace, whether the object has members, the rest of the
// path below it, and, when a scalar sits where an object is needed, that
// member (its value is then replaced by an object).
func insertPoint(doc []byte, obj int, path string) (end int, nonEmpty bool, rest string, clash span, clashed bool) {
	for {
		descended := false
		nonEmpty = false
		var i int
		for i = obj + 1; ; {
			m, next, ok := nextMember(doc, i)
			if !ok {
				break
			}
			nonEmpty = true
			i = next
			k := m.key(doc)
			if len(k) >= len(path) || path[len(k)] != '.' || string(k) != path[:len(k)] {
				continue
			}
			if doc[m.vs] != '{' {
				return 0, false, path[len(k)+1:], m, true
			}
			obj, path, descended = m.vs, path[len(k)+1:], true
			break
		}
		if !descended {
			return skipWS(doc, i), nonEmpty, path, span{}, false
		}
	}
}

// appendNested appends `"a":{"b":raw}` for the path a.b.
func appendNested(dst []byte, path string, raw []byte) []byte {
	depth := 0
	for {
		seg, rest, more := cut(path)
		dst = appendKey(dst, seg)
		if !more {
			dst = append(dst, raw...)
			break
		}
		dst = append(dst, '{')
		depth++
		path = rest
	}
	for range depth {
		dst = append(dst, '}')
	}
	return dst
}

func cut(path string) (seg, rest string, more bool) {
	for i := 0; i < len(path); i++ {
		if path[i] == '.' {
			return path[:i], path[i+1:], true
		}
	}
	return path, "", false
}

func appendKey(dst []byte, k string) []byte {
	dst = appendJSONString(dst, k)
	return append(dst, ':')
}

// set appends to dst the document with the member at path set to raw (a
// JSON value): replaced where it exists, otherwise added, creating the
// objects along the path. ins is scratch.
func set(dst, doc []byte, path string, raw []byte, ins *[]byte) []byte {
	if m, ok := find(doc, 0, path); ok {
		return splice(dst, doc, m.vs, m.ve, raw)
	}
	end, nonEmpty, rest, clash, clashed := insertPoint(doc, 0, path)
	if clashed {
		b := (*ins)[:0]
		b = append(b, '{')
		b = appendNested(b, rest, raw)
		b = append(b, '}')
		*ins = b
		return splice(dst, doc, clash.vs, clash.ve, b)
	}
	b := (*ins)[:0]
	if nonEmpty {
		b = append(b, ',')
	}
	b = appendNested(b, rest, raw)
	*ins = b
	return splice(dst, doc, end, end, b)
}

// dedotKeys replaces the dots in the keys of the object at obj, and of
// the objects inside it, with sep, in place.
func dedotKeys(doc []byte, obj int, sep byte) bool {
	changed := false
	for i := obj + 1; ; {
		m, next, ok := nextMember(doc, i)
		if !ok {
			return changed
		}
		i = next
		for j := m.ks + 1; j < m.ke-1; j++ {
			if doc[j] == '.' {
				doc[j] = sep
				changed = true
			}
		}
		if doc[m.vs] == '{' && dedotKeys(doc, m.vs, sep) {
			changed = true
		}
	}
}
