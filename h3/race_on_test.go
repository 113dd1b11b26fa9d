//go:build race

package h3

// raceEnabled: the race detector drops a quarter of what goes into a
// sync.Pool, so allocation counts are not checked under it.
const raceEnabled = true
