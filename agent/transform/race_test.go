//go:build race

package transform

// raceEnabled: the race detector makes sync.Pool (and so regexp) allocate.
const raceEnabled = true
