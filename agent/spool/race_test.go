//go:build race

package spool

// raceEnabled: the race detector makes sync.Pool allocate.
const raceEnabled = true
