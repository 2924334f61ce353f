//go:build !race

package multiline

const raceEnabled = false
