//go:build race

package jsonbytes

// raceEnabled: under the race detector sync.Pool drops items on purpose, so
// tests that count allocations of pooled code are skipped.
const raceEnabled = true
