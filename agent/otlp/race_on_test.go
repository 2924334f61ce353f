//go:build race

package otlp

// raceEnabled: under the race detector sync.Pool drops items on purpose,
// so allocation counts are skipped.
const raceEnabled = true
