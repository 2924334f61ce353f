package elasticsearch

import "encoding/json"

// appendAction appends the bulk action line of one document:
// {"create":{"_index":"<index>","_id":"<id>"}} and a newline, without _id
// when id is empty. index and id must need no JSON escaping (index names
// are cleaned by appendIndexBytes; ids are base64url).
//
// create is used even without ids, so data streams accept the documents.
func appendAction(dst, index, id []byte) []byte {
	dst = append(dst, `{"create":{"_index":"`...)
	dst = append(dst, index...)
	if len(id) > 0 {
		dst = append(dst, `","_id":"`...)
		dst = append(dst, id...)
	}
	return append(dst, "\"}}\n"...)
}

// idFieldPrefix returns `"<field>":"`, the start of the id member that
// appendDoc splices into documents, with the name JSON-escaped.
func idFieldPrefix(field string) []byte {
	key, _ := json.Marshal(field) // a string always marshals
	return append(key, `:"`...)
}

// appendDoc appends doc (a JSON object) and a newline. When idKey and id
// are set, `"<field>":"<id>"` becomes the object's first member. A doc that
// is not an object is appended unchanged and the server judges it.
func appendDoc(dst, doc, idKey, id []byte) []byte {
	if len(idKey) == 0 || len(id) == 0 || len(doc) == 0 || doc[0] != '{' {
		dst = append(dst, doc...)
		return append(dst, '\n')
	}
	dst = appendIDMember(dst, idKey, id)
	rest := doc[1:]
	if !emptyObjectTail(rest) {
		dst = append(dst, ',')
		dst = append(dst, rest...)
	} else {
		dst = append(dst, '}')
	}
	return append(dst, '\n')
}

// appendIDMember appends the start of a document whose first member is
// its id: '{' and `"<field>":"<id>"`, idKey being `"<field>":"`.
func appendIDMember(dst, idKey, id []byte) []byte {
	dst = append(dst, '{')
	dst = append(dst, idKey...)
	dst = append(dst, id...)
	return append(dst, '"')
}

// emptyObjectTail reports whether rest (an object after its '{') holds no
// member: only whitespace before the closing brace.
func emptyObjectTail(rest []byte) bool {
	for _, c := range rest {
		switch c {
		case ' ', '\t', '\r', '\n':
		case '}':
			return true
		default:
			return false
		}
	}
	return false
}

// trimDoc drops trailing whitespace, such as the newline an encoder may
// leave, which would otherwise end the NDJSON line early.
func trimDoc(doc []byte) []byte {
	for len(doc) > 0 {
		switch doc[len(doc)-1] {
		case ' ', '\t', '\r', '\n':
			doc = doc[:len(doc)-1]
		default:
			return doc
		}
	}
	return doc
}
