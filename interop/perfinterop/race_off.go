//go:build !race

package perfinterop

const raceEnabled = false
