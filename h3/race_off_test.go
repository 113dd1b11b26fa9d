//go:build !race

package h3

// raceEnabled: see race_on_test.go.
const raceEnabled = false
