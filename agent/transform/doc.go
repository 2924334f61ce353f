package transform

import (
	"bytes"

	"github.com/sluicelog/sluice/internal/jsonbytes"
)

// Documents are edited as bytes: the encoder wrote them (valid JSON, one
// object), so members are found by scanning, never by decoding into maps.
// A dotted path names a member by walking objects; a key may itself hold
// dots (kubernetes.labels.app.kubernetes.io/name finds the label
// "app.kubernetes.io/name"), so at each level a key matches when it is
// the rest of the path or a prefix of it followed by a dot.

// find locates the member at path in the object that opens at obj.
func find(doc []byte, obj int, path string) (jsonbytes.Member, bool) {
	if obj >= len(doc) || doc[obj] != '{' {
		return jsonbytes.Member{}, false
	}
	for i := obj + 1; ; {
		m, next, ok := jsonbytes.NextMember(doc, i)
		if !ok {
			return jsonbytes.Member{}, false
		}
		i = next
		k := m.Key(doc)
		if len(k) > len(path) || string(k) != path[:len(k)] {
			continue
		}
		if len(k) == len(path) {
			return m, true
		}
		if path[len(k)] == '.' && doc[m.ValStart] == '{' {
			if s, ok := find(doc, m.ValStart, path[len(k)+1:]); ok {
				return s, true
			}
		}
	}
}

// findKey locates the member whose key is exactly key in the object that
// opens at obj (no path semantics: label keys hold dots).
func findKey(doc []byte, obj int, key string) (jsonbytes.Member, bool) {
	if obj >= len(doc) || doc[obj] != '{' {
		return jsonbytes.Member{}, false
	}
	for i := obj + 1; ; {
		m, next, ok := jsonbytes.NextMember(doc, i)
		if !ok {
			return jsonbytes.Member{}, false
		}
		i = next
		if string(m.Key(doc)) == key {
			return m, true
		}
	}
}

// stringValue is the text of a value: a string's contents with escapes
// undone (into scratch when it has any), or a scalar's JSON text.
func stringValue(doc []byte, m jsonbytes.Member, scratch *[]byte) []byte {
	v := doc[m.ValStart:m.ValEnd]
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
func memberRange(doc []byte, m jsonbytes.Member) (from, to int) {
	j := m.KeyStart - 1
	for j >= 0 && (doc[j] == ' ' || doc[j] == '\t' || doc[j] == '\n' || doc[j] == '\r') {
		j--
	}
	if j >= 0 && doc[j] == ',' {
		return j, m.ValEnd
	}
	// The first member: take the comma after it instead.
	k := jsonbytes.SkipSpace(doc, m.ValEnd)
	if k < len(doc) && doc[k] == ',' {
		return m.KeyStart, jsonbytes.SkipSpace(doc, k+1)
	}
	return m.KeyStart, m.ValEnd
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
func insertPoint(doc []byte, obj int, path string) (end int, nonEmpty bool, rest string, clash jsonbytes.Member, clashed bool) {
	for {
		descended := false
		nonEmpty = false
		var i int
		for i = obj + 1; ; {
			m, next, ok := jsonbytes.NextMember(doc, i)
			if !ok {
				break
			}
			nonEmpty = true
			i = next
			k := m.Key(doc)
			if len(k) >= len(path) || path[len(k)] != '.' || string(k) != path[:len(k)] {
				continue
			}
			if doc[m.ValStart] != '{' {
				return 0, false, path[len(k)+1:], m, true
			}
			obj, path, descended = m.ValStart, path[len(k)+1:], true
			break
		}
		if !descended {
			return jsonbytes.SkipSpace(doc, i), nonEmpty, path, jsonbytes.Member{}, false
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
		return splice(dst, doc, m.ValStart, m.ValEnd, raw)
	}
	end, nonEmpty, rest, clash, clashed := insertPoint(doc, 0, path)
	if clashed {
		b := (*ins)[:0]
		b = append(b, '{')
		b = appendNested(b, rest, raw)
		b = append(b, '}')
		*ins = b
		return splice(dst, doc, clash.ValStart, clash.ValEnd, b)
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
		m, next, ok := jsonbytes.NextMember(doc, i)
		if !ok {
			return changed
		}
		i = next
		for j := m.KeyStart + 1; j < m.KeyEnd-1; j++ {
			if doc[j] == '.' {
				doc[j] = sep
				changed = true
			}
		}
		if doc[m.ValStart] == '{' && dedotKeys(doc, m.ValStart, sep) {
			changed = true
		}
	}
}
