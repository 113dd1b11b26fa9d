//go:build race

package endpoint_test

// raceEnabled: the tests run under the race detector.
const raceEnabled = true
