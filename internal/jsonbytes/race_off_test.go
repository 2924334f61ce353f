//go:build !race

package jsonbytes

const raceEnabled = false
