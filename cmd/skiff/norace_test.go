//go:build !race

package main

// raceEnabled: the tests build the binary with the race detector too.
const raceEnabled = false
