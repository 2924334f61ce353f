//go:build race

package timerpool

// raceEnabled: under the race detector sync.Pool drops items on purpose.
const raceEnabled = true
