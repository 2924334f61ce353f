package transform

import sjson "github.com/sluicelog/sluice/parsers/json"

func unescape(dst, quoted []byte) ([]byte, error) { return sjson.Unescape(dst, quoted) }

func appendJSONString(dst []byte, s string) []byte { return sjson.AppendStringString(dst, s) }

func appendJSONBytes(dst, s []byte) []byte { return sjson.AppendString(dst, s) }
