package elasticsearch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// maxScanDepth bounds the nesting scanItems follows, so a hostile answer
// cannot exhaust the stack.
const maxScanDepth = 256

var errDuplicateItems = errors.New(`duplicate "items" key`)

// scanItems walks a _bulk response body once, in place and without
// decoding it, and calls fn with the raw bytes of each element of the
// top-level "items" array; raw is a sub-slice of body. It returns the
// number of items, or an error if body is not a JSON object or ends early.
// It checks structure, not every detail of JSON (escapes, number syntax).
func scanItems(body []byte, fn func(raw []byte)) (int, error) {
	s := jsonScanner{b: body}
	s.ws()
	if !s.eat('{') {
		return 0, s.fail("want an object")
	}
	n, seen := 0, false
	s.ws()
	if s.eat('}') {
		return 0, s.end()
	}
	for {
		s.ws()
		key, err := s.str()
		if err != nil {
			return 0, err
		}
		s.ws()
		if !s.eat(':') {
			return 0, s.fail("want ':'")
		}
		s.ws()
		if isItemsKey(key) && s.peek() == '[' {
			if seen {
				return 0, errDuplicateItems
			}
			seen = true
			s.i++
			s.ws()
			if !s.eat(']') {
				for {
					s.ws()
					start := s.i
					if bytes.HasPrefix(s.b[s.i:], createdItem) {
						s.i += len(createdItem)
					} else if err := s.value(1); err != nil {
						return 0, err
					}
					fn(body[start:s.i])
					n++
					s.ws()
					if s.eat(',') {
						continue
					}
					if s.eat(']') {
						break
					}
					return 0, s.fail("want ',' or ']'")
				}
			}
		} else if err := s.value(1); err != nil {
			return 0, err
		}
		s.ws()
		if s.eat(',') {
			continue
		}
		if s.eat('}') {
			return n, s.end()
		}
		return 0, s.fail("want ',' or '}'")
	}
}

// createdItem is an item as Elasticsearch, OpenSearch and VictoriaLogs
// write a stored document under our filter_path (bulkPath): almost every
// item of every answer. Matching it whole skips the generic walk.
var createdItem = []byte(`{"create":{"status":201}}`)

// isItemsKey reports whether a raw object key says "items", escapes and
// all (`"\u0069tems"` does).
func isItemsKey(key []byte) bool {
	if bytes.IndexByte(key, '\\') < 0 {
		return string(key) == "items"
	}
	var k string
	q := make([]byte, 0, len(key)+2)
	q = append(append(append(q, '"'), key...), '"')
	return json.Unmarshal(q, &k) == nil && k == "items"
}

// jsonScanner steps over JSON text in b from position i.
type jsonScanner struct {
	b []byte
	i int
}

func (s *jsonScanner) fail(what string) error {
	if s.i >= len(s.b) {
		return fmt.Errorf("malformed JSON: %s, found the end at byte %d", what, s.i)
	}
	return fmt.Errorf("malformed JSON: %s, found %q at byte %d", what, s.b[s.i], s.i)
}

func (s *jsonScanner) end() error {
	s.ws()
	if s.i != len(s.b) {
		return s.fail("want the end")
	}
	return nil
}

func (s *jsonScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *jsonScanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *jsonScanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// str steps over a string and returns its raw content, escapes included.
func (s *jsonScanner) str() ([]byte, error) {
	if !s.eat('"') {
		return nil, s.fail("want a string")
	}
	start := s.i
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '\\':
			s.i += 2
		case '"':
			s.i++
			return s.b[start : s.i-1], nil
		default:
			s.i++
		}
	}
	s.i = len(s.b)
	return nil, s.fail("unterminated string")
}

// value steps over one value of any kind.
func (s *jsonScanner) value(depth int) error {
	if depth > maxScanDepth {
		return s.fail("nested too deep")
	}
	s.ws()
	switch c := s.peek(); {
	case c == '{':
		s.i++
		s.ws()
		if s.eat('}') {
			return nil
		}
		for {
			s.ws()
			if _, err := s.str(); err != nil {
				return err
			}
			s.ws()
			if !s.eat(':') {
				return s.fail("want ':'")
			}
			if err := s.value(depth + 1); err != nil {
				return err
			}
			s.ws()
			if s.eat(',') {
				continue
			}
			if s.eat('}') {
				return nil
			}
			return s.fail("want ',' or '}'")
		}
	case c == '[':
		s.i++
		s.ws()
		if s.eat(']') {
			return nil
		}
		for {
			if err := s.value(depth + 1); err != nil {
				return err
			}
			s.ws()
			if s.eat(',') {
				continue
			}
			if s.eat(']') {
				return nil
			}
			return s.fail("want ',' or ']'")
		}
	case c == '"':
		_, err := s.str()
		return err
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		s.i++
		for s.i < len(s.b) {
			switch c := s.b[s.i]; {
			case c >= '0' && c <= '9', c == '.', c == 'e', c == 'E', c == '+', c == '-':
				s.i++
				continue
			}
			break
		}
		return nil
	default:
		return s.fail("want a value")
	}
}

func (s *jsonScanner) literal(lit string) error {
	if !bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		return s.fail("want " + lit)
	}
	s.i += len(lit)
	return nil
}
