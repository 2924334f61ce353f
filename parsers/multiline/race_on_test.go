//go:build race

package multiline

// raceEnabled: under the race detector sync.Pool (regexp's machines) drops
// items on purpose, so allocation counts are skipped.
const raceEnabled = true
