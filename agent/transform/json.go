package transform

import "github.com/sluicelog/sluice/internal/jsonbytes"

func unescape(dst, quoted []byte) ([]byte, error) { return jsonbytes.Unescape(dst, quoted) }

func appendJSONString(dst []byte, s string) []byte { return jsonbytes.AppendStringString(dst, s) }

func appendJSONBytes(dst, s []byte) []byte { return jsonbytes.AppendString(dst, s) }
